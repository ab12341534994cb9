"""Contact-centre statistics computed from the event log (pure, replayable).

Feed every event of the log, in order, to :meth:`MetricsState.apply` (live) or to :func:`replay`
(after a restart); both give identical numbers, because nothing here reads a clock: times come from
each event's ``at`` and the reporting ``now`` is passed in.

Input: the events of :mod:`hotline.queues.events` -- the adapter's ``CallQueued``, ``CallAnswered``,
``CallAbandoned``, ``AnsweredCallEnded``, ``CallTransferred``, ``CallbackRequested``, ``OfferFailed`` and
the routing core's facts ``AgentStateChanged``, ``CallOverflowed``, ``CallSentToVoicemail``. Other
events are ignored.

Attribution
-----------
* A call is *offered* to a queue when it enters it (``CallQueued``, or ``CallOverflowed`` for the
  target queue). Everything that later happens to it in that queue is counted in the **local day
  and 15-minute interval of that entry** (so an interval's numbers stop moving once its calls are
  settled) and under each of its required skills.
* Waits are the caller's experience: seconds from the *first* entry into any queue
  (``wait_s = at - first_queued_at``), so overflow does not reset the clock.
* Each offer ends in exactly one outcome: ``answered``, ``abandoned`` (hung up while waiting or
  ringing), ``callback`` (accepted a callback: **not** an abandon), ``voicemail``, ``overflowed``
  (moved to another queue, where it is a new offer) or ``transferred`` (taken out before answer);
  or it is still waiting. Hence ``offered = answered + abandoned + callbacks + voicemails +
  overflowed + transferred + waiting``.
* Offers are not calls: an overflowed call is one call but two offers. The **hotline-level call
  outcomes** (:class:`CallOutcomes`, ``report(now)["calls"]``) count *calls* (linkedids), each in the
  local day it first appeared (its ``IvrEntered``, else its first ``CallQueued``).
* Days are local calendar days in ``MetricsConfig.timezone`` (Asia/Shanghai by default, via
  ``zoneinfo``); intervals start at local multiples of ``interval_s`` since local midnight.

Call outcomes (hotline level, per call)
---------------------------------------
A call reaches the hotline through the IVR (``IvrEntered``) or, without it, *directly* (a
``CallQueued`` with no IVR session seen: a citizen-first callback call re-entering routing, an
agent-first callback placeholder, or a hand-over whose IVR start this log does not hold). Each call
has exactly one outcome, or is still in progress:

* in the IVR: ``abandoned_ivr`` (the caller hung up; counted per node where they left),
  ``self_served`` (the IVR ended the call as designed), ``failed`` (technical, per reason), or it
  went to a queue (its first ``CallQueued``: ``offered_queue``); ``in_ivr`` while the session runs.
  An IVR that reports a hand-over (``IvrEnded`` ``queued``) that routing never received counts as
  ``failed`` / ``handover_refused`` -- until a late ``CallQueued`` moves it to ``offered_queue``
  (the routing log wins: the call *is* in a queue). A ``CallQueued`` after any other IVR end is a
  new, direct call (it does not happen with this IVR).
* in a queue (the final outcome of its last offer; an overflow is not an outcome): ``answered``,
  ``abandoned_queue`` (``abandoned_queue_short``: waited less than ``T_short`` of that queue),
  ``callbacks``, ``transferred``, ``voicemail``; ``waiting`` while waiting or ringing an agent. A
  later re-queue of the same linkedid is a new offer but not a new call.

Invariants (every day, at every moment):

* ``reached_ivr = in_ivr + abandoned_ivr + self_served + failed + (offered_queue - direct)``
* ``offered_queue = answered + abandoned_queue + callbacks + transferred + voicemail + waiting``
* "offered to the hotline" ``= reached_ivr + direct``.

Definitions (per queue or skill, per day or interval; ``T`` = the queue's ``service_level_s``,
``T_short`` = its ``short_abandon_s``; a ratio whose denominator is 0 is None):

* ``A`` answered, ``A_T`` answered with ``wait_s <= T``; ``Ab`` abandoned, ``Ab_T`` abandoned
  with ``wait_s <= T``, ``Ab_short`` abandoned with ``wait_s < T_short``; ``O`` offered.
* **SL1 "answered"** ``= A_T / A``.
* **SL2 "answered + abandoned"** ``= A_T / (A + Ab)``.
* **SL3 "short abandons excluded"** ``= A_T / (A + Ab - Ab_short)``.
* **SL4 "abandons within T neutral"** ``= (A_T + Ab_T) / O``.
* **ASA** (average speed of answer) ``= sum(wait_s of answered) / A`` seconds.
* **AHT** (average handle time) ``= sum(talk_s + hold_s + wrap_up_s) / H`` seconds over the ``H``
  calls whose wrap-up has ended; ``talk_s = ended_at - answered_at - hold_s``; ``hold_s`` from
  ``AnsweredCallEnded.hold_s``; ``wrap_up_s`` = time the agent spent in WRAP_UP for that call.
* **Abandon rate** ``= Ab / O``; **abandon rate excluding short** ``= (Ab - Ab_short) / (O -
  Ab_short)``.
* **Occupancy** (per day, all agents) ``= (on_call_s + wrap_up_s) / (ready_s + reserved_s +
  on_call_s + wrap_up_s)``: the share of staffed, available time spent handling calls; agent state
  time is split at local midnight.
* **Longest current wait** per queue ``= max(now - first_queued_at)`` over calls still waiting.
"""

