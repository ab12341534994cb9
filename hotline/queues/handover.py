"""The hand-over from the IVR to routing: one plain record, no I/O.

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
