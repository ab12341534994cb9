"""Plain data of the routing core: agents, agent states, waiting calls, queue configuration.

All classes are frozen, slotted dataclasses; times are epoch seconds (``_at``) or durations in
seconds (``_s``) on the same clock as the AMI ``Timestamp`` header.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hotline.queues.exceptions import InvalidQueueConfig

__all__ = [
    "MAX_PROFICIENCY",
    "MIN_PROFICIENCY",
    "Agent",
    "AgentOrder",
    "AgentState",
    "AgentStatus",
    "ExpansionStep",
    "MaxWaitAction",
    "NotReadyReason",
    "QueueConfig",
    "WaitingCall",
]

MIN_PROFICIENCY = 1
MAX_PROFICIENCY = 5


class AgentStatus(enum.StrEnum):
    """Where an agent is; one owner (:mod:`hotline.queues.agents`) changes it."""

    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"  # offered one call, the agent's phone is ringing
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after-call work, timer per queue
    NOT_READY = "not_ready"  # paused, with a reason code


class NotReadyReason(enum.StrEnum):
    """Reason codes for NOT_READY. Any string is accepted; these are the ones the core sets itself
    (``missed``, ``unreachable``) plus the usual ones agents pick."""

    BREAK = "break"
    LUNCH = "lunch"
    TRAINING = "training"
    MEETING = "meeting"
    MISSED = "missed"  # set by the core on ring-no-answer
    UNREACHABLE = "unreachable"  # set by the core when the endpoint is busy / unregistered
    AFTER_LOGIN = "after_login"  # logged in but not yet ready


class AgentOrder(enum.StrEnum):
    """Tie-break between equally proficient ready agents."""

    LONGEST_IDLE = "longest_idle"  # smallest idle_since_at first
    FEWEST_CALLS = "fewest_calls"  # smallest calls_today, then longest idle


class MaxWaitAction(enum.StrEnum):
    """What happens when a caller reaches ``QueueConfig.max_wait_s``."""

    CALLBACK = "callback"  # offer a callback (the caller stays queued until they accept)
    VOICEMAIL = "voicemail"  # send to voicemail (the call leaves the queue)


def _frozen_skills(skills: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(skills))


@dataclass(frozen=True, slots=True)
class Agent:
    """A person who answers calls: static definition (changes only by a supervisor edit).

    Attributes:
        id: agent id (the key everywhere; the PJSIP endpoint is adapter business).
        skills: skill name -> proficiency 1 (novice) .. 5 (expert).
        languages: languages spoken, e.g. ``{"zh", "yue", "en"}``.
        groups: teams the agent belongs to (targets of "any agent of the group" expansion).
    Raises:
        InvalidQueueConfig: a proficiency outside 1..5.
    """

    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for skill, level in self.skills.items():
            if not (MIN_PROFICIENCY <= level <= MAX_PROFICIENCY) or isinstance(level, bool):
                raise InvalidQueueConfig(f"agent {self.id}: skill {skill!r} proficiency {level} not in 1..5")
        object.__setattr__(self, "skills", _frozen_skills(self.skills))
        object.__setattr__(self, "languages", frozenset(self.languages))
        object.__setattr__(self, "groups", frozenset(self.groups))

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent's dynamic state; replaced (never mutated) by :mod:`hotline.queues.agents` transitions.

    Attributes:
        agent_id: the agent.
        status: current status.
        state_since_at: epoch s when ``status`` (and ``reason``) were entered: time in state is
            ``now - state_since_at``.
        idle_since_at: epoch s when the agent last became free (end of last call's wrap-up or login);
            the "longest idle" order uses it. A call offered but not answered does not reset it.
        calls_today: calls answered since the last :func:`hotline.queues.agents.new_day`.
        reason: NOT_READY reason code, else None.
        linkedid: the call the agent is reserved for / talking on / wrapping up, else None.
        queue: the queue of that call, else None.
        wrap_up_until_at: epoch s when WRAP_UP ends by itself, else None.
    """

    agent_id: str
    status: AgentStatus = AgentStatus.LOGGED_OUT
    state_since_at: float = 0.0
    idle_since_at: float = 0.0
    calls_today: int = 0
    reason: str | None = None
    linkedid: str | None = None
    queue: str | None = None
    wrap_up_until_at: float | None = None

    def time_in_state_s(self, now: float) -> float:
        """Seconds spent in the current status at ``now`` (epoch s)."""
        return max(0.0, now - self.state_since_at)


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A caller waiting in a queue (held in a bridge or on MOH by the adapter).

    Attributes:
        linkedid: the whole call (key).
        uniqueid: the caller's channel.
        queue: queue name.
        skills: required skills; empty means "the queue's skills".
        language: required language, or None for any.
        priority: static priority, higher first (e.g. follow-ups and complaints above 0).
        enqueued_at: epoch s of the first entry into any queue; it orders the line, drives timed
            expansion and max wait, and survives ring-no-answer and overflow (front of line kept).
        follow_up: the caller is chasing an earlier case (for reporting and priority rules).
        queue_entered_at: epoch s of entry into the current ``queue`` (drives overflow timing);
            defaults to ``enqueued_at``.
        seq: arrival order stamped by the routing core (final tie-break).
    """

    linkedid: str
    uniqueid: str
    queue: str
    skills: frozenset[str] = frozenset()
    language: str | None = None
    priority: int = 0
    enqueued_at: float = 0.0
    follow_up: bool = False
    queue_entered_at: float | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class ExpansionStep:
    """One timed widening of the set of acceptable agents.

    Attributes:
        after_s: seconds of wait (since ``WaitingCall.enqueued_at``) after which the step applies.
        min_proficiency: from then on accept agents with every required skill at >= this level.
        any_in_group: from then on also accept any agent of ``QueueConfig.group`` (skills ignored).
    """

    after_s: float
    min_proficiency: int | None = None
    any_in_group: bool = False


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue (one business line, e.g. ``labour``) and its routing rules.

    Attributes:
        name: queue name.
        skills: skills a call of this queue needs when the IVR did not say.
        wrap_up_s: seconds of WRAP_UP after each call.
        ring_timeout_s: seconds an offered agent rings before the adapter reports ring-no-answer.
        min_proficiency: level required on each skill before any expansion (1..5).
        expansion: timed steps, applied cumulatively once ``wait >= after_s``.
        group: team used by an ``any_in_group`` step.
        ageing_per_s: priority points gained per second of wait (``effective priority =
            priority + ageing_per_s * wait_s``).
        overflow_queue: queue a caller moves to after ``overflow_after_s`` in this queue.
        overflow_after_s: seconds in this queue before overflow (measured from ``queue_entered_at``).
        max_wait_s: seconds of total wait before ``max_wait_action``; None = never.
        max_wait_action: offer a callback or send to voicemail.
        service_level_s: the T of service level ("answered within T seconds").
        short_abandon_s: abandons after less than this many seconds are "short" (dialling errors).
        default_aht_s: AHT used for EWT until real handle times have been seen.
    """

    name: str
    skills: frozenset[str] = frozenset()
    wrap_up_s: float = 15.0
    ring_timeout_s: float = 15.0
    min_proficiency: int = MIN_PROFICIENCY
    expansion: tuple[ExpansionStep, ...] = ()
    group: str | None = None
    ageing_per_s: float = 0.0
    overflow_queue: str | None = None
    overflow_after_s: float | None = None
    max_wait_s: float | None = None
    max_wait_action: MaxWaitAction = MaxWaitAction.CALLBACK
    service_level_s: float = 20.0
    short_abandon_s: float = 5.0
    default_aht_s: float = 180.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "expansion", tuple(sorted(self.expansion, key=lambda s: s.after_s)))
        levels = [self.min_proficiency] + [s.min_proficiency for s in self.expansion if s.min_proficiency is not None]
        if any(not MIN_PROFICIENCY <= lv <= MAX_PROFICIENCY for lv in levels):
            raise InvalidQueueConfig(f"queue {self.name}: proficiency levels must be in 1..5, got {levels}")
        if any(s.after_s < 0 for s in self.expansion):
            raise InvalidQueueConfig(f"queue {self.name}: expansion after_s must be >= 0")
        if any(s.any_in_group for s in self.expansion) and not self.group:
            raise InvalidQueueConfig(f"queue {self.name}: an any_in_group step needs a group")
        if (self.overflow_queue is None) != (self.overflow_after_s is None):
            raise InvalidQueueConfig(f"queue {self.name}: overflow_queue and overflow_after_s go together")
        if self.overflow_queue == self.name:
            raise InvalidQueueConfig(f"queue {self.name}: cannot overflow into itself")
        if self.ageing_per_s < 0 or self.wrap_up_s < 0 or self.ring_timeout_s <= 0:
            raise InvalidQueueConfig(f"queue {self.name}: negative ageing/wrap-up or ring timeout <= 0")

    def stage(self, wait_s: float) -> tuple[int, bool]:
        """Acceptance stage after ``wait_s`` seconds of wait.

        Returns:
            ``(min_proficiency, group_open)``: the lowest accepted level on every required skill,
            and whether any agent of ``group`` is accepted regardless of skills.
        """
        level = self.min_proficiency
        group_open = False
        for step in self.expansion:
            if wait_s < step.after_s:
                break
            if step.min_proficiency is not None and step.min_proficiency < level:
                level = step.min_proficiency
            if step.any_in_group:
                group_open = True
        return level, group_open

    def stage_change_times_s(self) -> tuple[float, ...]:
        """Wait durations (s) at which :meth:`stage` may change, ascending."""
        return tuple(s.after_s for s in self.expansion)
