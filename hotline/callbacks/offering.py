"""The callback offer adapter: AMI ``Redirect`` into the offer dialplan, keys back as ``UserEvent``.

Pure decisions live in :mod:`hotline.callbacks.offer`; this component only moves the caller's channel and
calls :meth:`hotline.callbacks.component.CallbacksComponent.accept_callback`. One task
(``callbacks-offers``) does everything in order: it wakes every ``offer_check_s`` (EWT check) or
when the AMI pump or the routing worker posted something. Handlers on the pump only file events.

Dialplan (``asterisk_conf/extensions.conf``, Asterisk 22):

* ``hotline-hold``: ``WaitExten(7200,m(default))``; key ``7`` sends
  ``UserEvent(HotlineCallbackOffer, Stage: demand)`` and goes on holding (on demand offer);
* ``hotline-cb-offer,s,1``: ``Read`` one key over prompt ``hotline/<lang>/cb/offer``, then
  ``UserEvent(HotlineCallbackOffer, Stage: key, Key: <digit or empty>)``;
  ``number,1``: ``Read`` up to 20 digits ended by ``#`` over ``cb/enter_number``, then
  ``UserEvent(... Stage: number, Number: <digits>)``; ``invalid,1`` plays ``cb/invalid_number`` and
  asks again; ``confirm,1`` plays ``cb/confirmed`` and hangs up. After each UserEvent the channel
  waits on music on hold (20 s) for hotline's ``Redirect``, then returns to ``hotline-hold`` by
  itself (hotline gone: the caller keeps waiting).

The events carry the channel's ``Uniqueid`` (the session key; never the channel name). AMI actions
(``Redirect`` with ``Channel: <uniqueid>``) have ``action_timeout_s``; a failed redirect ends the
session (the caller stays where the dialplan keeps them: on hold, still queued).

The call stays in routing during the offer: an agent who becomes free is offered it and the agent
leg's ``Bridge()`` pulls the caller out of the offer (see :mod:`hotline.callbacks.offer`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hotline.callbacks.errors import InvalidNumber
from hotline.callbacks.offer import (
    AcceptCallback,
    AskNumber,
    Decision,
    KeepWaiting,
    OfferSession,
    OfferTrigger,
    may_offer,
    offers_due,
    on_key,
    on_number,
)
from hotline.callbacks.settings import CallbacksSettings
from hotline.kernel.background import BackgroundTask
from hotline.queues.exceptions import CallNotQueued
from hotline.queues.model import WaitingCall
from hotline.queues.routing import OfferCallback, QueuePosition
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiClient, AmiError
from hotline.telephony.frames import AmiMessage

log = logging.getLogger("hotline.callbacks.offer")

USER_EVENT = "HotlineCallbackOffer"

Accept = Callable[..., Awaitable[Any]]


class CallbackOffers:
    """Offers waiting callers a callback (a service component: ``start`` / ``stop``, one task).

    Args:
        ami: the service's AMI client (subscribed in the constructor).
        settings: the ``callbacks:`` section (``offer_*``, ``hold_context``).
        waiting: the routing component's waiting calls (``Dispatcher.waiting``).
        position: (linkedid, serving-agents cache) -> position and EWT (``Dispatcher.position``), None
            if not queued.
        caller_number: caller leg uniqueid -> ``CALLERID(num)`` ('' if unknown).
        accept: ``CallbacksComponent.accept_callback``.
        clock: epoch seconds.
    """

    def __init__(self, ami: AmiClient, settings: CallbacksSettings, *,
                 waiting: Callable[[], Sequence[WaitingCall]],
                 position: Callable[[str, dict[frozenset[str], int]], QueuePosition | None],
                 caller_number: Callable[[str], str],
                 accept: Accept,
                 clock: Callable[[], float] = time.time) -> None:
        self.ami = ami
        self.settings = settings
        self.waiting = waiting
        self.position = position
        self.caller_number = caller_number
        self.accept = accept
        self.clock = clock
        self.sessions: dict[str, OfferSession] = {}  # caller uniqueid -> running offer
        self.offered: set[str] = set()  # linkedids offered automatically (once each)
        self.excluded: set[str] = set()  # linkedids never offered (citizens being called back)
        self.outcomes: dict[str, str] = {}  # linkedid -> last decision (tests, logs)
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._bg = BackgroundTask("callbacks-offers")
        self._stop = self._bg.stopping
        ami.subscribe(self._on_ami)

    # ------------------------------------------------------------------ inputs (sync: pump, routing worker)
    def on_offer_callback(self, cmd: OfferCallback) -> None:
        """The routing core's maximum-wait :class:`OfferCallback` (called on the routing worker)."""
        self._inbox.put_nowait(("max_wait", cmd))

    def _on_ami(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        if isinstance(event, ev.UserEventReceived) and event.name == USER_EVENT:
            self._inbox.put_nowait(("user", event))
        elif isinstance(event, ev.ChannelHungUp) and event.uniqueid in self.sessions:
            self._inbox.put_nowait(("hangup", event))

    # ------------------------------------------------------------------ the task
    async def start(self) -> None:
        """Start the task (returns at once; idempotent)."""
        self._bg.start(self._run)

    async def stop(self) -> None:
        """Ask the task to stop, cancel it and wait for it to end (idempotent)."""
        await self._bg.stop()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_check = loop.time() + self.settings.offer_check_s
        while True:
            try:  # a fixed deadline: a steady stream of events must not starve the EWT check
                async with asyncio.timeout(max(0.0, next_check - loop.time())):
                    kind, item = await self._inbox.get()
            except TimeoutError:
                kind, item = "tick", None
            if kind != "tick" and loop.time() >= next_check:
                await self._safely("tick", None)
            if kind == "tick" or loop.time() >= next_check:
                next_check = loop.time() + self.settings.offer_check_s
            await self._safely(kind, item)

    async def _safely(self, kind: str, item: Any) -> None:
        try:
            await self._handle(kind, item)
        except Exception:  # one bad event must not stop the offers
            log.exception("callback offer: %s failed", kind)

    async def _handle(self, kind: str, item: Any) -> None:
        if kind == "tick":
            await self.check()
        elif kind == "max_wait":
            await self._start_offer(item.linkedid, item.uniqueid, "max_wait")
        elif kind == "hangup":
            self.sessions.pop(item.uniqueid, None)
        elif kind == "user":
            await self._user_event(item)

    async def check(self) -> None:
        """One EWT pass: offer every waiting call over the threshold; drop sessions of calls no
        longer waiting (bridged to an agent, hung up)."""
        waiting = list(self.waiting())
        ids = {c.linkedid for c in waiting}
        for uid, s in list(self.sessions.items()):
            if s.linkedid not in ids:
                self.sessions.pop(uid, None)
                self.outcomes.setdefault(s.linkedid, "left the queue during the offer")

        serving: dict[frozenset[str], int] = {}  # agents serving each skill set, counted once per pass

        def ewt(linkedid: str) -> float | None:
            pos = self.position(linkedid, serving)
            return None if pos is None else pos.ewt_s

        due = offers_due(waiting, ewt, offer_ewt_s=self.settings.offer_ewt_s, offered=self.offered,
                         in_offer={s.linkedid for s in self.sessions.values()}, excluded=self.excluded)
        by_id = {c.linkedid: c for c in waiting}
        for lid in due:
            await self._start_offer(lid, by_id[lid].uniqueid, "ewt")

    async def _start_offer(self, linkedid: str, uniqueid: str, trigger: OfferTrigger) -> None:
        waiting_ids = {c.linkedid for c in self.waiting()}
        in_offer = {s.linkedid for s in self.sessions.values()}
        if not may_offer(linkedid, waiting_ids, in_offer, self.excluded):
            return
        if trigger != "demand":
            self.offered.add(linkedid)
        session = OfferSession(linkedid, uniqueid, self.caller_number(uniqueid), trigger, self.clock())
        self.sessions[uniqueid] = session
        log.info("callback offer to %s (%s)", linkedid, trigger)
        if not await self._redirect(uniqueid, self.settings.offer_context, "s"):
            self.sessions.pop(uniqueid, None)

    async def _user_event(self, event: ev.UserEventReceived) -> None:
        stage = event.headers.get("Stage", "")
        uid = event.uniqueid
        if stage == "demand":
            call = next((c for c in self.waiting() if c.uniqueid == uid), None)
            if call is not None:
                await self._start_offer(call.linkedid, uid, "demand")
            return
        session = self.sessions.get(uid)
        if session is None:
            return  # not our offer (or it ended)
        if stage == "key":
            session, decision = on_key(session, event.headers.get("Key", ""))
        elif stage == "number":
            session, decision = on_number(session, event.headers.get("Number", ""),
                                          max_invalid_numbers=self.settings.offer_max_invalid_numbers)
        else:
            return
        self.sessions[uid] = session
        await self._execute(session, decision)

    async def _execute(self, session: OfferSession, decision: Decision) -> None:
        uid, lid = session.uniqueid, session.linkedid
        if isinstance(decision, AskNumber):
            await self._redirect(uid, self.settings.offer_context, "invalid" if decision.invalid else "number")
            return
        self.sessions.pop(uid, None)
        if isinstance(decision, KeepWaiting):
            self.outcomes[lid] = f"kept waiting: {decision.reason}"
            await self._redirect(uid, self.settings.hold_context, "s")
            return
        assert isinstance(decision, AcceptCallback)
        call = next((c for c in self.waiting() if c.linkedid == lid), None)
        if call is None:  # an agent took the call meanwhile: nothing to keep
            self.outcomes[lid] = "left the queue before the acceptance"
            return
        try:
            request, created = await self.accept(lid, decision.number, call.queue, enqueued_at=call.enqueued_at,
                                                 priority=call.priority, skills=tuple(sorted(call.skills)),
                                                 language=call.language or "zh")
        except InvalidNumber as exc:  # parse_number said yes: cannot happen, keep the caller waiting
            log.warning("callback offer %s: %s", lid, exc)
            await self._redirect(uid, self.settings.hold_context, "s")
            return
        except CallNotQueued:  # an agent's Bridge() took the caller meanwhile: leave them with the agent
            self.outcomes[lid] = "answered before the acceptance"
            return
        self.outcomes[lid] = f"accepted: {request.request_id} ({'new' if created else 'already pending'})"
        await self._redirect(uid, self.settings.offer_context, "confirm")

    async def _redirect(self, uniqueid: str, context: str, exten: str) -> bool:
        try:
            await self.ami.action("Redirect", {"Channel": uniqueid, "Context": context, "Exten": exten,
                                               "Priority": "1"},
                                  timeout=self.settings.action_timeout_s, check=True)
        except AmiError as exc:
            log.info("callback offer: redirect of %s to %s,%s failed: %s", uniqueid, context, exten, exc)
            return False
        return True
