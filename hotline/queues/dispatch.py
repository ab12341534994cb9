"""The routing component: owns :class:`~hotline.queues.routing.RoutingState` and drives Asterisk over AMI.

It is the single owner of agent availability. Everything that changes the state goes through one
inbox and one worker task, in order:

* the IVR's hand-over (:meth:`Dispatcher.enqueue`, a :data:`hotline.queues.handover.HandOver`);
* agent commands (:meth:`login`, :meth:`logout`, :meth:`ready`, :meth:`pause`; the HTTP API and
  ``hotline agent ...`` through :mod:`hotline.queues.control`);
* AMI facts: ``OriginateResponse`` (by the ActionID of our Originate; its ``<null>`` Uniqueid is
  never used) and the end of a leg we track (``Hangup``, or a leg found gone at a
  ``CoreShowChannels`` resync: :class:`hotline.telephony.calls.LegEnded` from the call tracker);
* timers: the worker waits on the inbox with a timeout of :func:`~hotline.queues.routing.next_deadline_at`
  and then calls :func:`~hotline.queues.routing.decide` (one timer for every call and agent, no per-call sleep).

Commands from the core are executed as AMI actions, each with a timeout, each in its own small
task so the worker never waits on Asterisk; a failed action comes back through the inbox as an
event (a failed ``Originate`` is ``OfferFailed("unreachable")``).

How a caller reaches an agent (verified on the lab's Asterisk 22): the caller waits on music on
hold in dialplan context ``hotline-hold``. :class:`~hotline.queues.routing.OfferCall` becomes
``Originate(Channel=PJSIP/<agent>, Application=Bridge, Data=<caller uniqueid>,x, ChannelId=<new
uniqueid>, Timeout=ring_timeout_s*1000, Async=true, CallerID=<citizen>)``. On answer the agent leg
runs ``Bridge()``, which pulls the caller out of the hold context into a bridge with the agent (the
agent leg then takes the caller's linkedid); ``x`` hangs the caller up when the agent leaves.
``OriginateResponse`` ``Reason`` 4 -> ``CallAnswered``; 3 -> ``OfferFailed("no_answer")`` (agent
NOT_READY "missed", caller back at the front of the line and offered to the next agent); 5 busy,
1 rejected, 0/8 unreachable. :class:`~hotline.queues.routing.CancelOffer` hangs up the agent leg by its
uniqueid (AMI ``Hangup`` accepts one). No channel name is ever a key.

No agent is left reserved: every offer has a deadline in the core (ring timeout +
``routing.offer_grace_s``, run by the worker's one timer). The agent leg's ``Hangup`` (its
``ChannelId`` uniqueid) with no ``OriginateResponse`` yet shortens it to
:data:`~hotline.queues.routing.LEG_END_GRACE_S` (the response normally follows the ``Hangup`` and says
why); past the deadline the offer fails as ``lost``: the agent goes back to READY (a technical
failure is not the agent's fault: not "missed"), the caller back to the front, the leg is hung up
and a late ``OriginateResponse`` is ignored. An ``Originate`` whose action fails because the AMI
connection dropped is not failed blindly (it may have gone through): it waits like any ringing
offer. When the AMI connection drops (``AmiConnectionChanged``) routing is suspended (no offer is
made, none expires: only Asterisk knows whether the agent answered); after the reconnect the
ringing offers are matched with ``CoreShowChannels`` (agent leg up -> answered, gone -> ``lost``,
still ringing -> its ``OriginateResponse`` will come, now that we listen again) and routing
resumes: overdue offers get ``offer_grace_s`` more, waiting callers are offered again, best first.

Every input event and every fact the core emits is appended to the routing event log and applied
to a live :class:`~hotline.queues.metrics.MetricsState` (replayed from the log at start), and the state is
saved to Redis after changes (:class:`~hotline.queues.store.SnapshotSaver`, coalesced).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.kernel.subscribers import Subscribers
from hotline.queues import routing as rt
from hotline.queues.codec import snapshot_to_json
from hotline.queues.config import RoutingSettings
from hotline.queues.dispatch_rules import (
    ANSWERED,
    CallerLeg,
    call_queued,
    caller_left,
    originate_fields,
    originate_outcome,
    ringing_offer_verdict,
)
from hotline.queues.eventlog import RoutingEventLog, read_events
from hotline.queues.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentSkillsChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    Event,
    IvrEnded,
    IvrEntered,
    OfferFailed,
)
from hotline.queues.exceptions import CallNotQueued, QueuesError, UnknownQueue
from hotline.queues.handover import QueueRequest
from hotline.queues.metrics import MetricsConfig, MetricsState, replay
from hotline.queues.model import Agent, AgentState, AgentStatus, QueueConfig, WaitingCall
from hotline.queues.store import RoutingStore, RoutingStoreError, SnapshotSaver
from hotline.telephony import events as tev
from hotline.telephony.ami import AmiClient, AmiConnectionError, AmiError, FieldValue
from hotline.telephony.calls import CallEvent, LegEnded
from hotline.telephony.frames import AmiMessage
from hotline.telephony.tracker import CallTracker

__all__ = ["DispatchStats", "Dispatcher", "RoutingChanged", "RoutingUnavailable"]

log = logging.getLogger("hotline.routing")


class RoutingUnavailable(QueuesError, TimeoutError):
    """The routing worker did not take a request in time (not started, or stopped)."""


@dataclass
class DispatchStats:
    """Counters since start (for ``/metrics`` and the demo summary)."""

    events: int = 0
    offers: int = 0
    originate_failures: int = 0
    cancels: int = 0
    lost_offers: int = 0  # offers failed as "lost" (deadline, leg gone, AMI lost)
    suspensions: int = 0  # AMI connection losses that suspended routing
    restored_calls: int = 0
    closed_at_restore: int = 0
    worker_errors: int = 0


@dataclass(frozen=True, slots=True)
class RoutingChanged:
    """The routing state or its statistics changed (published once per change, after it is applied).

    Attributes:
        at: epoch s (the dispatcher's clock) when the change was applied.
        events_applied: the statistics' event count after the change
            (:attr:`hotline.queues.metrics.MetricsState.events_applied`).
    """

    at: float
    events_applied: int


@dataclass(frozen=True, slots=True)
class _Input:
    event: Any
    reply: asyncio.Future[None] | None = None
    from_ami: bool = False


@dataclass(frozen=True, slots=True)
class _Enqueue:
    request: QueueRequest
    reply: asyncio.Future[None] | None = None


@dataclass(frozen=True, slots=True)
class _LegGone:
    uniqueid: str
    at: float


@dataclass(frozen=True, slots=True)
class _Connection:
    connected: bool  # AmiConnectionChanged


@dataclass(frozen=True, slots=True)
class _Resume:
    generation: int  # the connection generation whose reconciliation finished


_Item = _Input | _Enqueue | _LegGone | _Connection | _Resume


class Dispatcher:
    """The routing component (``start``/``stop``; add it to ``Service.components``).

    Args:
        ami: the service's AMI client (subscribed for ``OriginateResponse``).
        tracker: the call tracker (subscribed for leg ends; its model is the resync source).
        queues, agents: the routing configuration (:func:`hotline.queues.config.load_agents_file`).
        settings: the ``routing`` settings section.
        store: Redis snapshot store, or None (state lives in memory only).
        event_log: routing event log, or None (statistics from this run only).
        clock: epoch-seconds clock.
        timezone: local day of the statistics.
    """

    def __init__(self, ami: AmiClient, tracker: CallTracker, queues: Iterable[QueueConfig], agents: Iterable[Agent],
                 *, settings: RoutingSettings | None = None, store: RoutingStore | None = None,
                 event_log: RoutingEventLog | None = None, clock: Callable[[], float] = time.time,
                 timezone: str = "Asia/Shanghai") -> None:
        self.ami = ami
        self.tracker = tracker
        self.settings = settings or RoutingSettings()
        self.queues = list(queues)
        self.agents = list(agents)
        self.store = store
        self.event_log = event_log
        self.clock = clock
        self.timezone = timezone
        self.state = rt.RoutingState.create(self.queues, self.agents, self.settings.order, now=clock(),
                                            offer_grace_s=self.settings.offer_grace_s)
        self.metrics = MetricsState(MetricsConfig.from_queues(self.queues, timezone))
        self.stats = DispatchStats()
        self._calls: dict[str, CallerLeg] = {}  # linkedid -> adapter record
        self._by_uid: dict[str, str] = {}  # caller or agent leg uniqueid -> linkedid
        self._originates: dict[str, tuple[str, str]] = {}  # ActionID -> (linkedid, agent_id)
        self._inbox: asyncio.Queue[_Item] = asyncio.Queue()
        self._generation = 0  # + 1 per AmiConnectionChanged: a stale reconciliation does not resume
        self._actions: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._saver = (SnapshotSaver(store, self._render_snapshot) if store is not None else None)
        #: subscription lists (subscribe with :meth:`subscribe_answered` ...; published on the worker)
        self.answered: Subscribers[CallAnswered] = Subscribers("routing answered", _linkedid)
        self.offer_callback: Subscribers[rt.OfferCallback] = Subscribers("routing offer-callback", _linkedid)
        self.changed: Subscribers[RoutingChanged] = Subscribers("routing changed")
        ami.subscribe(self._on_ami)
        tracker.subscribe(self._on_call_event)

    # ------------------------------------------------------------------ subscriptions
    def subscribe_answered(self, fn: Callable[[CallAnswered], object]) -> None:
        """``fn(event)`` when an agent answered a queued call (``CallAnswered`` applied, the agent ON_CALL
        for it; source: AMI ``OriginateResponse`` Reason 4, or a reconnect/restart reconciliation).
        Called on the routing worker, in subscription order: must not block."""
        self.answered.subscribe(fn)

    def subscribe_offer_callback(self, fn: Callable[[rt.OfferCallback], object]) -> None:
        """``fn(command)`` for each :class:`hotline.queues.routing.OfferCallback` the core emits (a caller
        reached the queue's callback-offer wait). On the worker: must not block. Without any
        subscriber the command is only logged."""
        self.offer_callback.subscribe(fn)

    def subscribe_changed(self, fn: Callable[[RoutingChanged], object]) -> None:
        """``fn(change)`` once after each change of the routing state or statistics: an inbox item
        (hand-over, agent command, AMI fact, timer) that applied at least one event, or an IVR
        start/end recorded by :meth:`record_ivr`. Synchronous, must not block (coalesce in the
        subscriber: e.g. :class:`hotline.web.hub.WallboardHub`)."""
        self.changed.subscribe(fn)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Restore from Redis, replay today's statistics, reconcile with AMI, then start routing.

        A Redis or AMI problem at start is logged and routing starts from what it has (never
        refuses to start: callers must be served).
        """
        if self._worker is not None:
            return
        await self._restore()
        await self._replay_metrics()
        await self._reconcile()
        if not self.ami.connected:  # resumed by the AmiConnectionChanged of the login
            rt.suspend(self.state)
        if self._saver is not None:
            self._saver.start()
            self._saver.mark_dirty()
        self._worker = asyncio.create_task(self._run(), name="routing-worker")

    async def stop(self) -> None:
        """Stop routing (waiting callers stay on hold in Asterisk), save the state, close the log."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for task in list(self._actions):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), self.settings.action_timeout_s)
        if self._saver is not None:
            await self._saver.stop()
        if self.event_log is not None:
            await asyncio.to_thread(self.event_log.close)

    async def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the inbox is processed, its events are in the routing log and the latest state
        is in Redis (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(self._inbox.join(), timeout)
        except TimeoutError:
            return False
        if self.event_log is not None and not await asyncio.to_thread(
                self.event_log.flush, max(0.0, deadline - time.monotonic())):
            return False
        if self._saver is None:
            return True
        return await self._saver.flush(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------ API (HandOver, agents)
    async def enqueue(self, request: QueueRequest) -> None:
        """Queue a caller handed over by the IVR (:data:`hotline.queues.handover.HandOver`).

        The caller must already wait in ``hotline-hold``. A caller already queued is ignored.

        Raises:
            UnknownQueue: ``request.queue`` is not configured.
            RoutingUnavailable: the component is not running.
        """
        await self._submit(_Enqueue(request, asyncio.get_running_loop().create_future()))

    async def login(self, agent_id: str) -> None:
        """LOGGED_OUT -> NOT_READY("after_login"). Raises IllegalTransition / UnknownAgent / RoutingUnavailable."""
        await self._command(AgentLoggedIn(agent_id, self.clock()))

    async def logout(self, agent_id: str) -> None:
        """-> LOGGED_OUT (a ringing offer is withdrawn and the caller requeued). Raises as :meth:`login`."""
        await self._command(AgentLoggedOut(agent_id, self.clock()))

    async def ready(self, agent_id: str) -> None:
        """-> READY (ends wrap-up early); the agent may be offered a call at once. Raises as :meth:`login`."""
        await self._command(AgentReady(agent_id, self.clock()))

    async def callback_requested(self, event: CallbackRequested) -> None:
        """The caller accepted a callback: the call leaves its queue, counted as ``callback`` (not an
        abandon); its later hangup is not logged as an abandon.

        Raises:
            CallNotQueued: the call is not waiting or ringing an agent any more (an agent answered it
                meanwhile, or it ended): nothing changed, the caller is not to be called back.
            RoutingUnavailable: the routing worker did not answer in time.
        """
        await self._command(event)

    async def pause(self, agent_id: str, reason: str) -> None:
        """-> NOT_READY(reason) (``break``, ``lunch``, ``training`` ...). Raises as :meth:`login`."""
        await self._command(AgentPaused(agent_id, reason, self.clock()))

    async def change_skills(self, agent: Agent) -> None:
        """Replace the configured agent ``agent.id`` by ``agent`` (new skills / languages), through the
        inbox (the one writer of routing state). Raises UnknownAgent / RoutingUnavailable."""
        await self._command(AgentSkillsChanged(agent, self.clock()))

    def record_ivr(self, event: IvrEntered | IvrEnded, *, log_it: bool = True) -> None:
        """Apply an IVR session start/end to the live statistics and (``log_it``) append it to the routing
        event log (a restart replays it); then publish :class:`RoutingChanged`. Synchronous, on the event
        loop (the log write is queued to the writer thread)."""
        self.metrics.apply(event)
        if log_it and self.event_log is not None:
            self.event_log.append(event)
        self.changed.publish(RoutingChanged(self.clock(), self.metrics.events_applied))

    # ------------------------------------------------------------------ read API
    def agent_state(self, agent_id: str) -> AgentState:
        """The agent's current state (KeyError if not configured)."""
        return self.state.agent_states[agent_id]

    def waiting(self) -> list[WaitingCall]:
        """Calls waiting for an agent (not ringing one), in arrival order."""
        return self.state.waiting_calls()

    def tracked(self) -> dict[str, str | None]:
        """Every queued call: linkedid -> agent ringing for it (None while waiting)."""
        return self.state.tracked_calls()

    def position(self, linkedid: str, serving_cache: dict[frozenset[str], int] | None = None
                 ) -> rt.QueuePosition | None:
        """Position in line and EWT of a caller (None if not queued); ``serving_cache``: see
        :func:`hotline.queues.routing.position_and_ewt` (one dict per pass over many callers)."""
        return rt.position_and_ewt(self.state, linkedid, self.clock(), serving_cache)

    def report(self, now: float | None = None) -> dict[str, object]:
        """Today's statistics and the live view for the wallboard
        (:meth:`hotline.queues.metrics.MetricsState.report`)."""
        return self.metrics.report(self.clock() if now is None else now)

    # ------------------------------------------------------------------ inbox
    async def _submit(self, item: _Input | _Enqueue) -> None:
        if self._worker is None or self._worker.done():
            raise RoutingUnavailable("the routing component is not running")
        self._inbox.put_nowait(item)
        assert item.reply is not None
        try:
            await asyncio.wait_for(asyncio.shield(item.reply), self.settings.action_timeout_s)
        except TimeoutError:
            raise RoutingUnavailable(f"routing did not answer within {self.settings.action_timeout_s}s") from None

    async def _command(self, event: Event) -> None:
        await self._submit(_Input(event, asyncio.get_running_loop().create_future()))

    def _on_ami(self, msg: AmiMessage | None, event: tev.DomainEvent | None) -> None:
        # synchronous, in pump order: only look up and enqueue
        if isinstance(event, tev.OriginateResponded):
            pending = self._originates.pop(event.action_id, None)
            if pending is None:
                return
            linkedid, agent_id = pending
            outcome = originate_outcome(event.reason)
            if outcome == ANSWERED:
                self._inbox.put_nowait(_Input(CallAnswered(linkedid, agent_id, event.at), from_ami=True))
            else:
                self._inbox.put_nowait(_Input(OfferFailed(linkedid, agent_id, event.at, outcome), from_ami=True))
        elif isinstance(event, tev.AmiConnectionChanged):
            self._inbox.put_nowait(_Connection(event.connected))

    def _on_call_event(self, event: CallEvent) -> None:
        if isinstance(event, LegEnded) and event.uniqueid in self._by_uid:
            self._inbox.put_nowait(_LegGone(event.uniqueid, event.at))

    # ------------------------------------------------------------------ the worker
    async def _run(self) -> None:
        inbox = self._inbox
        while True:
            due_at = rt.next_deadline_at(self.state)
            item: _Item | None
            if due_at is None:
                item = await inbox.get()
            else:
                try:
                    item = await asyncio.wait_for(inbox.get(), max(0.0, due_at - self.clock()))
                except TimeoutError:
                    item = None
            now = self.clock()
            reply = getattr(item, "reply", None)
            before = self._progress()
            try:
                if item is None:
                    _, out = rt.decide(self.state, now)
                    self._after(None, out, now)
                elif isinstance(item, _Enqueue):
                    self._enqueue(item.request, now)
                elif isinstance(item, _LegGone):
                    self._leg_gone(item, now)
                elif isinstance(item, _Connection):
                    self._connection_changed(item.connected)
                elif isinstance(item, _Resume):
                    if item.generation == self._generation and self.ami.connected:
                        _, out = rt.resume(self.state, now)
                        log.info("routing resumed after the AMI reconnect (%d calls waiting)", len(self.waiting()))
                        self._after(None, out, now)
                else:
                    self._apply(item.event, now)
            except Exception as exc:  # the routing pump's one broad except: report, log, carry on
                if reply is not None and not reply.done():
                    reply.set_exception(exc)
                if not isinstance(exc, QueuesError) or reply is None:
                    self.stats.worker_errors += 1
                    log.exception("routing could not apply %r (linkedid=%s)", item,
                                  getattr(getattr(item, "event", None), "linkedid", ""))
            else:
                if reply is not None and not reply.done():
                    reply.set_result(None)
            finally:
                if self._saver is not None:
                    self._saver.mark_dirty()
                if self._progress() != before:
                    self.changed.publish(RoutingChanged(now, self.metrics.events_applied))
                if item is not None:
                    inbox.task_done()

    def _progress(self) -> int:
        """Moves whenever an event is applied (an input the core accepted, or a fact it emitted: each is
        recorded in the statistics): the change notification's trigger. A refused command moves nothing."""
        return self.metrics.events_applied

    def _enqueue(self, request: QueueRequest, now: float) -> None:
        if request.linkedid in self._calls:
            return
        event = call_queued(request, now)
        if event.queue not in self.state.queues:
            raise UnknownQueue(event.queue)
        self._calls[request.linkedid] = CallerLeg(request.linkedid, request.uniqueid, request.channel,
                                                  request.caller_num)
        self._by_uid[request.uniqueid] = request.linkedid
        self._apply(event, now)
        leg = self.tracker.model.legs.get(request.uniqueid)
        if leg is not None and leg.ended_at is not None:  # hung up during the hand-over
            self._apply(CallAbandoned(request.linkedid, leg.ended_at), now)

    def _leg_gone(self, item: _LegGone, now: float) -> None:
        linkedid = self._by_uid.pop(item.uniqueid, None)
        rec = self._calls.get(linkedid) if linkedid else None
        if rec is None:
            return
        if item.uniqueid == rec.uniqueid:
            self._apply(caller_left(rec.connected, rec.linkedid, item.at), now)
        elif item.uniqueid == rec.agent_uniqueid and rec.connected:
            self._apply(AnsweredCallEnded(rec.linkedid, item.at), now)
        elif item.uniqueid == rec.agent_uniqueid and rec.agent_id is not None:
            # ended while ringing: the OriginateResponse that follows says why; without one the
            # offer is lost after LEG_END_GRACE_S (the core's deadline)
            rt.offer_leg_ended(self.state, rec.linkedid, rec.agent_id, now)

    def _connection_changed(self, connected: bool) -> None:
        self._generation += 1
        if not connected:
            if not self.state.suspended:
                self.stats.suspensions += 1
                log.warning("routing suspended: AMI connection lost (%d offers ringing, %d calls waiting)",
                            sum(1 for a in self.tracked().values() if a is not None), len(self.waiting()))
            rt.suspend(self.state)
        elif self.state.suspended:
            self._spawn(self._reconcile_offers(self._generation), "routing-reconnect")

    async def _reconcile_offers(self, generation: int) -> None:
        """After a reconnect: match ringing offers with ``CoreShowChannels``, then resume routing.

        The verdicts (:func:`hotline.queues.dispatch_rules.ringing_offer_verdict`) enter the inbox before
        the resume, so the caller of a lost offer is routed by the resume, best first. A failed
        resync resumes anyway: the offers' deadlines settle them.
        """
        try:
            await self.tracker.resync()
        except (AmiError, TimeoutError) as exc:
            log.warning("routing: AMI resync after the reconnect failed (%s); offer deadlines will settle", exc)
        else:
            legs = self.tracker.model.legs
            now = self.clock()
            for rec in list(self._calls.values()):
                if rec.agent_id is None or rec.connected or rec.agent_uniqueid is None:
                    continue
                verdict = ringing_offer_verdict(legs.get(rec.agent_uniqueid))
                if verdict == ANSWERED:
                    self._inbox.put_nowait(_Input(CallAnswered(rec.linkedid, rec.agent_id, now), from_ami=True))
                elif verdict == rt.LOST:
                    self._inbox.put_nowait(_Input(OfferFailed(rec.linkedid, rec.agent_id, now, rt.LOST),
                                                  from_ami=True))
        self._inbox.put_nowait(_Resume(generation))

    def _apply(self, event: Event, now: float) -> None:
        if isinstance(event, OfferFailed) and event.reason == rt.LOST:
            self.stats.lost_offers += 1
        if isinstance(event, CallbackRequested) and event.linkedid not in self.state.tracked_calls():
            raise CallNotQueued(event.linkedid)  # answered meanwhile: keep its agent leg followed
        self.stats.events += 1
        rec = self._calls.get(getattr(event, "linkedid", "") or "")
        if isinstance(event, OfferFailed) and rec is not None and rec.agent_id == event.agent_id:
            self._forget_offer(rec)
        _, out = rt.handle(self.state, event, now)
        self._record(event)
        if isinstance(event, CallAnswered) and rec is not None:
            st = self.state.agent_states.get(event.agent_id)
            if st is not None and st.status is AgentStatus.ON_CALL and st.linkedid == event.linkedid:
                rec.connected = True
                self.answered.publish(event)
        self._after(event, out, now)
        if isinstance(event, (CallAbandoned, AnsweredCallEnded, CallbackRequested)) and rec is not None:
            self._drop(rec)

    def _after(self, event: Event | None, out: list[rt.Output], now: float) -> None:
        for o in out:
            if isinstance(o, rt.OfferCall):
                self._offer(o)
            elif isinstance(o, rt.CancelOffer):
                self._cancel(o)
            elif isinstance(o, rt.SendToVoicemail):
                self._voicemail(o)
            elif isinstance(o, rt.OfferCallback) and self.offer_callback:
                self.offer_callback.publish(o)
            elif isinstance(o, (rt.OverflowCall, rt.OfferCallback)):
                log.info("routing: %s", o)
            else:
                if isinstance(o, OfferFailed):
                    self.stats.lost_offers += 1
                    log.warning("offer to agent %s got no answer nor failure by its deadline (linkedid=%s): "
                                "lost, agent ready again, caller back at the front", o.agent_id, o.linkedid)
                self._record(o)

    def _record(self, event: object) -> None:
        self.metrics.apply(event)
        if self.event_log is not None:
            self.event_log.append(event)

    # ------------------------------------------------------------------ commands -> AMI
    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)

    def _offer(self, cmd: rt.OfferCall) -> None:
        rec = self._calls.get(cmd.linkedid)
        if rec is None:  # a call restored without its adapter record: the uniqueid is enough to bridge
            rec = self._calls[cmd.linkedid] = CallerLeg(cmd.linkedid, cmd.uniqueid)
            self._by_uid[cmd.uniqueid] = cmd.linkedid
        agent_uid = f"hlq-{uuid.uuid4().hex[:20]}"
        action_id = self.ami.next_action_id("Originate")
        rec.agent_id, rec.agent_uniqueid, rec.action_id, rec.connected = cmd.agent_id, agent_uid, action_id, False
        self._by_uid[agent_uid] = cmd.linkedid
        self._originates[action_id] = (cmd.linkedid, cmd.agent_id)
        fields = originate_fields(cmd, rec, agent_uid, endpoint=self.settings.endpoint,
                                  bridge_options=self.settings.bridge_options)
        self.stats.offers += 1
        self._spawn(self._originate(action_id, fields, cmd, agent_uid), f"originate-{cmd.linkedid}")

    async def _originate(self, action_id: str, fields: Mapping[str, FieldValue], cmd: rt.OfferCall,
                         agent_uid: str) -> None:
        error, reason = "", "unreachable"
        try:
            resp = await self.ami.action("Originate", fields, timeout=self.settings.action_timeout_s,
                                         action_id=action_id)
            if not resp.ok:
                error = resp.message or "refused"  # Asterisk refused to ring this endpoint
        except AmiConnectionError as exc:
            # sent or not, we cannot tell: the offer waits (reconnect reconciliation, or its deadline)
            log.warning("originate to agent %s (linkedid=%s): %s; settled after the reconnect or at its deadline",
                        cmd.agent_id, cmd.linkedid, exc)
            return
        except AmiError as exc:
            error, reason = f"{type(exc).__name__}: {exc}", rt.LOST  # ours, not the agent's
        if not error or action_id not in self._originates:
            return
        self._originates.pop(action_id, None)
        self.stats.originate_failures += 1
        log.warning("originate to agent %s failed (linkedid=%s): %s", cmd.agent_id, cmd.linkedid, error)
        await self._hangup(agent_uid)  # in case it went through after a timeout
        self._inbox.put_nowait(_Input(OfferFailed(cmd.linkedid, cmd.agent_id, self.clock(), reason),
                                      from_ami=True))

    def _cancel(self, cmd: rt.CancelOffer) -> None:
        rec = self._calls.get(cmd.linkedid)
        if rec is None or rec.agent_id != cmd.agent_id or rec.agent_uniqueid is None:
            return
        agent_uid = rec.agent_uniqueid
        self._forget_offer(rec)
        self.stats.cancels += 1
        self._spawn(self._hangup(agent_uid), f"cancel-{cmd.linkedid}")

    def _forget_offer(self, rec: CallerLeg) -> None:
        """The offer is over: a late OriginateResponse for it is dropped, its leg no longer tracked."""
        if rec.action_id is not None:
            self._originates.pop(rec.action_id, None)
        if rec.agent_uniqueid is not None:
            self._by_uid.pop(rec.agent_uniqueid, None)
        rec.agent_id = rec.agent_uniqueid = rec.action_id = None
        rec.connected = False

    async def _hangup(self, uniqueid: str) -> None:
        try:
            await self.ami.action("Hangup", {"Channel": uniqueid, "Cause": 16}, timeout=self.settings.action_timeout_s)
        except AmiError as exc:
            log.info("hangup of %s: %s", uniqueid, exc)

    def _voicemail(self, cmd: rt.SendToVoicemail) -> None:
        rec = self._calls.get(cmd.linkedid)
        if rec is not None:
            self._drop(rec)
        if self.settings.voicemail:
            context, exten, priority = ([*self.settings.voicemail.split(","), "s", "1"])[:3]
            fields: dict[str, FieldValue] = {"Channel": cmd.uniqueid, "Context": context, "Exten": exten,
                                         "Priority": priority}
            self._spawn(self._redirect(fields, cmd), f"voicemail-{cmd.linkedid}")
        else:
            log.warning("caller %s reached the maximum wait and no voicemail is configured: hanging up",
                        cmd.linkedid)
            self._spawn(self._hangup(cmd.uniqueid), f"voicemail-{cmd.linkedid}")

    async def _redirect(self, fields: Mapping[str, FieldValue], cmd: rt.SendToVoicemail) -> None:
        try:
            await self.ami.action("Redirect", fields, timeout=self.settings.action_timeout_s, check=True)
        except AmiError as exc:
            log.warning("redirect to voicemail failed (linkedid=%s): %s", cmd.linkedid, exc)

    def _drop(self, rec: CallerLeg) -> None:
        self._forget_offer(rec)
        self._calls.pop(rec.linkedid, None)
        self._by_uid.pop(rec.uniqueid, None)

    # ------------------------------------------------------------------ persistence and recovery
    def _render_snapshot(self) -> str:
        extra = {"calls": {lid: dataclasses.asdict(rec) for lid, rec in self._calls.items()}}
        return snapshot_to_json(self.state.snapshot(), extra)

    async def _restore(self) -> None:
        if self.store is None:
            return
        try:
            loaded = await self.store.load()
        except (RoutingStoreError, ValueError) as exc:
            log.error("routing state not restored, starting empty: %s", exc)
            return
        if loaded is None:
            return
        snapshot, extra = loaded
        try:
            self.state = rt.RoutingState.restore(self.queues, self.agents, snapshot, self.settings.order,
                                                 offer_grace_s=self.settings.offer_grace_s)
        except QueuesError as exc:
            log.error("routing snapshot does not match the agents file, starting empty: %s", exc)
            return
        tracked = self.state.tracked_calls()
        on_call = {st.linkedid for st in snapshot.agent_states if st.status is AgentStatus.ON_CALL}
        for lid, data in (extra.get("calls") or {}).items():
            if lid in tracked or lid in on_call:
                self._calls[lid] = CallerLeg(**data)
        for call, _agent in snapshot.calls:  # calls without a record still have their caller uniqueid
            self._calls.setdefault(call.linkedid, CallerLeg(call.linkedid, call.uniqueid))
        for st in snapshot.agent_states:  # answered calls: the record keeps the legs for the hangup
            if st.status is AgentStatus.ON_CALL and st.linkedid and st.linkedid not in self._calls:
                log.warning("agent %s on call %s: no leg record, the call end will come from the wrap-up only",
                            st.agent_id, st.linkedid)
        self.stats.restored_calls = len(tracked)
        log.info("routing state restored: %d calls queued, %d agents logged in", len(tracked),
                 sum(1 for s in snapshot.agent_states if s.status is not AgentStatus.LOGGED_OUT))

    async def _replay_metrics(self) -> None:
        if self.event_log is None:
            return
        tz = ZoneInfo(self.timezone)
        midnight = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        config = self.metrics.config

        def load() -> MetricsState:
            return replay(read_events(self.event_log.path, since_at=midnight), config)  # type: ignore[union-attr]

        self.metrics = await asyncio.to_thread(load)

    async def _reconcile(self) -> None:
        """Match the restored calls with the channels Asterisk has now (``CoreShowChannels``).

        A caller whose leg is still up stays queued (not dropped); one whose leg is gone is closed
        (abandoned, or ended if an agent had answered). A ringing offer whose agent leg is up is
        answered; one whose agent leg is gone is ``lost`` (agent READY, the caller keeps their
        place); one still ringing waits for its ``OriginateResponse`` (Asterisk sends it to every
        AMI session), or its deadline.
        """
        if not self._calls:
            return
        try:
            await self.tracker.resync()
        except (AmiError, TimeoutError) as exc:
            log.warning("routing: AMI resync failed (%s); restored calls are kept until their hangup is seen", exc)
            for rec in self._calls.values():
                self._track_legs(rec)
            return
        legs = self.tracker.model.legs
        now = self.clock()

        def alive(uid: str | None) -> bool:
            leg = legs.get(uid) if uid else None
            return leg is not None and leg.ended_at is None

        for rec in list(self._calls.values()):
            if not alive(rec.uniqueid):
                self.stats.closed_at_restore += 1
                self._inbox.put_nowait(_Input(caller_left(rec.connected, rec.linkedid, now), from_ami=True))
                continue
            self._track_legs(rec)
            if rec.connected and not alive(rec.agent_uniqueid):
                self._inbox.put_nowait(_Input(AnsweredCallEnded(rec.linkedid, now), from_ami=True))
            elif rec.agent_id is not None and not rec.connected:
                verdict = ringing_offer_verdict(legs.get(rec.agent_uniqueid or ""))
                if verdict == ANSWERED:
                    self._inbox.put_nowait(_Input(CallAnswered(rec.linkedid, rec.agent_id, now), from_ami=True))
                elif verdict == rt.LOST:
                    self._inbox.put_nowait(_Input(OfferFailed(rec.linkedid, rec.agent_id, now, rt.LOST),
                                                  from_ami=True))
                elif rec.action_id is not None:
                    self._originates[rec.action_id] = (rec.linkedid, rec.agent_id)

    def _track_legs(self, rec: CallerLeg) -> None:
        self._by_uid[rec.uniqueid] = rec.linkedid
        if rec.agent_uniqueid is not None:
            self._by_uid[rec.agent_uniqueid] = rec.linkedid


def _linkedid(item: CallAnswered | rt.OfferCallback) -> str:
    return f"linkedid={item.linkedid}"