from __future__ import annotations

import enum
import math
from collections import Counter as _Tally
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.queues.events import (
    AgentStateChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallOverflowed,
    CallQueued,
    CallSentToVoicemail,
    CallTransferred,
    IvrEnded,
    IvrEntered,
    IvrOutcome,
    OfferFailed,
)
from hotline.queues.exceptions import InvalidQueueConfig
from hotline.queues.model import AgentStatus, QueueConfig

__all__ = [
    "AgentView",
    "CallOutcomes",
    "Counters",
    "LiveView",
    "MetricsConfig",
    "MetricsState",
    "Outcome",
    "ServiceLevel",
    "classify_ivr_end",
    "replay",
]

S = AgentStatus


class ServiceLevel(enum.StrEnum):
    """The service-level variants; label the one a screen shows (see the module docstring)."""

    SL1 = "SL1 answered"  # A_T / A
    SL2 = "SL2 answered+abandoned"  # A_T / (A + Ab)
    SL3 = "SL3 short abandons excluded"  # A_T / (A + Ab - Ab_short)
    SL4 = "SL4 abandons within T neutral"  # (A_T + Ab_T) / O


class Outcome(enum.StrEnum):
    """How an offer to a queue ended."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    OVERFLOWED = "overflowed"
    TRANSFERRED = "transferred"


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Thresholds and calendar of the statistics.

    Attributes:
        timezone: IANA zone of the daily windows and intervals.
        interval_s: interval length in seconds (900 = 15 minutes); must divide a day.
        service_level_s: default ``T`` in seconds.
        short_abandon_s: default ``T_short`` in seconds.
        queue_service_level_s: per-queue ``T`` overriding the default.
        queue_short_abandon_s: per-queue ``T_short``.
        queue_skills: queue -> skills, for calls queued without explicit skills.
    Raises:
        InvalidQueueConfig: bad interval or unknown time zone.
    """

    timezone: str = "Asia/Shanghai"
    interval_s: int = 900
    service_level_s: float = 20.0
    short_abandon_s: float = 5.0
    queue_service_level_s: Mapping[str, float] = field(default_factory=dict)
    queue_short_abandon_s: Mapping[str, float] = field(default_factory=dict)
    queue_skills: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or 86_400 % self.interval_s:
            raise InvalidQueueConfig(f"interval_s must divide a day, got {self.interval_s}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:  # not in the tz database; not a valid key
            raise InvalidQueueConfig(f"unknown time zone {self.timezone!r}") from exc

    @classmethod
    def from_queues(cls, queues: Iterable[QueueConfig], timezone: str = "Asia/Shanghai") -> MetricsConfig:
        """Take ``T``, ``T_short`` and skills from the routing queue configuration."""
        qs = list(queues)
        return cls(
            timezone=timezone,
            queue_service_level_s={q.name: q.service_level_s for q in qs},
            queue_short_abandon_s={q.name: q.short_abandon_s for q in qs},
            queue_skills={q.name: q.skills for q in qs},
        )


@dataclass(slots=True)
class Counters:
    """Additive counters of one (window, queue or skill); ratios are derived (see module docstring).

    All ``*_s`` fields are sums of seconds.
    """

    offered: int = 0
    answered: int = 0
    answered_within_t: int = 0
    abandoned: int = 0
    abandoned_within_t: int = 0
    short_abandoned: int = 0
    callbacks: int = 0
    voicemails: int = 0
    overflowed: int = 0
    transferred: int = 0
    missed_offers: int = 0  # ring-no-answer / busy offers (an agent failed, the caller kept waiting)
    answer_wait_s: float = 0.0
    handled: int = 0
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0

    def add(self, other: Counters) -> None:
        """Add ``other`` into this one (for totals across queues or intervals)."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def service_level(self, variant: ServiceLevel) -> float | None:
        """The ratio (0-1) of ``variant``; None when its denominator is 0."""
        if variant is ServiceLevel.SL1:
            num, den = self.answered_within_t, self.answered
        elif variant is ServiceLevel.SL2:
            num, den = self.answered_within_t, self.answered + self.abandoned
        elif variant is ServiceLevel.SL3:
            num, den = self.answered_within_t, self.answered + self.abandoned - self.short_abandoned
        else:
            num, den = self.answered_within_t + self.abandoned_within_t, self.offered
        return num / den if den else None

    @property
    def asa_s(self) -> float | None:
        """Average speed of answer, seconds: ``answer_wait_s / answered``."""
        return self.answer_wait_s / self.answered if self.answered else None

    @property
    def aht_s(self) -> float | None:
        """Average handle time, seconds: ``(talk_s + hold_s + wrap_up_s) / handled``."""
        return (self.talk_s + self.hold_s + self.wrap_up_s) / self.handled if self.handled else None

    @property
    def abandon_ratio(self) -> float | None:
        """``abandoned / offered``."""
        return self.abandoned / self.offered if self.offered else None

    @property
    def abandon_excl_short_ratio(self) -> float | None:
        """``(abandoned - short_abandoned) / (offered - short_abandoned)``."""
        den = self.offered - self.short_abandoned
        return (self.abandoned - self.short_abandoned) / den if den else None


@dataclass(slots=True)
class CallOutcomes:
    """Hotline-level outcomes of the calls of one local day (calls, not offers; see the module
    docstring for the definitions and the invariants).

    Attributes:
        reached_ivr: calls whose IVR session started (``IvrEntered``).
        in_ivr: of those, still in the IVR (in progress).
        abandoned_ivr: the caller hung up in the IVR; ``abandoned_ivr_by_node``: node id -> calls.
        self_served: the IVR ended the call as designed.
        failed: technical ends in the IVR; ``failed_by_reason``: reason -> calls.
        offered_queue: calls offered to a queue (first ``CallQueued``), from the IVR or direct.
        direct: of ``offered_queue``, calls that did not come through the IVR.
        answered / abandoned_queue / callbacks / transferred / voicemail: the call's final queue
            outcome; ``abandoned_queue_short``: of the abandons, those that waited less than
            ``T_short``; ``waiting``: still waiting or ringing an agent (in progress).
    """

    reached_ivr: int = 0
    in_ivr: int = 0
    abandoned_ivr: int = 0
    abandoned_ivr_by_node: dict[str, int] = field(default_factory=dict)
    self_served: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    offered_queue: int = 0
    direct: int = 0
    answered: int = 0
    abandoned_queue: int = 0
    abandoned_queue_short: int = 0
    callbacks: int = 0
    transferred: int = 0
    voicemail: int = 0
    waiting: int = 0

    @property
    def offered_hotline(self) -> int:
        """Calls offered to the hotline: ``reached_ivr + direct``."""
        return self.reached_ivr + self.direct

    @property
    def from_ivr(self) -> int:
        """Calls the IVR handed to a queue: ``offered_queue - direct``."""
        return self.offered_queue - self.direct

    @property
    def balanced(self) -> bool:
        """Both invariants hold (and the per-node / per-reason tallies add up)."""
        return (
            self.reached_ivr == self.in_ivr + self.abandoned_ivr + self.self_served + self.failed + self.from_ivr
            and self.offered_queue == self.answered + self.abandoned_queue + self.callbacks + self.transferred
            + self.voicemail + self.waiting
            and sum(self.abandoned_ivr_by_node.values()) == self.abandoned_ivr
            and sum(self.failed_by_reason.values()) == self.failed
            and min(self.in_ivr, self.waiting, self.failed, self.direct) >= 0
        )

    def copy(self) -> CallOutcomes:
        """A deep copy (the tallies are dicts)."""
        return replace(self, abandoned_ivr_by_node=dict(sorted(self.abandoned_ivr_by_node.items())),
                       failed_by_reason=dict(sorted(self.failed_by_reason.items())))

    def add(self, other: CallOutcomes) -> None:
        """Add ``other`` into this one (totals over days)."""
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            if isinstance(mine, dict):
                for k, v in getattr(other, name).items():
                    mine[k] = mine.get(k, 0) + v
            else:
                setattr(self, name, mine + getattr(other, name))


#: the IVR's session reasons that end a call as designed (``ivr.interpreter``: a hangup node reached)
SELF_SERVED_REASONS = frozenset({"hangup_node"})


def classify_ivr_end(session_outcome: str, reason: str, node_kind: str | None = None) -> tuple[IvrOutcome, str]:
    """Map an IVR session's end (:class:`hotline.ivr.agi.SessionRecord` ``outcome`` and ``reason``) to the
    outcome the statistics count, and the reason to count it under.

    * ``queued`` -> ``queued``;
    * ``caller_hung_up`` -> ``abandoned``, except at a node of kind ``hangup`` (the goodbye was
      playing: the call had ended as designed) -> ``self_served``;
    * ``hung_up`` with reason ``hangup_node`` -> ``self_served``; with any other reason
      (``retries_exhausted`` with no fallback, ``max_steps``, ``menu_error``, ``menu_changed``,
      ``command_failures``) -> ``failed`` under that reason;
    * ``error``, ``handover_failed``, ``stopped`` and anything unknown -> ``failed`` under the
      session outcome itself.

    Args:
        node_kind: the menu node kind where the session ended, if the caller knows it.
    Returns:
        ``(outcome, reason)``.
    """
    if session_outcome == "queued":
        return IvrOutcome.QUEUED, reason
    if session_outcome == "caller_hung_up":
        if node_kind == "hangup":
            return IvrOutcome.SELF_SERVED, "caller_hung_up_at_goodbye"
        return IvrOutcome.ABANDONED, "caller_hung_up"
    if session_outcome == "hung_up":
        if reason in SELF_SERVED_REASONS:
            return IvrOutcome.SELF_SERVED, reason
        return IvrOutcome.FAILED, reason or "hung_up"
    return IvrOutcome.FAILED, session_outcome or "unknown"


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent on the wallboard at ``now``: status, reason and seconds in state."""

    agent_id: str
    status: AgentStatus
    reason: str | None
    time_in_state_s: float


@dataclass(frozen=True, slots=True)
class LiveView:
    """What is happening at ``now``.

    Attributes:
        waiting: queue -> calls waiting (not yet answered or otherwise ended).
        longest_wait_s: queue -> ``max(now - first_queued_at)`` over waiting calls.
        agents_by_status: status -> number of agents.
        agents: every agent seen in the log, by id.
        occupancy_ratio: today's occupancy including the spans still open at ``now``; None if no
            staffed time yet.
    """

    waiting: Mapping[str, int]
    longest_wait_s: Mapping[str, float]
    agents_by_status: Mapping[AgentStatus, int]
    agents: tuple[AgentView, ...]
    occupancy_ratio: float | None


@dataclass(slots=True)
class _Offer:
    """One call's stay in one queue."""

    linkedid: str
    queue: str
    skills: frozenset[str]
    first_queued_at: float
    day: date
    interval_at: float
    t_s: float
    t_short_s: float
    outcome: Outcome | None = None
    answered_at: float | None = None
    agent_id: str | None = None
    ended: bool = False
    talk_s: float = 0.0
    hold_s: float = 0.0


#: the counted IVR phase of a call: still there, or the outcome it is counted under
_IN_IVR = "in_ivr"
_QUEUE = "queue"  # counted in offered_queue
_REFUSED = "handover_refused"  # the IVR said queued, routing never got it (failed until a CallQueued)


@dataclass(slots=True)
class _Call:
    """One call's hotline-level bookkeeping (until its outcomes are final)."""

    day: date
    via_ivr: bool
    phase: str  # _IN_IVR, _QUEUE, _REFUSED or an IvrOutcome it is counted under
    ivr_key: str = ""  # the node (abandoned) or reason (failed) it is counted under
    ivr_ended: bool = False
    outcome: Outcome | None = None  # final queue outcome of the call


@dataclass(slots=True)
class _AgentSpan:
    status: AgentStatus
    reason: str | None
    since_at: float
    linkedid: str | None


class MetricsState:
    """Incremental statistics: :meth:`apply` each logged event, read with the query methods.

    Queries:
        :meth:`daily` (day, queue) and :meth:`daily_by_skill` counters, :meth:`intervals` (the
        15-minute series of a day), :meth:`day_totals`, :meth:`occupancy_ratio` and :meth:`live`.
    """

    def __init__(self, config: MetricsConfig | None = None) -> None:
        self.config = config or MetricsConfig()
        self._tz = ZoneInfo(self.config.timezone)
        self._by_queue: dict[tuple[date, str], Counters] = {}
        self._by_skill: dict[tuple[date, str], Counters] = {}
        self._by_interval: dict[tuple[float, str], Counters] = {}
        self._offers: dict[str, _Offer] = {}  # linkedid -> current offer (until settled and handled)
        self._agents: dict[str, _AgentSpan] = {}
        self._state_time_s: dict[tuple[date, AgentStatus], float] = {}
        self._logged_in_s: dict[float, float] = {}  # interval_start_at -> logged-in agent-seconds (closed spans)
        self._call_days: dict[date, CallOutcomes] = {}
        self._calls: dict[str, _Call] = {}  # linkedid -> call, until its IVR end and queue outcome are known
        self.events_applied = 0

    # -- calendar --------------------------------------------------------------------------------

    def local_day(self, at: float) -> date:
        """Local calendar day of epoch seconds ``at``."""
        return datetime.fromtimestamp(at, self._tz).date()

    def interval_start_at(self, at: float) -> float:
        """Epoch seconds of the start of the local interval containing ``at``."""
        offset = datetime.fromtimestamp(at, self._tz).utcoffset()
        offset_s = int(offset.total_seconds()) if offset is not None else 0
        step = self.config.interval_s
        return float(math.floor((at + offset_s) / step) * step - offset_s)  # whole seconds: exact keys

    def _next_midnight_at(self, at: float) -> float:
        d = self.local_day(at) + timedelta(days=1)
        return datetime(d.year, d.month, d.day, tzinfo=self._tz).timestamp()

    # -- apply -------------------------------------------------------------------------------------

    def _buckets(self, o: _Offer) -> list[Counters]:
        out = [
            self._by_queue.setdefault((o.day, o.queue), Counters()),
            self._by_interval.setdefault((o.interval_at, o.queue), Counters()),
        ]
        out += [self._by_skill.setdefault((o.day, s), Counters()) for s in sorted(o.skills)]
        return out

    def _open_offer(self, linkedid: str, queue: str, skills: frozenset[str], first_at: float, at: float) -> None:
        cfg = self.config
        offer = _Offer(
            linkedid=linkedid,
            queue=queue,
            skills=skills or cfg.queue_skills.get(queue, frozenset()),
            first_queued_at=first_at,
            day=self.local_day(at),
            interval_at=self.interval_start_at(at),
            t_s=cfg.queue_service_level_s.get(queue, cfg.service_level_s),
            t_short_s=cfg.queue_short_abandon_s.get(queue, cfg.short_abandon_s),
        )
        self._offers[linkedid] = offer
        for c in self._buckets(offer):
            c.offered += 1

    def _settle(self, o: _Offer, outcome: Outcome, at: float) -> None:
        o.outcome = outcome
        wait_s = at - o.first_queued_at
        for c in self._buckets(o):
            if outcome is Outcome.ANSWERED:
                c.answered += 1
                c.answer_wait_s += wait_s
                c.answered_within_t += wait_s <= o.t_s
            elif outcome is Outcome.ABANDONED:
                c.abandoned += 1
                c.abandoned_within_t += wait_s <= o.t_s
                c.short_abandoned += wait_s < o.t_short_s
            elif outcome is Outcome.CALLBACK:
                c.callbacks += 1
            elif outcome is Outcome.VOICEMAIL:
                c.voicemails += 1
            elif outcome is Outcome.OVERFLOWED:
                c.overflowed += 1
            else:
                c.transferred += 1
        if outcome is not Outcome.OVERFLOWED:
            self._call_settled(o, outcome, wait_s)

    def _waiting_offer(self, linkedid: str) -> _Offer | None:
        o = self._offers.get(linkedid)
        return o if o is not None and o.outcome is None else None

    def apply(self, event: object) -> None:
        """Fold one logged event into the statistics (unknown event types are ignored).

        Args:
            event: an event of :mod:`hotline.queues.events`; ``event.at`` is epoch seconds.
        """
        self.events_applied += 1
        match event:
            case CallQueued():
                if event.linkedid not in self._offers:  # a duplicate CallQueued is ignored
                    self._open_offer(event.linkedid, event.queue, event.skills, event.at, event.at)
                    self._call_queued(event.linkedid, event.at)
            case IvrEntered():
                self._ivr_entered(event)
            case IvrEnded():
                self._ivr_ended(event)
            case CallOverflowed():
                o = self._waiting_offer(event.linkedid)
                if o is not None:
                    self._settle(o, Outcome.OVERFLOWED, event.at)
                    self._open_offer(event.linkedid, event.to_queue, o.skills, o.first_queued_at, event.at)
            case CallAnswered():
                o = self._waiting_offer(event.linkedid)
                if o is not None:
                    o.answered_at, o.agent_id = event.at, event.agent_id
                    self._settle(o, Outcome.ANSWERED, event.at)
            case CallAbandoned():
                o = self._waiting_offer(event.linkedid)
                if o is not None:
                    self._settle(o, Outcome.ABANDONED, event.at)
                    del self._offers[event.linkedid]
            case CallbackRequested() | CallSentToVoicemail():
                o = self._waiting_offer(event.linkedid)
                if o is not None:
                    outcome = Outcome.CALLBACK if isinstance(event, CallbackRequested) else Outcome.VOICEMAIL
                    self._settle(o, outcome, event.at)
                    del self._offers[event.linkedid]
            case CallTransferred():
                o = self._offers.get(event.linkedid)
                if o is not None and o.outcome is None:
                    self._settle(o, Outcome.TRANSFERRED, event.at)
                    del self._offers[event.linkedid]
                elif o is not None:
                    self._call_ended(o, event.at, 0.0)
            case AnsweredCallEnded():
                o = self._offers.get(event.linkedid)
                if o is not None and o.outcome is Outcome.ANSWERED:
                    self._call_ended(o, event.at, event.hold_s)
            case OfferFailed():
                o = self._waiting_offer(event.linkedid)
                if o is not None:
                    for c in self._buckets(o):
                        c.missed_offers += 1
            case AgentStateChanged():
                self._agent_changed(event)
            case _:
                pass

    # -- hotline-level call outcomes ------------------------------------------------------------------

    def _day_outcomes(self, day: date) -> CallOutcomes:
        return self._call_days.setdefault(day, CallOutcomes())

    def _ivr_entered(self, ev: IvrEntered) -> None:
        if ev.linkedid in self._calls:
            return  # a duplicate, or a second IVR session of the same call: one call
        day = self.local_day(ev.at)
        self._calls[ev.linkedid] = _Call(day, via_ivr=True, phase=_IN_IVR)
        co = self._day_outcomes(day)
        co.reached_ivr += 1
        co.in_ivr += 1

    def _ivr_ended(self, ev: IvrEnded) -> None:
        c = self._calls.get(ev.linkedid)
        if c is None:  # its start is not in this log (e.g. before the replay window): it reached the IVR
            self._ivr_entered(IvrEntered(ev.linkedid, ev.uniqueid, ev.at))
            c = self._calls[ev.linkedid]
        if c.ivr_ended or not c.via_ivr:
            return
        c.ivr_ended = True
        if c.phase == _IN_IVR:
            co = self._day_outcomes(c.day)
            co.in_ivr -= 1
            if ev.outcome == IvrOutcome.QUEUED:
                self._count_ivr(c, co, _REFUSED, _REFUSED)
            elif ev.outcome == IvrOutcome.ABANDONED:
                self._count_ivr(c, co, IvrOutcome.ABANDONED, ev.node)
            elif ev.outcome == IvrOutcome.SELF_SERVED:
                self._count_ivr(c, co, IvrOutcome.SELF_SERVED, "")
            else:
                self._count_ivr(c, co, IvrOutcome.FAILED, ev.reason or ev.outcome or "unknown")
        self._maybe_forget(ev.linkedid, c)

    @staticmethod
    def _count_ivr(c: _Call, co: CallOutcomes, phase: str, key: str, sign: int = 1) -> None:
        c.phase, c.ivr_key = phase, key
        if phase == IvrOutcome.ABANDONED:
            co.abandoned_ivr += sign
            tally = co.abandoned_ivr_by_node
        elif phase == IvrOutcome.SELF_SERVED:
            co.self_served += sign
            return
        else:  # FAILED or _REFUSED
            co.failed += sign
            tally = co.failed_by_reason
        tally[key] = tally.get(key, 0) + sign
        if not tally[key]:
            del tally[key]

    def _call_queued(self, linkedid: str, at: float) -> None:
        c = self._calls.get(linkedid)
        if c is None:
            c = self._calls[linkedid] = _Call(self.local_day(at), via_ivr=False, phase=_QUEUE)
            co = self._day_outcomes(c.day)
            co.direct += 1
        elif c.phase == _QUEUE:
            return  # a re-queue of the same call: a new offer, not a new call
        else:
            co = self._day_outcomes(c.day)
            if c.phase == _IN_IVR:
                co.in_ivr -= 1
            else:  # a refused hand-over after all: the routing log wins over what the IVR reported
                self._count_ivr(c, co, c.phase, c.ivr_key, sign=-1)
            c.phase, c.ivr_key = _QUEUE, ""
        co.offered_queue += 1
        co.waiting += 1

    def _call_settled(self, o: _Offer, outcome: Outcome, wait_s: float) -> None:
        c = self._calls.get(o.linkedid)
        if c is None or c.phase != _QUEUE or c.outcome is not None:
            return
        c.outcome = outcome
        co = self._day_outcomes(c.day)
        co.waiting -= 1
        if outcome is Outcome.ANSWERED:
            co.answered += 1
        elif outcome is Outcome.ABANDONED:
            co.abandoned_queue += 1
            co.abandoned_queue_short += wait_s < o.t_short_s
        elif outcome is Outcome.CALLBACK:
            co.callbacks += 1
        elif outcome is Outcome.VOICEMAIL:
            co.voicemail += 1
        else:
            co.transferred += 1
        self._maybe_forget(o.linkedid, c)

    def _maybe_forget(self, linkedid: str, c: _Call) -> None:
        """Drop a call whose numbers are final: its IVR end (if any) and its queue outcome are in, or
        it ended in the IVR. A refused hand-over is kept until :meth:`forget_before` (a late
        ``CallQueued`` moves it); a ``CallQueued`` for a dropped call counts as a direct call."""
        if c.outcome is not None and (c.ivr_ended or not c.via_ivr):
            del self._calls[linkedid]
        elif c.ivr_ended and c.phase not in (_QUEUE, _REFUSED):
            del self._calls[linkedid]

    def _call_ended(self, o: _Offer, at: float, hold_s: float) -> None:
        if o.ended or o.answered_at is None:
            return
        o.ended = True
        o.hold_s = max(0.0, hold_s)
        o.talk_s = max(0.0, at - o.answered_at - o.hold_s)

    def _agent_changed(self, ev: AgentStateChanged) -> None:
        prev = self._agents.get(ev.agent_id)
        if prev is not None:
            self._accumulate(prev.status, prev.since_at, ev.at)
            if prev.status is not S.LOGGED_OUT:
                self._add_logged_in(prev.since_at, ev.at, self._logged_in_s)
            if prev.status is S.WRAP_UP and prev.linkedid is not None:
                o = self._offers.get(prev.linkedid)
                if o is not None and o.ended and o.agent_id == ev.agent_id:
                    wrap_s = max(0.0, ev.at - prev.since_at)
                    for c in self._buckets(o):
                        c.handled += 1
                        c.talk_s += o.talk_s
                        c.hold_s += o.hold_s
                        c.wrap_up_s += wrap_s
                    del self._offers[prev.linkedid]
        self._agents[ev.agent_id] = _AgentSpan(ev.status, ev.reason, ev.at, ev.linkedid)

    def _accumulate(
        self,
        status: AgentStatus,
        start: float,
        end: float,
        into: dict[tuple[date, AgentStatus], float] | None = None,
    ) -> None:
        """Add ``[start, end)`` seconds to ``status``, split at local midnights."""
        into = self._state_time_s if into is None else into
        while start < end:
            cut = min(end, self._next_midnight_at(start))
            key = (self.local_day(start), status)
            into[key] = into.get(key, 0.0) + (cut - start)
            start = cut

    def _add_logged_in(self, start: float, end: float, into: dict[float, float]) -> None:
        """Add ``[start, end)`` logged-in seconds, split at interval starts."""
        step = self.config.interval_s
        while start < end:
            iat = self.interval_start_at(start)
            cut = min(end, iat + step)
            into[iat] = into.get(iat, 0.0) + (cut - start)
            start = cut

    # -- queries -------------------------------------------------------------------------------------

    def staffing(self, now: float) -> dict[float, float]:
        """Logged-in agent-seconds per interval: ``{interval_start_at: seconds}`` (any status but
        ``LOGGED_OUT``), open spans counted up to ``now``. Source: ``AgentStateChanged`` facts; an
        agent's time counts from their first fact applied (a replay starts at local midnight)."""
        out = dict(self._logged_in_s)
        for span in self._agents.values():
            if span.status is not S.LOGGED_OUT:
                self._add_logged_in(span.since_at, now, out)
        return out

    def forget_before(self, day: date) -> None:
        """Drop counters and agent times of local days before ``day`` (bounded memory on a
        long-running service; the log still has them)."""
        self._by_queue = {k: v for k, v in self._by_queue.items() if k[0] >= day}
        self._by_skill = {k: v for k, v in self._by_skill.items() if k[0] >= day}
        self._state_time_s = {k: v for k, v in self._state_time_s.items() if k[0] >= day}
        self._logged_in_s = {k: v for k, v in self._logged_in_s.items() if self.local_day(k) >= day}
        self._by_interval = {k: v for k, v in self._by_interval.items() if self.local_day(k[0]) >= day}
        self._call_days = {k: v for k, v in self._call_days.items() if k >= day}
        self._calls = {k: c for k, c in self._calls.items() if c.day >= day}

    def daily(self, day: date, queue: str) -> Counters:
        """Counters of ``queue`` for local ``day`` (a copy; zeros if nothing happened)."""
        return replace(self._by_queue.get((day, queue), Counters()))

    def daily_by_skill(self, day: date, skill: str) -> Counters:
        """Counters of every offer needing ``skill`` on local ``day`` (a copy)."""
        return replace(self._by_skill.get((day, skill), Counters()))

    def day_totals(self, day: date) -> Counters:
        """All queues together for ``day`` (an overflowed call counts once per queue it entered)."""
        total = Counters()
        for (d, _q), c in self._by_queue.items():
            if d == day:
                total.add(c)
        return total

    def calls(self, day: date) -> CallOutcomes:
        """Hotline-level call outcomes of local ``day`` (a copy; zeros if nothing happened)."""
        return self._call_days.get(day, CallOutcomes()).copy()

    def queues_seen(self, day: date) -> list[str]:
        """Queues with at least one offer on ``day``, sorted."""
        return sorted(q for d, q in self._by_queue if d == day)

    def intervals(self, day: date, queue: str | None = None) -> list[tuple[float, Counters]]:
        """The interval series of local ``day``: ``(interval_start_at, counters)`` for every interval
        of the day in order (``86400 / interval_s`` rows, zeros where idle), one queue or all."""
        start = datetime(day.year, day.month, day.day, tzinfo=self._tz).timestamp()
        end = self._next_midnight_at(start)
        rows: list[tuple[float, Counters]] = []
        at = start
        while at < end:
            c = Counters()
            if queue is None:
                for (iat, _q), v in self._by_interval.items():
                    if iat == at:
                        c.add(v)
            else:
                c.add(self._by_interval.get((at, queue), Counters()))
            rows.append((at, c))
            at = self.interval_start_at(at + self.config.interval_s)
        return rows

    def agent_state_time_s(self, day: date, now: float | None = None) -> dict[AgentStatus, float]:
        """Seconds all agents spent in each status on ``day``; with ``now``, open spans count to ``now``."""
        out: dict[AgentStatus, float] = {st: t for (d, st), t in self._state_time_s.items() if d == day}
        if now is not None:
            extra: dict[tuple[date, AgentStatus], float] = {}
            for span in self._agents.values():
                self._accumulate(span.status, span.since_at, now, extra)
            for (d, st), t in extra.items():
                if d == day:
                    out[st] = out.get(st, 0.0) + t
        return out

    def occupancy_ratio(self, day: date, now: float | None = None) -> float | None:
        """``(on_call_s + wrap_up_s) / (ready_s + reserved_s + on_call_s + wrap_up_s)`` for ``day``."""
        t = self.agent_state_time_s(day, now)
        busy = t.get(S.ON_CALL, 0.0) + t.get(S.WRAP_UP, 0.0)
        staffed = busy + t.get(S.READY, 0.0) + t.get(S.RESERVED, 0.0)
        return busy / staffed if staffed > 0 else None

    def live(self, now: float) -> LiveView:
        """Waiting calls, longest wait, agents by status and today's occupancy at ``now``."""
        waiting: _Tally[str] = _Tally()
        longest: dict[str, float] = {}
        for o in self._offers.values():
            if o.outcome is None:
                waiting[o.queue] += 1
                longest[o.queue] = max(longest.get(o.queue, -math.inf), now - o.first_queued_at)
        by_status = _Tally(span.status for span in self._agents.values())
        agents = tuple(
            AgentView(aid, span.status, span.reason, max(0.0, now - span.since_at))
            for aid, span in sorted(self._agents.items())
        )
        return LiveView(
            waiting=dict(sorted(waiting.items())),
            longest_wait_s=dict(sorted(longest.items())),
            agents_by_status={st: by_status.get(st, 0) for st in AgentStatus},
            agents=agents,
            occupancy_ratio=self.occupancy_ratio(self.local_day(now), now),
        )

    def report(self, now: float) -> dict[str, object]:
        """Everything, as plain data (for equality checks and snapshots): counters by key and the
        live view at ``now``.

        Keys: ``by_queue`` ``{(day, queue): Counters}``, ``by_skill`` ``{(day, skill): Counters}``,
        ``by_interval`` ``{(interval_start_at, queue): Counters}`` (offers), ``calls``
        ``{day: CallOutcomes}`` (calls, hotline level), ``state_time_s``, ``live``.
        """
        return {
            "calls": {k: v.copy() for k, v in sorted(self._call_days.items())},
            "by_queue": {k: replace(v) for k, v in sorted(self._by_queue.items())},
            "by_skill": {k: replace(v) for k, v in sorted(self._by_skill.items())},
            "by_interval": {k: replace(v) for k, v in sorted(self._by_interval.items())},
            "state_time_s": dict(sorted(self._state_time_s.items())),
            "live": self.live(now),
        }


def replay(events: Iterable[object], config: MetricsConfig | None = None) -> MetricsState:
    """Rebuild the statistics from a log (e.g. today's events after a restart).

    Equal to applying the same events live, one by one, in the same order.
    """
    state = MetricsState(config)
    for ev in events:
        state.apply(ev)
    return state
