"""The hand-over from the IVR to routing, and the IVR's session reports: plain records, no I/O.

Routing owns this contract (it sits below the IVR): the IVR calls a :data:`HandOver` with a
:class:`QueueRequest`, and tells every :data:`SessionListener` (routing's statistics, the call
facts) of each :class:`SessionStarted` and finished :class:`SessionRecord`.

The IVR adapter (``hotline/ivr/agi.py``) builds a :class:`QueueRequest` when the interpreter emits
``HandOverToQueue`` and passes it to the routing component through the callable the
composition root injected (``hotline/app/service.py``). The caller's channel is then parked
on music on hold (dialplan context ``hotline-hold``); the dispatcher later rings an agent
with an AMI ``Originate`` whose application is ``Bridge(<caller channel>)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QueueRequest:
    """A caller asking for an agent.

    Attributes:
        linkedid: the call (AMI ``Linkedid``).
        uniqueid: the caller's leg (AMI ``Uniqueid``).
        channel: the caller's channel name now (informational: for Bridge/Redirect only).
        caller_num: the citizen's number (``CALLERID(num)``).
        queue: queue name (e.g. ``commerce``).
        skills: required skills; empty means the queue's own.
        language: ``zh``, ``yue`` or ``en``.
        priority: higher is served first (before ageing).
        follow_up: the caller has an open work order and chose the follow-up option.
        ivr_path: node ids the caller went through, in order.
        at: epoch seconds of the hand-over.
        variables: extra facts for the agent desktop / work order (work-order number ...).
    """

    linkedid: str
    uniqueid: str
    channel: str
    caller_num: str
    queue: str
    skills: tuple[str, ...] = ()
    language: str = "zh"
    priority: int = 0
    follow_up: bool = False
    ivr_path: tuple[str, ...] = ()
    at: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)


#: what the IVR calls to hand a caller over (implemented by the routing component)
HandOver = Callable[[QueueRequest], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One finished IVR session: where the caller went and where they left.

    Attributes:
        uniqueid: the caller's leg; ``linkedid`` the call.
        caller_num: ``agi_callerid`` of ``AsyncAGIStart``.
        menu_id: the menu the call ran (the one current when it started).
        path: node ids visited in order; ``node`` is where the caller left.
        outcome: ``queued``, ``hung_up`` (IVR hung up), ``caller_hung_up``, ``handover_failed``,
            ``stopped`` (service stopping) or ``error``.
        reason: the interpreter's reason (``option``, ``retries_exhausted`` ...) or the failure.
        language: the caller's language at the end.
        commands: AGI commands sent.
        started_at / ended_at: epoch seconds.
        request: the hand-over, when queued.
        warnings: non-fatal issues (lookup down, missing announcement prompt, ...).
        keys_buffered: keys typed ahead and served from the buffer (not taken by Asterisk).
        keys_dropped: keys dropped: invalid, over ``typeahead_max_keys``, or stale.
        keys_received: valid keys Asterisk reported for the leg during the session (AMI ``DTMFEnd``,
            ``Direction: Received``, from ``AsyncAGIStart`` on), whoever used them. Fewer than the
            caller pressed means keys that never reached the IVR (lost in RTP before Asterisk, or
            pressed before ``AsyncAGIStart``).
    """

    uniqueid: str
    linkedid: str
    caller_num: str
    menu_id: str
    path: tuple[str, ...]
    node: str
    outcome: str
    reason: str
    language: str
    commands: int
    started_at: float
    ended_at: float
    request: QueueRequest | None = None
    warnings: tuple[str, ...] = ()
    keys_buffered: int = 0
    keys_dropped: int = 0
    keys_received: int = 0


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """The IVR accepted a call (``AsyncAGIStart`` of the caller's leg); ``started_at`` epoch seconds."""

    uniqueid: str
    linkedid: str
    started_at: float


#: told of every accepted session start and every finished session (must not block; errors are logged)
SessionListener = Callable[[SessionStarted | SessionRecord], None]
