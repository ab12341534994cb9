"""Events (past tense) the routing and metrics cores consume, and the facts the routing core emits.

The IVR's sessions come in as ``IvrEntered`` (the session started) and ``IvrEnded`` (where and how it
ended), built by the routing component from :class:`hotline.ivr.agi.SessionRecord` and logged beside the
routing events, so the hotline-level call outcomes are replayed from the same log.

The adapter translates AMI into the *input* events (``CallQueued`` from the IVR hand-over,
``CallAnswered`` from ``BridgeEnter`` of the agent leg, ``OfferFailed`` from ``OriginateResponse``
with a failure / ring timeout, ``CallAbandoned`` from the caller's ``Hangup`` while queued or
ringing, ``AnsweredCallEnded`` from the ``Hangup`` after the bridge, ...). The routing core emits
*facts* (``AgentStateChanged``, ``CallOverflowed``, ``CallSentToVoicemail``) that the adapter
appends to the same event log, so :mod:`hotline.queues.metrics` can be replayed from that one log.

Every event carries ``at``: epoch seconds of the fact (the AMI ``Timestamp`` header), which is
what the metrics use; the routing core uses the ``now`` it is given.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hotline.queues.model import Agent, AgentStatus

__all__ = [
    "AgentLoggedIn",
    "AgentLoggedOut",
    "AgentPaused",
    "AgentReady",
    "AgentSkillsChanged",
    "AgentStateChanged",
    "AnsweredCallEnded",
    "CallAbandoned",
    "CallAnswered",
    "CallOverflowed",
    "CallQueued",
    "CallSentToVoicemail",
    "CallTransferred",
    "CallbackRequested",
    "Event",
    "Fact",
    "IvrEnded",
    "IvrEntered",
    "IvrEvent",
    "IvrOutcome",
    "OfferFailed",
    "WrapUpEnded",
]


# --- agent events (HTTP API / CLI / SIP registration) -------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    """The agent logged in (they land in NOT_READY "after_login")."""

    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    """The agent (or a supervisor) logged them out; a ringing offer is withdrawn first."""

    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentReady:
    """The agent pressed ready (also ends wrap-up early)."""

    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentPaused:
    """The agent went not-ready with a reason code (``break``, ``lunch``, ``training`` ...)."""

    agent_id: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    """The agent finished after-call work before the timer (the timer itself is handled by ``decide``)."""

    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentSkillsChanged:
    """A supervisor changed an agent's skills, languages or groups live."""

    agent: Agent
    at: float


# --- call events (AMI via the adapter) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallQueued:
    """A caller entered a queue (IVR hand-over).

    Attributes:
        skills: required skills; empty = the queue's skills.
        language: required language or None.
        priority: higher first.
    """

    linkedid: str
    uniqueid: str
    queue: str
    at: float
    skills: frozenset[str] = frozenset()
    language: str | None = None
    priority: int = 0
    follow_up: bool = False


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    """The caller hung up while waiting or while an agent rang (not after answer)."""

    linkedid: str
    at: float


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The offered agent answered and is bridged to the caller."""

    linkedid: str
    agent_id: str
    at: float


@dataclass(frozen=True, slots=True)
class OfferFailed:
    """The offer to an agent failed: ``reason`` is ``no_answer`` (ring timeout), ``busy``,
    ``unreachable`` or ``rejected``. The agent goes NOT_READY; the caller keeps their place."""

    linkedid: str
    agent_id: str
    at: float
    reason: str = "no_answer"


@dataclass(frozen=True, slots=True)
class AnsweredCallEnded:
    """An answered call ended (either side hung up); the agent enters wrap-up.

    Named apart from the call model's :class:`hotline.telephony.calls.CallEnded` (every call, answered or
    not, from the tracker); routing logs written before the rename say ``CallEnded`` and still replay.

    Attributes:
        hold_s: total seconds the caller was on hold during the talk (from MusicOnHoldStart/Stop).
    """

    linkedid: str
    at: float
    hold_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """The call left hotline's queue or agent by a transfer (blind/attended, or a supervisor pick)."""

    linkedid: str
    at: float
    target: str = ""


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """The caller accepted a callback (it is not an abandon); the call leaves the queue."""

    linkedid: str
    at: float


# --- IVR events (the IVR component's sessions, via queues.component.Routing) --------------------


class IvrOutcome(enum.StrEnum):
    """How a call's IVR session ended, as the statistics count it (``IvrEnded.outcome``).

    * ``queued``: handed over to a queue (the call is then counted by its ``CallQueued``).
    * ``abandoned``: the caller hung up in the IVR (``IvrEnded.node`` is where).
    * ``self_served``: the IVR ended the call as designed (a hangup node, after a lookup, an
      announcement, an "office closed" message ...).
    * ``failed``: a technical end (``IvrEnded.reason``: ``error``, ``handover_failed``,
      ``retries_exhausted`` with no fallback, ``max_steps``, ``menu_error``, ``stopped`` ...).
    """

    QUEUED = "queued"
    ABANDONED = "abandoned"
    SELF_SERVED = "self_served"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class IvrEntered:
    """The IVR accepted a call (``AsyncAGIStart`` of the caller's leg): the call reached the hotline."""

    linkedid: str
    uniqueid: str
    at: float


@dataclass(frozen=True, slots=True)
class IvrEnded:
    """The call's IVR session ended.

    Attributes:
        outcome: an :class:`IvrOutcome` value (a plain ``str`` in the log).
        node: the node id where the session ended (where an abandoning caller left).
        path: node ids visited, in order.
        reason: for ``failed`` the failure code counted in ``failed_by_reason``; otherwise the IVR's
            reason (``hangup_node``, ``option``, ``caller_hung_up`` ...).
        detail: free text for operators (an exception message); never counted.
    """

    linkedid: str
    uniqueid: str
    outcome: str
    node: str
    path: tuple[str, ...]
    reason: str
    at: float
    detail: str = ""


# --- facts emitted by the routing core ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent changed status or reason (emitted by the routing core; log it for metrics)."""

    agent_id: str
    status: AgentStatus
    at: float
    reason: str | None = None
    linkedid: str | None = None
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class CallOverflowed:
    """The routing core moved a waiting call to another queue."""

    linkedid: str
    from_queue: str
    to_queue: str
    at: float


@dataclass(frozen=True, slots=True)
class CallSentToVoicemail:
    """The routing core sent a caller who reached the maximum wait to voicemail."""

    linkedid: str
    queue: str
    at: float


Event = (
    AgentLoggedIn
    | AgentLoggedOut
    | AgentReady
    | AgentPaused
    | WrapUpEnded
    | AgentSkillsChanged
    | CallQueued
    | CallAbandoned
    | CallAnswered
    | OfferFailed
    | AnsweredCallEnded
    | CallTransferred
    | CallbackRequested
)
Fact = AgentStateChanged | CallOverflowed | CallSentToVoicemail
IvrEvent = IvrEntered | IvrEnded
"""Logged and counted by :mod:`hotline.queues.metrics`; the routing core never sees them."""
