"""Skill-based routing core (pure): who gets which caller, when, and what the adapter must do.

Entry points (no I/O, no asyncio, ``now`` in epoch seconds always passed in)::

    state = RoutingState.create(queues, agents)           # or RoutingState.restore(..., snapshot)
    state, outputs = handle(state, event, now)            # one input event (queues.events)
    state, outputs = decide(state, now)                   # timer tick: expansion, overflow,
                                                          # max wait, wrap-up expiry
    due_at = next_deadline_at(state)                      # when to call decide() next
    pos = position_and_ewt(state, linkedid, now)          # position in line and EWT (s)
    start_new_day(state)                                  # at local midnight: calls_today = 0
    offer_leg_ended(state, linkedid, agent_id, now)      # the ringing agent leg ended, no answer yet
    suspend(state); state, outputs = resume(state, now)   # AMI lost / back: no offers in between

``outputs`` mixes *commands* for the adapter (imperative: :class:`OfferCall`, :class:`CancelOffer`,
:class:`OverflowCall`, :class:`OfferCallback`, :class:`SendToVoicemail`) and *facts* to append to the
event log for :mod:`hotline.queues.metrics` (:class:`~hotline.queues.events.AgentStateChanged`,
:class:`~hotline.queues.events.CallOverflowed`, :class:`~hotline.queues.events.CallSentToVoicemail`, and
:class:`~hotline.queues.events.OfferFailed` ``lost`` when an offer's deadline passes).

Shape note: ``handle`` and ``decide`` update ``state`` in place and return it. The state has one
owner (the event pump), and copying 1,000 waiting calls and 300 agents per event would cost more
than the 1 ms routing budget; :meth:`RoutingState.snapshot` gives an immutable copy when needed.
An event that the state machine forbids raises :class:`~hotline.queues.exceptions.IllegalTransition`
*before* anything is changed; an event about a call the core no longer tracks (a race such as an
abandon crossing a ring timeout) is ignored and returns no outputs.

Routing policy
--------------
* A call needs its ``skills`` (or its queue's skills when empty) and, if set, its ``language``.
* **Acceptance stage** after ``wait_s = now - enqueued_at``: every required skill at
  ``>= min_proficiency`` of the latest :class:`~hotline.queues.model.ExpansionStep` reached (the queue's own
  ``min_proficiency`` before any step); once an ``any_in_group`` step is reached, any agent of the
  queue's group is also accepted whatever their skills. Language is never relaxed.
* **Agent for a call** (a call arrives, a stage widens, an offer failed): among READY eligible
  agents, the highest *match score* = the agent's lowest proficiency over the required skills
  (0 for an agent accepted only through the group, or for a call needing no skill); ties go to
  the longest idle agent (smallest ``idle_since_at``) or, with ``AgentOrder.FEWEST_CALLS``, to the
  smallest ``calls_today`` then longest idle; then the smallest agent id.
* **Call for an agent** (an agent becomes ready): among waiting calls the agent is eligible for,
  the highest *effective priority* ``priority + ageing_per_s * (now - enqueued_at)``; ties go to
  the earliest ``enqueued_at``, then arrival order. A call whose offer was not answered goes back
  with its original ``enqueued_at`` and priority, so it keeps the front of the line.
* **Overflow**: after ``overflow_after_s`` in a queue (from ``queue_entered_at``) a waiting call
  moves to ``overflow_queue`` keeping its ``enqueued_at``.
* **Maximum wait**: after ``max_wait_s`` (from ``enqueued_at``) a waiting call is offered a callback
  once (it stays queued until :class:`~hotline.queues.events.CallbackRequested`) or sent to voicemail.
* **Offer deadline**: every offer must be settled (answered or failed) by
  ``offered_at + ring_timeout_s + offer_grace_s``; an agent leg that ended without an answer
  (:func:`offer_leg_ended`) brings the deadline to ``now + LEG_END_GRACE_S`` (the
  ``OriginateResponse`` that says why normally follows its ``Hangup`` within milliseconds). At the
  deadline the offer fails as ``lost`` (a fact :class:`~hotline.queues.events.OfferFailed` with reason
  ``lost``, and :class:`CancelOffer` so the adapter hangs the leg up and ignores a late answer).
  A ``lost`` offer is a technical failure, not the agent's: the agent goes back to READY keeping
  their idle time (not NOT_READY "missed"), and the caller goes back to the front of the line and
  is first offered to *another* ready agent (the lost agent is released only after that, then
  takes the best waiting call, which is this caller again only if nobody else could take it).
* **Suspension** (AMI connection lost, :func:`suspend`): no new offer is made and no offer
  expires (nobody can know whether the agent answered until Asterisk can be asked again); the
  adapter reconciles ringing offers with ``CoreShowChannels`` after the reconnect, then calls
  :func:`resume`, which re-arms overdue offer deadlines at ``now + offer_grace_s`` and routes the
  waiting calls best first.
* **Position** is 1 + the number of waiting calls of the same queue ranked ahead.
  **EWT** ``= position * AHT_recent / N`` seconds, where ``AHT_recent`` is the mean handle time
  (answer -> end of wrap-up) of the last 50 calls of the queue (``default_aht_s`` before any), and
  ``N`` the agents holding every required skill who are READY, RESERVED, ON_CALL or WRAP_UP.

Indexes (why it is fast): ready agents sit in sorted buckets per (skill, level, language), per
(group, language) and per language; waiting calls sit in *classes* keyed by (queue, language,
required skills), each kept sorted by rank and by age and indexed under its lowest skill, plus one
*lane* per (queue, language) for queues with an ``any_in_group`` step. A one-skill call picks an
agent by looking at the heads of at most five buckets; an agent picks a call by visiting only the
classes its skills and languages allow and the lanes of its groups (skipping those whose oldest
call is still too young for it), reading the first eligible call of each. Timers are a heap of
deadlines. :func:`naive_pick_agent` and :func:`naive_pick_call` are the full scans kept as a
baseline for the benchmark and for differential tests.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hotline.queues import agents as sm
from hotline.queues.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentSkillsChanged,
    AgentStateChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallOverflowed,
    CallQueued,
    CallSentToVoicemail,
    CallTransferred,
    Event,
    Fact,
    OfferFailed,
    WrapUpEnded,
)
from hotline.queues.exceptions import IllegalTransition, InvalidQueueConfig, UnknownAgent, UnknownQueue
from hotline.queues.model import (
    MAX_PROFICIENCY,
    Agent,
    AgentOrder,
    AgentState,
    AgentStatus,
    MaxWaitAction,
    NotReadyReason,
    QueueConfig,
    WaitingCall,
)

__all__ = [
    "AHT_WINDOW_CALLS",
    "LEG_END_GRACE_S",
    "LOST",
    "OFFER_GRACE_S",
    "CancelOffer",
    "Command",
    "OfferCall",
    "OfferCallback",
    "Output",
    "OverflowCall",
    "QueuePosition",
    "RoutingSnapshot",
    "RoutingState",
    "SendToVoicemail",
    "check_invariants",
    "decide",
    "handle",
    "naive_pick_agent",
    "naive_pick_call",
    "next_deadline_at",
    "offer_leg_ended",
    "pick_agent_for_call",
    "pick_call_for_agent",
    "position_and_ewt",
    "resume",
    "start_new_day",
    "suspend",
]

AHT_WINDOW_CALLS = 50
#: default seconds added to the ring timeout before an unsettled offer fails as ``lost``
OFFER_GRACE_S = 5.0
#: seconds an offer whose agent leg ended waits for its ``OriginateResponse`` before failing as ``lost``
LEG_END_GRACE_S = 2.0
#: ``OfferFailed.reason`` of a technical failure (no answer nor failure reported, leg gone, AMI lost)
LOST = "lost"
S = AgentStatus


# --- commands -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferCall:
    """Ring ``agent_id`` for this caller; report back CallAnswered or OfferFailed.

    ``ring_timeout_s``: seconds before the adapter gives up and reports ``OfferFailed("no_answer")``
    (the Originate ``Timeout``). The core fails the offer as ``lost`` by itself if nothing is reported
    within ``ring_timeout_s + offer_grace_s`` (see the module's *Offer deadline*).
    """

    linkedid: str
    uniqueid: str
    agent_id: str
    queue: str
    ring_timeout_s: float


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Stop ringing ``agent_id`` (the caller left, or the agent was logged out while ringing)."""

    linkedid: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OverflowCall:
    """The caller now waits in ``to_queue`` (adapter: announcement / MOH class change only)."""

    linkedid: str
    uniqueid: str
    from_queue: str
    to_queue: str


@dataclass(frozen=True, slots=True)
class OfferCallback:
    """Offer the caller a callback (press 1); they stay queued unless they accept."""

    linkedid: str
    uniqueid: str
    queue: str


@dataclass(frozen=True, slots=True)
class SendToVoicemail:
    """Send the caller to the queue's voicemail; the call has left the queue."""

    linkedid: str
    uniqueid: str
    queue: str


Command = OfferCall | CancelOffer | OverflowCall | OfferCallback | SendToVoicemail
#: ``OfferFailed`` is also a fact the core emits itself (reason ``lost``, at an offer's deadline)
Output = Command | Fact | OfferFailed


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where a caller stands: ``position`` 1-based (0 = an agent is ringing for them),
    ``ewt_s`` estimated wait in seconds or None when no agent can serve them."""

    position: int
    ewt_s: float | None


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    """Immutable copy of the dynamic state (what the Redis store persists).

    Attributes:
        agent_states: one per configured agent.
        calls: waiting calls, each with the agent currently ringing for it or None.
        callback_offered: linkedids already offered a callback.
        recent_handle_s: queue -> recent handle times (s), oldest first.
        seq: next arrival sequence number.
    """

    agent_states: tuple[AgentState, ...]
    calls: tuple[tuple[WaitingCall, str | None], ...]
    callback_offered: frozenset[str] = frozenset()
    recent_handle_s: tuple[tuple[str, tuple[float, ...]], ...] = ()
    seq: int = 0


# --- internal structures ------------------------------------------------------------------------


class _Entry:
    """A tracked call: waiting (``offered_to`` None) or ringing an agent."""

    __slots__ = ("call", "callback_offered", "cls", "offer_due_at", "offered_to", "rank", "static")

    def __init__(self, call: WaitingCall, cls: _CallClass, static: float) -> None:
        self.call = call
        self.cls = cls
        self.static = static
        self.rank = (-static, call.enqueued_at, call.seq, call.linkedid)
        self.offered_to: str | None = None
        self.offer_due_at: float | None = None  # epoch s by which the ringing offer must be settled
        self.callback_offered = False


class _CallClass:
    """Waiting calls of one (queue, language, required skills), sorted two ways.

    ``by_rank``: every call, best first (position in line, upper bound of the class).
    ``by_priority``: static ``priority`` -> that priority's calls oldest first. Inside one queue and
    one priority the oldest call is also the best ranked (``ageing_per_s >= 0``), so the best call
    at least ``t`` seconds old is the best of the priority heads that are that old: no walk past
    calls still too young for an agent (the old ``by_age`` scan).
    """

    __slots__ = ("by_priority", "by_rank", "key", "language", "queue", "skills")

    def __init__(self, queue: str, language: str | None, skills: frozenset[str]) -> None:
        self.queue = queue
        self.language = language
        self.skills = skills
        self.key = (queue, language, skills)
        self.by_rank: list[tuple[float, float, int, str]] = []  # (-static, enqueued_at, seq, linkedid)
        self.by_priority: dict[int, list[tuple[float, int, str]]] = {}  # priority -> [(enqueued_at, seq, linkedid)]


class _QueueRuntime:
    """Per-queue derived data: cumulative stages, eligibility thresholds and recent handle times.

    ``thresholds[in_group][level]``: :meth:`threshold_s` for a match level 0..5 (precomputed: the
    agent-ready path asks it once per call class visited).
    """

    __slots__ = ("cfg", "recent_handle_s", "stages", "thresholds")

    def __init__(self, cfg: QueueConfig) -> None:
        self.cfg = cfg
        stages: list[tuple[float, int, bool]] = [(-math.inf, cfg.min_proficiency, False)]
        level, group_open = cfg.min_proficiency, False
        for step in cfg.expansion:
            if step.min_proficiency is not None and step.min_proficiency < level:
                level = step.min_proficiency
            group_open = group_open or step.any_in_group
            stages.append((step.after_s, level, group_open))
        self.stages = stages
        self.recent_handle_s: deque[float] = deque(maxlen=AHT_WINDOW_CALLS)
        levels = range(MAX_PROFICIENCY + 1)
        self.thresholds = tuple(tuple(self.threshold_s(lv, in_group) for lv in levels) for in_group in (False, True))

    def threshold_s(self, level: int | None, in_group: bool) -> float | None:
        """Least wait (s) from which an agent with ``level`` (None = call needs no skill) is eligible."""
        if level is None:
            return -math.inf
        for after_s, min_level, group_open in self.stages:
            if level >= min_level or (group_open and in_group):
                return after_s
        return None


class RoutingState:
    """The routing core's whole state: configuration, agent states, waiting calls and indexes.

    Build with :meth:`create` (everyone logged out, no calls) or :meth:`restore` (from a
    :class:`RoutingSnapshot`). Read freely (``agent_states``, ``agents``, ``queues``,
    :meth:`waiting_calls`); change only through :func:`handle` and :func:`decide`.
    """

    def __init__(
        self,
        queues: Iterable[QueueConfig],
        agents: Iterable[Agent],
        order: AgentOrder = AgentOrder.LONGEST_IDLE,
        now: float = 0.0,
        *,
        offer_grace_s: float = OFFER_GRACE_S,
    ) -> None:
        self.queues: dict[str, QueueConfig] = {}
        self._rt: dict[str, _QueueRuntime] = {}
        for q in queues:
            if q.name in self.queues:
                raise InvalidQueueConfig(f"queue {q.name} defined twice")
            self.queues[q.name] = q
            self._rt[q.name] = _QueueRuntime(q)
        for q in self.queues.values():
            if q.overflow_queue is not None and q.overflow_queue not in self.queues:
                raise InvalidQueueConfig(f"queue {q.name}: overflow target {q.overflow_queue} is not defined")
        self.agents: dict[str, Agent] = {}
        for a in agents:
            if a.id in self.agents:
                raise InvalidQueueConfig(f"agent {a.id} defined twice")
            self.agents[a.id] = a
        self.order = AgentOrder(order)
        self.agent_states: dict[str, AgentState] = {aid: sm.logged_out_state(aid, now) for aid in self.agents}
        self._entries: dict[str, _Entry] = {}
        self._classes: dict[tuple[str, str | None, frozenset[str]], _CallClass] = {}
        # ("s", lowest skill, lang) or ("n", None, lang) for classes needing no skill -> classes
        self._class_index: dict[tuple[str, str | None, str | None], dict[Any, _CallClass]] = {}
        # (group, lang) -> queue -> lane: every skilled waiting call of a queue that has an
        # any_in_group step, whatever its skills (what a group member may take once the step is due)
        self._lanes: dict[tuple[str, str | None], dict[str, _CallClass]] = {}
        self._ready_skill: dict[tuple[str, int, str | None], list[tuple[Any, ...]]] = {}
        self._ready_group: dict[tuple[str, str | None], list[tuple[Any, ...]]] = {}
        self._ready_any: dict[str | None, list[tuple[Any, ...]]] = {}
        self._ready_key: dict[str, tuple[Any, ...]] = {}
        self._on_call: dict[str, str] = {}  # linkedid -> agent_id (ON_CALL or WRAP_UP for that call)
        self._answered_at: dict[str, float] = {}  # agent_id -> epoch s of answer
        # (due_at, n, kind, ident, queue); for kind "offer": ident = linkedid, queue = the agent id
        self._deadlines: list[tuple[float, int, str, str, str]] = []
        self._dl_n = 0
        self.offer_grace_s = offer_grace_s
        #: AMI lost (:func:`suspend`): no offer is made and none expires until :func:`resume`
        self.suspended = False
        self._held_offers: list[tuple[str, str]] = []  # (linkedid, agent) whose deadline passed while suspended
        self._seq = 0

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        queues: Iterable[QueueConfig],
        agents: Iterable[Agent],
        order: AgentOrder = AgentOrder.LONGEST_IDLE,
        now: float = 0.0,
        *,
        offer_grace_s: float = OFFER_GRACE_S,
    ) -> RoutingState:
        """A state with every agent LOGGED_OUT since ``now`` and no call.

        Args:
            offer_grace_s: seconds after an offer's ring timeout before it fails as ``lost``.
        Raises:
            InvalidQueueConfig: duplicate names or an undefined overflow target.
        """
        return cls(queues, agents, order, now, offer_grace_s=offer_grace_s)

    @classmethod
    def restore(
        cls,
        queues: Iterable[QueueConfig],
        agents: Iterable[Agent],
        snapshot: RoutingSnapshot,
        order: AgentOrder = AgentOrder.LONGEST_IDLE,
        *,
        offer_grace_s: float = OFFER_GRACE_S,
    ) -> RoutingState:
        """Rebuild a state (and every index and timer) from a snapshot, e.g. after a restart.

        The snapshot is taken as is: call :func:`decide` right after to run overdue timers and
        :func:`handle` the AMI resync events for calls that ended meanwhile. A ringing offer's
        deadline is counted from its agent's ``state_since_at`` (when they were reserved).

        Raises:
            InvalidQueueConfig: bad configuration.
            UnknownAgent, UnknownQueue: the snapshot names something not configured.
        """
        state = cls(queues, agents, order, offer_grace_s=offer_grace_s)
        for st in snapshot.agent_states:
            if st.agent_id not in state.agents:
                raise UnknownAgent(st.agent_id)
            state.agent_states[st.agent_id] = st
            if st.status is S.READY:
                state._index_ready(st.agent_id)
            elif st.status is S.WRAP_UP and st.wrap_up_until_at is not None:
                state._push_deadline(st.wrap_up_until_at, "wrap", st.agent_id, "")
            if st.status in (S.ON_CALL, S.WRAP_UP) and st.linkedid is not None:
                state._on_call[st.linkedid] = st.agent_id
                if st.status is S.ON_CALL:
                    state._answered_at[st.agent_id] = st.state_since_at
        for call, offered_to in snapshot.calls:
            if call.queue not in state.queues:
                raise UnknownQueue(call.queue)
            entry = state._track(call)
            entry.callback_offered = call.linkedid in snapshot.callback_offered
            if offered_to is None:
                state._add_waiting(entry)
            else:
                entry.offered_to = offered_to
                reserved = state.agent_states.get(offered_to)
                since = reserved.state_since_at if reserved is not None else 0.0
                state._arm_offer(entry, since + state.queues[call.queue].ring_timeout_s + offer_grace_s)
        for qname, times in snapshot.recent_handle_s:
            if qname in state._rt:
                state._rt[qname].recent_handle_s.extend(times)
        state._seq = max(state._seq, snapshot.seq)
        return state

    def snapshot(self) -> RoutingSnapshot:
        """An immutable copy of the dynamic state (see :class:`RoutingSnapshot`)."""
        return RoutingSnapshot(
            agent_states=tuple(self.agent_states[a] for a in sorted(self.agent_states)),
            calls=tuple((e.call, e.offered_to) for e in sorted(self._entries.values(), key=lambda e: e.call.seq)),
            callback_offered=frozenset(lid for lid, e in self._entries.items() if e.callback_offered),
            recent_handle_s=tuple((q, tuple(rt.recent_handle_s)) for q, rt in sorted(self._rt.items())),
            seq=self._seq,
        )

    # -- read helpers ------------------------------------------------------------------------

    def waiting_calls(self) -> list[WaitingCall]:
        """Calls waiting for an agent (not ringing one), in arrival order."""
        return sorted((e.call for e in self._entries.values() if e.offered_to is None), key=lambda c: c.seq)

    def tracked_calls(self) -> dict[str, str | None]:
        """Every call the core holds: linkedid -> agent ringing for it (None while waiting)."""
        return {lid: e.offered_to for lid, e in self._entries.items()}

    def required_skills(self, call: WaitingCall) -> frozenset[str]:
        """The skills ``call`` needs: its own, else its queue's."""
        return call.skills or self.queues[call.queue].skills

    def agent_sort_key(self, st: AgentState) -> tuple[Any, ...]:
        """Tie-break key among equally proficient agents (smaller first)."""
        if self.order is AgentOrder.FEWEST_CALLS:
            return (st.calls_today, st.idle_since_at, st.agent_id)
        return (st.idle_since_at, st.agent_id)

    def recent_aht_s(self, queue: str) -> float:
        """Mean handle time (s) of the last :data:`AHT_WINDOW_CALLS` calls, else ``default_aht_s``."""
        rt = self._rt[queue]
        if not rt.recent_handle_s:
            return rt.cfg.default_aht_s
        return sum(rt.recent_handle_s) / len(rt.recent_handle_s)

    # -- index maintenance -------------------------------------------------------------------

    def _index_ready(self, agent_id: str) -> None:
        agent = self.agents[agent_id]
        key = self.agent_sort_key(self.agent_states[agent_id])
        self._ready_key[agent_id] = key
        langs: tuple[str | None, ...] = (None, *agent.languages)
        for lang in langs:
            insort(self._ready_any.setdefault(lang, []), key)
            for skill, level in agent.skills.items():
                insort(self._ready_skill.setdefault((skill, level, lang), []), key)
            for group in agent.groups:
                insort(self._ready_group.setdefault((group, lang), []), key)

    def _unindex_ready(self, agent_id: str) -> None:
        key = self._ready_key.pop(agent_id, None)
        if key is None:
            return
        agent = self.agents[agent_id]
        langs: tuple[str | None, ...] = (None, *agent.languages)
        for lang in langs:
            _remove_sorted(self._ready_any[lang], key)
            for skill, level in agent.skills.items():
                _remove_sorted(self._ready_skill[(skill, level, lang)], key)
            for group in agent.groups:
                _remove_sorted(self._ready_group[(group, lang)], key)

    def _track(self, call: WaitingCall) -> _Entry:
        cfg = self.queues[call.queue]
        ckey = (call.queue, call.language, call.skills or cfg.skills)
        cls = self._classes.get(ckey)
        if cls is None:
            cls = _CallClass(*ckey)
            self._register_class(cls)
        entry = _Entry(call, cls, _static_priority(call, cfg))
        self._entries[call.linkedid] = entry
        self._push_call_deadlines(call)
        return entry

    def _add_waiting(self, entry: _Entry) -> None:
        # the class may have been dropped (emptied) while this call rang an agent
        cls = self._classes.get(entry.cls.key)
        if cls is None:
            self._register_class(entry.cls)
        else:
            entry.cls = cls
        c = entry.call
        for cls in (entry.cls, self._lane(entry, create=True)):
            if cls is not None:
                insort(cls.by_rank, entry.rank)
                insort(cls.by_priority.setdefault(c.priority, []), (c.enqueued_at, c.seq, c.linkedid))

    def _remove_waiting(self, entry: _Entry) -> None:
        c = entry.call
        lane = self._lane(entry, create=False)
        for cls in (entry.cls, lane):
            if cls is not None:
                _remove_sorted(cls.by_rank, entry.rank)
                same = cls.by_priority[c.priority]
                _remove_sorted(same, (c.enqueued_at, c.seq, c.linkedid))
                if not same:
                    del cls.by_priority[c.priority]
        if lane is not None and not lane.by_rank:
            del self._lanes[(self.queues[c.queue].group, c.language)][c.queue]  # type: ignore[index]
        if not entry.cls.by_rank:
            cls = self._classes.pop(entry.cls.key)
            for home in self._class_homes(cls):
                bucket = self._class_index[home]
                del bucket[cls.key]
                if not bucket:
                    del self._class_index[home]

    def _class_homes(self, cls: _CallClass) -> list[tuple[str, str | None, str | None]]:
        return [("s", min(cls.skills), cls.language) if cls.skills else ("n", None, cls.language)]

    def _lane(self, entry: _Entry, create: bool) -> _CallClass | None:
        cfg = self.queues[entry.call.queue]
        if cfg.group is None or not entry.cls.skills or not any(s.any_in_group for s in cfg.expansion):
            return None
        lanes = self._lanes.setdefault((cfg.group, entry.call.language), {})
        lane = lanes.get(cfg.name)
        if lane is None and create:
            lane = lanes[cfg.name] = _CallClass(cfg.name, entry.call.language, frozenset())
        return lane

    def _register_class(self, cls: _CallClass) -> None:
        self._classes[cls.key] = cls
        for home in self._class_homes(cls):
            self._class_index.setdefault(home, {})[cls.key] = cls

    def _push_deadline(self, due_at: float, kind: str, ident: str, queue: str) -> None:
        self._dl_n += 1
        heapq.heappush(self._deadlines, (due_at, self._dl_n, kind, ident, queue))

    def _arm_offer(self, entry: _Entry, due_at: float) -> None:
        """Set the ringing offer's deadline (a later one replaces it only through :func:`resume`)."""
        assert entry.offered_to is not None
        entry.offer_due_at = due_at
        self._push_deadline(due_at, "offer", entry.call.linkedid, entry.offered_to)

    def _push_call_deadlines(self, call: WaitingCall) -> None:
        cfg = self.queues[call.queue]
        for after_s in cfg.stage_change_times_s():
            self._push_deadline(call.enqueued_at + after_s, "stage", call.linkedid, call.queue)
        if cfg.overflow_after_s is not None:
            entered = call.queue_entered_at if call.queue_entered_at is not None else call.enqueued_at
            self._push_deadline(entered + cfg.overflow_after_s, "overflow", call.linkedid, call.queue)
        if cfg.max_wait_s is not None:
            self._push_deadline(call.enqueued_at + cfg.max_wait_s, "max_wait", call.linkedid, call.queue)


def _remove_sorted(lst: list[Any], item: Any) -> None:
    i = bisect_left(lst, item)
    if i < len(lst) and lst[i] == item:
        del lst[i]
    else:  # pragma: no cover - an index bug; fail loudly in tests
        raise AssertionError(f"index out of sync: {item!r} missing")


def _static_priority(call: WaitingCall, cfg: QueueConfig) -> float:
    """``priority - ageing_per_s * enqueued_at``: orders a queue's calls the same at every ``now``."""
    return call.priority - cfg.ageing_per_s * call.enqueued_at


def _call_rank(static: float, ageing_per_s: float, call: WaitingCall, now: float) -> tuple[Any, ...]:
    """Comparable rank of a call at ``now``: larger is served first.

    ``(effective priority, static priority, -enqueued_at, -seq)``; the static term makes the order
    inside a queue immune to floating-point ties of the effective priority.
    """
    return (static + ageing_per_s * now, static, -call.enqueued_at, -call.seq)


def _match_score(
    agent: Agent, skills: frozenset[str], language: str | None, cfg: QueueConfig, wait_s: float
) -> int | None:
    """Match score of ``agent`` for a call (the routing policy's single source of truth).

    Returns:
        None if not eligible; else the lowest proficiency over ``skills`` (0 when the call needs no
        skill or the agent is accepted through the group expansion only).
    """
    if language is not None and language not in agent.languages:
        return None
    if not skills:
        return 0
    min_level, group_open = cfg.stage(wait_s)
    level = min(agent.skills.get(s, 0) for s in skills)
    if level >= min_level:
        return level
    if group_open and cfg.group in agent.groups:
        return 0
    return None


# --- decisions (read-only): fast and naive --------------------------------------------------------


def pick_agent_for_call(state: RoutingState, call: WaitingCall, now: float) -> str | None:
    """Best READY agent for ``call`` at ``now`` using the indexes (see the module policy).

    Args:
        state: routing state; only its READY agents are considered.
        call: a waiting call of a configured queue (need not be tracked yet).
        now: epoch seconds.
    Returns:
        The agent id, or None: the caller stays queued (not an error).
    Cost: O(5 bucket heads) for a one-skill call; O(ready agents with the rarest skill) otherwise.
    """
    cfg = state.queues[call.queue]
    skills = call.skills or cfg.skills
    lang = call.language
    agent_id: str  # the last item of a ready key
    if not skills:
        bucket = state._ready_any.get(lang)
        if not bucket:
            return None
        agent_id = bucket[0][-1]
        return agent_id
    min_level, group_open = cfg.stage(now - call.enqueued_at)
    ready_skill = state._ready_skill
    if len(skills) == 1:
        (skill,) = skills
        for level in range(MAX_PROFICIENCY, min_level - 1, -1):
            bucket = ready_skill.get((skill, level, lang))
            if bucket:
                agent_id = bucket[0][-1]
                return agent_id
    else:
        # drive by the skill with the fewest ready agents, then check the others
        levels = range(min_level, MAX_PROFICIENCY + 1)

        def ready_count(s: str) -> int:
            return sum(len(ready_skill.get((s, lv, lang), ())) for lv in levels)

        driver = min(sorted(skills), key=ready_count)
        others = [s for s in skills if s != driver]
        best_score = -1
        best_key: tuple[Any, ...] | None = None
        agents = state.agents
        for level in range(MAX_PROFICIENCY, min_level - 1, -1):
            if best_score > level:
                break  # agents at this driver level score <= level: none can beat or tie
            for key in ready_skill.get((driver, level, lang), ()):
                # buckets are sorted by tie-break key: the first agent scoring ``level`` wins this
                # level and no lower level can beat it
                agent_skills = agents[key[-1]].skills
                score = level
                for s in others:
                    got = agent_skills.get(s, 0)
                    if got < score:
                        score = got
                        if score < min_level or score < best_score:
                            break
                if score < min_level:
                    continue
                if score > best_score or (score == best_score and key < best_key):  # type: ignore[operator]
                    best_score, best_key = score, key
                    if score == level:
                        break
            if best_key is not None and best_score == level:
                break
        if best_key is not None:
            agent_id = best_key[-1]
            return agent_id
    if group_open and cfg.group is not None:
        bucket = state._ready_group.get((cfg.group, lang))
        if bucket:
            agent_id = bucket[0][-1]
            return agent_id
    return None


def pick_call_for_agent(state: RoutingState, agent_id: str, now: float) -> str | None:
    """Best waiting call for ``agent_id`` at ``now`` using the call classes (see the module policy).

    The agent's status is not checked (the caller decides when to ask); its skills, languages and
    groups are.

    Returns:
        The linkedid, or None: nothing this agent may take.
    Cost: O(call classes this agent could serve: by its skills, languages and groups) x the
    distinct priorities in each; a class whose best call cannot beat the best found so far is
    skipped after one comparison.
    """
    agent = state.agents[agent_id]
    agent_skills = agent.skills
    skill_names = agent_skills.keys()
    groups = agent.groups
    entries = state._entries
    index = state._class_index
    rts = state._rt
    best: tuple[Any, ...] | None = None
    best_id: str | None = None

    def consider(cls: _CallClass, ageing_per_s: float, threshold: float | None) -> None:
        nonlocal best, best_id
        if threshold is None:
            return
        if best is not None and -cls.by_rank[0][0] + ageing_per_s * now < best[0]:
            return  # even the class's best call ranks below the best so far
        for same in cls.by_priority.values():
            oldest = same[0]
            if now - oldest[0] >= threshold:  # the oldest of a priority is its best: eligible?
                entry = entries[oldest[2]]
                cand = _call_rank(entry.static, ageing_per_s, entry.call, now)
                if best is None or cand > best:
                    best, best_id = cand, oldest[2]

    for lang in (None, *agent.languages):
        for cls in index.get(("n", None, lang), {}).values():
            consider(cls, rts[cls.queue].cfg.ageing_per_s, -math.inf)
        for skill in skill_names:
            for cls in index.get(("s", skill, lang), {}).values():
                needed = cls.skills
                if len(needed) == 1:
                    level = agent_skills[skill]
                elif skill_names >= needed:
                    level = min(agent_skills[s] for s in needed)
                else:
                    continue
                rt = rts[cls.queue]
                group = rt.cfg.group
                consider(cls, rt.cfg.ageing_per_s, rt.thresholds[group is not None and group in groups][level])
        for group in groups:
            for lane in state._lanes.get((group, lang), {}).values():
                rt = rts[lane.queue]
                consider(lane, rt.cfg.ageing_per_s, rt.thresholds[True][0])
    return best_id


def naive_pick_agent(state: RoutingState, call: WaitingCall, now: float) -> str | None:
    """Full scan of every agent: the baseline (benchmark) and oracle (tests) of
    :func:`pick_agent_for_call`; same result, O(agents x skills)."""
    cfg = state.queues[call.queue]
    skills = call.skills or cfg.skills
    wait_s = now - call.enqueued_at
    best: tuple[Any, ...] | None = None
    for aid, st in state.agent_states.items():
        if st.status is not S.READY:
            continue
        score = _match_score(state.agents[aid], skills, call.language, cfg, wait_s)
        if score is None:
            continue
        cand = (-score, state.agent_sort_key(st))
        if best is None or cand < best:
            best = cand
    return None if best is None else best[1][-1]


def naive_pick_call(state: RoutingState, agent_id: str, now: float) -> str | None:
    """Full scan of every waiting call: the baseline and oracle of :func:`pick_call_for_agent`."""
    agent = state.agents[agent_id]
    best: tuple[Any, ...] | None = None
    best_id: str | None = None
    for lid, entry in state._entries.items():
        if entry.offered_to is not None:
            continue
        call = entry.call
        cfg = state.queues[call.queue]
        skills = call.skills or cfg.skills
        if _match_score(agent, skills, call.language, cfg, now - call.enqueued_at) is None:
            continue
        cand = _call_rank(_static_priority(call, cfg), cfg.ageing_per_s, call, now)
        if best is None or cand > best:
            best, best_id = cand, lid
    return best_id


# --- transitions with their facts -------------------------------------------------------------------


def _set_agent(state: RoutingState, new: AgentState, out: list[Output], now: float) -> None:
    old = state.agent_states[new.agent_id]
    if old.status is S.READY and new.status is not S.READY:
        state._unindex_ready(new.agent_id)
    state.agent_states[new.agent_id] = new
    if new.status is S.READY and (old.status is not S.READY or old is not new):
        state._unindex_ready(new.agent_id)
        state._index_ready(new.agent_id)
    if old.status is not new.status or old.reason != new.reason:
        out.append(AgentStateChanged(new.agent_id, new.status, now, new.reason, new.linkedid, new.queue))


def _offer(state: RoutingState, entry: _Entry, agent_id: str, out: list[Output], now: float) -> None:
    call = entry.call
    _set_agent(state, sm.reserve(state.agent_states[agent_id], call.linkedid, call.queue, now), out, now)
    state._remove_waiting(entry)
    entry.offered_to = agent_id
    cfg = state.queues[call.queue]
    state._arm_offer(entry, now + cfg.ring_timeout_s + state.offer_grace_s)
    out.append(OfferCall(call.linkedid, call.uniqueid, agent_id, call.queue, cfg.ring_timeout_s))


def _route_call(state: RoutingState, entry: _Entry, out: list[Output], now: float) -> None:
    """Offer a waiting call to the best ready agent, if any (none while suspended)."""
    if state.suspended:
        return
    agent_id = pick_agent_for_call(state, entry.call, now)
    if agent_id is not None:
        _offer(state, entry, agent_id, out, now)


def _route_agent(state: RoutingState, agent_id: str, out: list[Output], now: float) -> None:
    """Offer the best waiting call to a just-ready agent, if any (none while suspended)."""
    if state.suspended:
        return
    linkedid = pick_call_for_agent(state, agent_id, now)
    if linkedid is not None:
        _offer(state, state._entries[linkedid], agent_id, out, now)


def _requeue(state: RoutingState, entry: _Entry, out: list[Output], now: float) -> None:
    """A ringing call goes back to waiting with its original rank, then timers and routing."""
    entry.offered_to = None
    entry.offer_due_at = None
    state._add_waiting(entry)
    if _run_call_timers(state, entry, out, now):
        return
    _route_call(state, state._entries[entry.call.linkedid], out, now)


def _forget(state: RoutingState, entry: _Entry) -> None:
    if entry.offered_to is None:
        state._remove_waiting(entry)
    del state._entries[entry.call.linkedid]


def _withdraw_offer(state: RoutingState, entry: _Entry, out: list[Output], now: float) -> str:
    """Stop ringing the agent of ``entry`` (back to READY, idle time kept); returns the agent id."""
    agent_id = entry.offered_to
    assert agent_id is not None
    out.append(CancelOffer(entry.call.linkedid, agent_id))
    entry.offer_due_at = None
    _set_agent(state, sm.offer_cancelled(state.agent_states[agent_id], now), out, now)
    return agent_id  # the caller then forgets or requeues the entry


def _release_lost_offer(state: RoutingState, entry: _Entry, out: list[Output], now: float) -> None:
    """A ``lost`` offer (technical failure): the caller goes back to the front and is offered to
    another ready agent first; then the agent is READY again (idle time kept) and takes the best
    waiting call, which is this caller only if nobody else could take it."""
    agent_id = entry.offered_to
    assert agent_id is not None
    st = state.agent_states[agent_id]
    _requeue(state, entry, out, now)  # the agent is still RESERVED: not a candidate
    _set_agent(state, sm.offer_cancelled(st, now), out, now)
    _route_agent(state, agent_id, out, now)


def _run_call_timers(state: RoutingState, entry: _Entry, out: list[Output], now: float) -> bool:
    """Apply overdue overflow / max-wait rules to a waiting call. Returns True if it left the queue
    or moved (it has then been routed already)."""
    call = entry.call
    cfg = state.queues[call.queue]
    if cfg.max_wait_s is not None and now - call.enqueued_at >= cfg.max_wait_s:
        if cfg.max_wait_action is MaxWaitAction.VOICEMAIL:
            _forget(state, entry)
            out.append(SendToVoicemail(call.linkedid, call.uniqueid, call.queue))
            out.append(CallSentToVoicemail(call.linkedid, call.queue, now))
            return True
        if not entry.callback_offered:
            entry.callback_offered = True
            out.append(OfferCallback(call.linkedid, call.uniqueid, call.queue))
    if cfg.overflow_after_s is not None and cfg.overflow_queue is not None:
        entered = call.queue_entered_at if call.queue_entered_at is not None else call.enqueued_at
        if now - entered >= cfg.overflow_after_s:
            _forget(state, entry)
            moved = replace(call, queue=cfg.overflow_queue, queue_entered_at=now)
            new_entry = state._track(moved)
            new_entry.callback_offered = entry.callback_offered
            state._add_waiting(new_entry)
            out.append(OverflowCall(call.linkedid, call.uniqueid, call.queue, cfg.overflow_queue))
            out.append(CallOverflowed(call.linkedid, call.queue, cfg.overflow_queue, now))
            if not _run_call_timers(state, new_entry, out, now):
                _route_call(state, new_entry, out, now)
            return True
    return False


def _finish_wrap_up(state: RoutingState, agent_id: str, new: AgentState, out: list[Output], now: float) -> None:
    old = state.agent_states[agent_id]
    if old.linkedid is not None:
        state._on_call.pop(old.linkedid, None)
    answered_at = state._answered_at.pop(agent_id, None)
    if answered_at is not None and old.queue in state._rt:
        state._rt[old.queue].recent_handle_s.append(max(0.0, now - answered_at))
    _set_agent(state, new, out, now)


# --- the two entry points ---------------------------------------------------------------------------


def _agent_state(state: RoutingState, agent_id: str) -> AgentState:
    try:
        return state.agent_states[agent_id]
    except KeyError:
        raise UnknownAgent(agent_id) from None


def handle(state: RoutingState, event: Event, now: float) -> tuple[RoutingState, list[Output]]:
    """Apply one input event and route what it made possible.

    Args:
        state: the routing state (updated in place and returned).
        event: one of :data:`hotline.queues.events.Event`.
        now: epoch seconds (usually ``event.at``).
    Returns:
        ``(state, outputs)``: commands for the adapter and facts for the event log, in order.
    Raises:
        IllegalTransition: the agent state machine forbids it (state unchanged).
        UnknownAgent, UnknownQueue: the event names something not configured (state unchanged).
    """
    out: list[Output] = []
    entry: _Entry | None
    match event:
        case CallQueued():
            if event.queue not in state.queues:
                raise UnknownQueue(event.queue)
            if event.linkedid in state._entries:
                return state, out  # duplicate (e.g. resync after restart)
            state._seq += 1
            call = WaitingCall(
                linkedid=event.linkedid,
                uniqueid=event.uniqueid,
                queue=event.queue,
                skills=frozenset(event.skills),
                language=event.language,
                priority=event.priority,
                enqueued_at=now,
                follow_up=event.follow_up,
                queue_entered_at=now,
                seq=state._seq,
            )
            entry = state._track(call)
            state._add_waiting(entry)
            if not _run_call_timers(state, entry, out, now):
                _route_call(state, entry, out, now)
        case CallAbandoned() | CallbackRequested():
            entry = state._entries.get(event.linkedid)
            if entry is not None:
                agent_id = _withdraw_offer(state, entry, out, now) if entry.offered_to is not None else None
                _forget(state, entry)
                if agent_id is not None:
                    _route_agent(state, agent_id, out, now)
        case CallAnswered():
            st = _agent_state(state, event.agent_id)
            entry = state._entries.get(event.linkedid)
            if entry is None and (st.linkedid != event.linkedid or st.status is not S.RESERVED):
                return state, out  # the caller left before the answer reached us, or a duplicate
            if entry is None or entry.offered_to != event.agent_id:
                raise IllegalTransition(event.agent_id, st.status.value, "answered", event.linkedid)
            new = sm.answered(st, event.linkedid, now)
            del state._entries[event.linkedid]
            state._on_call[event.linkedid] = event.agent_id
            state._answered_at[event.agent_id] = now
            _set_agent(state, new, out, now)
        case OfferFailed():
            st = _agent_state(state, event.agent_id)
            entry = state._entries.get(event.linkedid)
            if entry is None or entry.offered_to != event.agent_id or st.linkedid != event.linkedid:
                return state, out  # stale: the offer was already withdrawn
            if event.reason == LOST:
                _release_lost_offer(state, entry, out, now)
                return state, out
            reason = (
                NotReadyReason.MISSED.value
                if event.reason in ("no_answer", "rejected")
                else (NotReadyReason.UNREACHABLE.value)
            )
            _set_agent(state, sm.ring_no_answer(st, now, reason), out, now)
            _requeue(state, entry, out, now)
        case AnsweredCallEnded():
            agent_id = state._on_call.get(event.linkedid)
            if agent_id is None:
                return state, out
            st = state.agent_states[agent_id]
            if st.status is not S.ON_CALL:
                return state, out  # already in wrap-up (duplicate hangup)
            wrap_up_s = state.queues[st.queue].wrap_up_s if st.queue in state.queues else 0.0
            new = sm.hung_up(st, wrap_up_s, now)
            _set_agent(state, new, out, now)
            assert new.wrap_up_until_at is not None
            state._push_deadline(new.wrap_up_until_at, "wrap", agent_id, "")
            if wrap_up_s <= 0:
                decide(state, now, out)
        case CallTransferred():
            entry = state._entries.get(event.linkedid)
            if entry is not None:  # taken out of the queue (or while ringing)
                agent_id = _withdraw_offer(state, entry, out, now) if entry.offered_to is not None else None
                _forget(state, entry)
                if agent_id is not None:
                    _route_agent(state, agent_id, out, now)
            else:
                return handle(state, AnsweredCallEnded(event.linkedid, event.at), now)
        case AgentLoggedIn():
            _set_agent(state, sm.login(_agent_state(state, event.agent_id), now), out, now)
        case AgentReady() | WrapUpEnded():
            st = _agent_state(state, event.agent_id)
            if isinstance(event, WrapUpEnded) and st.status is not S.WRAP_UP:
                return state, out  # the timer already ended it
            new = sm.ready(st, now)
            if new is st:
                return state, out
            if st.status is S.WRAP_UP:
                _finish_wrap_up(state, event.agent_id, new, out, now)
            else:
                _set_agent(state, new, out, now)
            _route_agent(state, event.agent_id, out, now)
        case AgentPaused():
            st = _agent_state(state, event.agent_id)
            new = sm.pause(st, event.reason, now)
            if st.status is S.WRAP_UP:
                _finish_wrap_up(state, event.agent_id, new, out, now)
            else:
                _set_agent(state, new, out, now)
        case AgentLoggedOut():
            st = _agent_state(state, event.agent_id)
            if st.status is S.RESERVED and st.linkedid in state._entries:
                entry = state._entries[st.linkedid]
                _withdraw_offer(state, entry, out, now)
                new = sm.logout(state.agent_states[event.agent_id], now)
                _set_agent(state, new, out, now)
                _requeue(state, entry, out, now)
            else:
                new = sm.logout(st, now)
                if st.status is S.WRAP_UP:
                    _finish_wrap_up(state, event.agent_id, new, out, now)
                else:
                    _set_agent(state, new, out, now)
        case AgentSkillsChanged():
            agent = event.agent
            if agent.id not in state.agents:
                raise UnknownAgent(agent.id)
            was_ready = agent.id in state._ready_key
            state._unindex_ready(agent.id)
            state.agents[agent.id] = agent
            if was_ready:
                state._index_ready(agent.id)
                _route_agent(state, agent.id, out, now)
        case _:
            raise TypeError(f"not a routing event: {event!r}")
    return state, out


def decide(state: RoutingState, now: float, out: list[Output] | None = None) -> tuple[RoutingState, list[Output]]:
    """Timer tick: run every deadline due at ``now`` (expansion steps, overflow, max wait, wrap-up,
    offer deadlines).

    An offer still unsettled at its deadline fails as ``lost``: outputs the fact
    ``OfferFailed(linkedid, agent_id, now, "lost")`` (log it), ``CancelOffer`` (hang the agent leg up,
    drop a late ``OriginateResponse``), the agent back to READY and the caller back at the front
    (see the module's *Offer deadline*). While :attr:`RoutingState.suspended`, overdue offers are
    held for :func:`resume` instead.

    Call it at :func:`next_deadline_at` (or every second); extra calls are harmless.

    Args:
        state: updated in place and returned.
        now: epoch seconds.
        out: list to append to (internal use).
    Returns:
        ``(state, outputs)`` as for :func:`handle`.
    """
    out = [] if out is None else out
    heap = state._deadlines
    while heap and heap[0][0] <= now:
        _due, _n, kind, ident, queue = heapq.heappop(heap)
        if kind == "wrap":
            st = state.agent_states.get(ident)
            if st is not None and st.status is S.WRAP_UP and st.wrap_up_until_at is not None:
                if st.wrap_up_until_at <= now:
                    _finish_wrap_up(state, ident, sm.wrap_up_expired(st, now), out, now)
                    _route_agent(state, ident, out, now)
            continue
        entry = state._entries.get(ident)
        if kind == "offer":
            if entry is None or entry.offered_to != queue or entry.offer_due_at is None or entry.offer_due_at > now:
                continue  # settled, or re-armed later
            if state.suspended:
                state._held_offers.append((ident, queue))  # re-armed by resume()
                continue
            out.append(OfferFailed(ident, queue, now, LOST))
            out.append(CancelOffer(ident, queue))
            _release_lost_offer(state, entry, out, now)
            continue
        if entry is None or entry.offered_to is not None or entry.call.queue != queue:
            continue  # gone, ringing (re-checked on requeue) or moved by overflow
        if kind in ("overflow", "max_wait"):
            if _run_call_timers(state, entry, out, now):
                continue
        _route_call(state, entry, out, now)
    return state, out


def start_new_day(state: RoutingState) -> RoutingState:
    """Reset every agent's ``calls_today`` (call at local midnight) and re-sort the ready indexes.

    Emits nothing: statuses do not change. Returns ``state`` (updated in place).
    """
    for aid, st in state.agent_states.items():
        if st.calls_today:
            was_ready = aid in state._ready_key
            state._unindex_ready(aid)
            state.agent_states[aid] = sm.new_day(st)
            if was_ready:
                state._index_ready(aid)
    return state


def next_deadline_at(state: RoutingState) -> float | None:
    """Epoch seconds of the earliest pending timer (may be stale: waking then is harmless), or None."""
    return state._deadlines[0][0] if state._deadlines else None


def offer_leg_ended(state: RoutingState, linkedid: str, agent_id: str, now: float) -> RoutingState:
    """The ringing agent leg of an offer ended before any answer or failure was reported.

    The adapter calls it on the AMI ``Hangup`` of the Originate's ``ChannelId`` (or that leg found
    gone at a ``CoreShowChannels`` resync) while no ``OriginateResponse`` came. The offer's deadline
    becomes ``now + LEG_END_GRACE_S`` (if earlier): the ``OriginateResponse`` that normally follows
    the ``Hangup`` still says why (``no_answer``, ``busy`` ...); without it the offer fails as
    ``lost`` at :func:`decide`. Emits nothing; a stale call (offer already settled) is ignored.
    """
    entry = state._entries.get(linkedid)
    if entry is None or entry.offered_to != agent_id:
        return state
    due_at = now + LEG_END_GRACE_S
    if entry.offer_due_at is None or due_at < entry.offer_due_at:
        state._arm_offer(entry, due_at)
    return state


def suspend(state: RoutingState) -> RoutingState:
    """The AMI connection is lost: make no offer and let no offer expire until :func:`resume`.

    Waiting callers keep waiting (Asterisk holds them); ringing offers keep their agents RESERVED
    because only Asterisk knows whether they answered. Emits nothing.
    """
    state.suspended = True
    return state


def resume(state: RoutingState, now: float) -> tuple[RoutingState, list[Output]]:
    """The AMI connection is back (and ringing offers reconciled): route again.

    Offers whose deadline passed while suspended get ``now + offer_grace_s`` (their
    ``OriginateResponse`` or ``Hangup`` can now arrive); every waiting call is then routed, best
    ranked first (effective priority, then age), then the due timers run.

    Returns:
        ``(state, outputs)`` as for :func:`handle`.
    """
    out: list[Output] = []
    if not state.suspended:
        return state, out
    state.suspended = False
    held, state._held_offers = state._held_offers, []
    for linkedid, agent_id in held:
        entry = state._entries.get(linkedid)
        if entry is not None and entry.offered_to == agent_id and entry.offer_due_at is not None:
            state._arm_offer(entry, max(entry.offer_due_at, now + state.offer_grace_s))
    waiting = [e for e in state._entries.values() if e.offered_to is None]
    waiting.sort(key=lambda e: _call_rank(e.static, state.queues[e.call.queue].ageing_per_s, e.call, now),
                 reverse=True)
    for entry in waiting:
        if state._entries.get(entry.call.linkedid) is entry and entry.offered_to is None:
            _route_call(state, entry, out, now)
    decide(state, now, out)
    return state, out


# --- position and EWT ---------------------------------------------------------------------------------


def position_and_ewt(state: RoutingState, linkedid: str, now: float,
                     serving_cache: dict[frozenset[str], int] | None = None) -> QueuePosition | None:
    """Position in line and estimated wait of one caller.

    ``position`` = 1 + waiting calls of the same queue ranked ahead (0 while an agent rings);
    ``ewt_s = position * AHT_recent / N`` with ``AHT_recent`` = :meth:`RoutingState.recent_aht_s`
    and ``N`` = agents holding every required skill (any level) and READY, RESERVED, ON_CALL or
    WRAP_UP. ``now`` is accepted for symmetry (EWT does not age within a second).

    Args:
        serving_cache: required skills -> ``N``, shared by the callers of one pass over many calls
            (e.g. the callback offer's EWT check), so ``N`` is counted once per skill set, not per call.
    Returns:
        None if the call is not tracked; ``ewt_s`` None when ``N == 0``.
    Cost: O(classes of the queue x log calls) + O(agents) (O(1) for a skill set already in the cache).
    """
    del now
    entry = state._entries.get(linkedid)
    if entry is None:
        return None
    if entry.offered_to is not None:
        return QueuePosition(0, 0.0)
    call = entry.call
    position = 1
    for cls in state._classes.values():
        if cls.queue == call.queue:
            position += bisect_left(cls.by_rank, entry.rank)
    skills = entry.cls.skills
    n = serving_cache.get(skills) if serving_cache is not None else None
    if n is None:
        serving = (S.READY, S.RESERVED, S.ON_CALL, S.WRAP_UP)
        n = sum(
            1
            for aid, st in state.agent_states.items()
            if st.status in serving and all(s in state.agents[aid].skills for s in skills)
        )
        if serving_cache is not None:
            serving_cache[skills] = n
    if n == 0:
        return QueuePosition(position, None)
    return QueuePosition(position, position * state.recent_aht_s(call.queue) / n)


# --- invariants (tests and debugging) -------------------------------------------------------------


def check_invariants(state: RoutingState, now: float, *, work_conserving: bool = True) -> None:
    """Raise AssertionError if the state breaks a routing invariant (O(agents x calls): tests only).

    Checks: an agent is reserved for at most one call and the call agrees; a call rings at most
    one agent, who is RESERVED for it; only READY agents sit in the ready indexes and every READY
    agent does; every ringing offer has a deadline; waiting calls and indexes agree; and, with
    ``work_conserving`` and not suspended, no READY agent is eligible for a waiting call (which
    holds after :func:`decide` has run the due timers).
    """
    reserved_for: dict[str, str] = {}
    for aid, st in state.agent_states.items():
        if st.status is S.RESERVED:
            assert st.linkedid is not None, aid
            assert st.linkedid not in reserved_for, f"two agents ring for {st.linkedid}"
            reserved_for[st.linkedid] = aid
        assert (aid in state._ready_key) == (st.status is S.READY), f"ready index out of sync for {aid}"
    for lid, entry in state._entries.items():
        if entry.offered_to is not None:
            assert reserved_for.get(lid) == entry.offered_to, f"{lid} offered to a non-reserved agent"
            assert entry.offer_due_at is not None, f"{lid} rings without a deadline"
    for lid in reserved_for:
        assert lid in state._entries, f"agent reserved for untracked call {lid}"
    in_classes = sorted(r[3] for c in state._classes.values() for r in c.by_rank)
    waiting = sorted(lid for lid, e in state._entries.items() if e.offered_to is None)
    assert in_classes == waiting, "call classes out of sync"
    in_lanes = sorted(r[3] for lanes in state._lanes.values() for lane in lanes.values() for r in lane.by_rank)
    laned = sorted(lid for lid, e in state._entries.items() if e.offered_to is None and state._lane(e, create=False))
    assert in_lanes == laned, "group lanes out of sync"
    if work_conserving and not state.suspended:
        for aid in state._ready_key:
            assert naive_pick_call(state, aid, now) is None, f"ready agent {aid} could take a waiting call"
