"""Keep-my-place callbacks (pure): one open request per number and queue, a virtual place in line.

Design: a **parallel virtual queue**. When a waiting caller accepts a callback (the routing core's
``OfferCallback`` -> the caller pressed the key), the routing core gets
:class:`hotline.queues.events.CallbackRequested` (the call leaves its queue and is counted as a callback,
not an abandon, by :mod:`hotline.queues.metrics`), and a :class:`CallbackRequest` keeps the caller's
place: the original ``enqueued_at`` and ``priority``. The request ranks among the real waiting
calls of its queue by the routing core's order (``(-priority, enqueued_at)``; ageing is the same
for both, so it does not change their order). It **reaches the front** when no real waiting call of
its queue ranks ahead of it and no other callback of that queue is ahead or running beyond
``max_active_per_queue``. The dialler then calls the citizen (citizen first) and hands the answered
citizen to routing as a new waiting call at top priority (or rings an agent first, then the
citizen: ``mode``), so the citizen is served next, as if they had stayed on the line.

Requests are keyed ``request_id`` (``cb-<linkedid>`` of the call that asked: a repeated key press
or a replayed event cannot make two); the open index ``(number, queue)`` makes a second request
for the same number and queue return the pending one (:class:`AlreadyPending`), and
:func:`pending_for_number` lets the IVR recognise a citizen who calls in again while one is pending.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from hotline.queues.model import WaitingCall

CallbackMode = Literal["citizen_first", "agent_first"]


class RequestStatus(enum.StrEnum):
    OPEN = "open"  # keeping its place
    CALLING = "calling"  # reached the front: its call job runs
    DONE = "done"  # the citizen was connected to an agent
    FAILED = "failed"  # the citizen could not be reached after the attempts
    CANCELLED = "cancelled"

    @property
    def pending(self) -> bool:
        return self in (RequestStatus.OPEN, RequestStatus.CALLING)


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """A citizen's keep-my-place callback.

    Attributes:
        request_id: ``cb-<linkedid>`` (idempotent).
        number: national digits to call back (the calling number or one keyed in, validated).
        queue: the queue whose place is kept.
        linkedid: the call that asked (AMI ``Linkedid``).
        enqueued_at: epoch s the caller first entered a queue (their place in line).
        priority: the caller's static priority in routing.
        requested_at: epoch s of the acceptance.
        skills, language: what routing needs for the call back.
        mode: who is rung first.
        job_id: the dialler job that executes it once at the front.
    """

    request_id: str
    number: str
    queue: str
    linkedid: str
    enqueued_at: float
    requested_at: float
    priority: int = 0
    skills: tuple[str, ...] = ()
    language: str = "zh"
    mode: CallbackMode = "citizen_first"
    status: RequestStatus = RequestStatus.OPEN
    job_id: str = ""
    closed_at: float | None = None
    reason: str = ""

    @property
    def rank(self) -> tuple[float, float, str]:
        return (-self.priority, self.enqueued_at, self.request_id)


@dataclass(frozen=True, slots=True)
class Accepted:
    request: CallbackRequest


@dataclass(frozen=True, slots=True)
class AlreadyPending:
    """The number already has a pending callback in this queue (no duplicate is made)."""

    request: CallbackRequest


def open_key(number: str, queue: str) -> str:
    """The key of the one-open-request-per-number-and-queue index."""
    return f"{queue}|{number}"


def request_callback(requests: Mapping[str, CallbackRequest], new: CallbackRequest) -> Accepted | AlreadyPending:
    """Accept ``new`` unless the same id or the same (number, queue) is already pending.

    Args:
        requests: every known request by id.
    """
    same = requests.get(new.request_id)
    if same is not None:
        return AlreadyPending(same)
    for r in requests.values():
        if r.status.pending and r.number == new.number and r.queue == new.queue:
            return AlreadyPending(r)
    return Accepted(new)


def pending_for_number(requests: Iterable[CallbackRequest], number: str) -> list[CallbackRequest]:
    """Pending requests of a number (any queue), oldest first: recognise a citizen calling again."""
    return sorted((r for r in requests if r.status.pending and r.number == number), key=lambda r: r.requested_at)


def due_requests(
    requests: Iterable[CallbackRequest],
    waiting: Sequence[WaitingCall],
    *,
    max_active_per_queue: int = 1,
    queue_priority: Mapping[str, int] | None = None,
) -> list[CallbackRequest]:
    """OPEN requests that reached the front of their queue's line, in line order.

    Args:
        requests: every request (any status).
        waiting: the routing core's waiting calls (``RoutingState.waiting_calls()``); empty when
            routing is not wired (then requests are served in their own order).
        max_active_per_queue: callbacks of one queue being called at once.
        queue_priority: unused hook for per-queue boosts (kept None).
    Returns:
        The requests whose call should start now.
    """
    del queue_priority
    by_queue: dict[str, list[CallbackRequest]] = defaultdict(list)
    active: dict[str, int] = defaultdict(int)
    for r in requests:
        if r.status is RequestStatus.OPEN:
            by_queue[r.queue].append(r)
        elif r.status is RequestStatus.CALLING:
            active[r.queue] += 1
    best_waiting: dict[str, tuple[float, float]] = {}
    for call in waiting:
        rank = (-float(call.priority), call.enqueued_at)
        if call.queue not in best_waiting or rank < best_waiting[call.queue]:
            best_waiting[call.queue] = rank
    due: list[CallbackRequest] = []
    for queue, rs in by_queue.items():
        rs.sort(key=lambda r: r.rank)
        free = max_active_per_queue - active[queue]
        for r in rs:
            if free <= 0:
                break
            ahead = best_waiting.get(queue)
            if ahead is not None and ahead < r.rank[:2]:
                break  # a real caller ranks ahead: everyone behind waits too
            due.append(r)
            free -= 1
    return sorted(due, key=lambda r: r.rank)


def mark_calling(request: CallbackRequest, job_id: str) -> CallbackRequest:
    return replace(request, status=RequestStatus.CALLING, job_id=job_id)


def close(request: CallbackRequest, status: RequestStatus, now: float, reason: str = "") -> CallbackRequest:
    """DONE / FAILED / CANCELLED (no-op if already closed)."""
    if not request.status.pending:
        return request
    return replace(request, status=status, closed_at=now, reason=reason)


def request_to_dict(r: CallbackRequest) -> dict[str, Any]:
    return {
        "request_id": r.request_id, "number": r.number, "queue": r.queue, "linkedid": r.linkedid,
        "enqueued_at": r.enqueued_at, "requested_at": r.requested_at, "priority": r.priority,
        "skills": list(r.skills), "language": r.language, "mode": r.mode, "status": r.status.value,
        "job_id": r.job_id, "closed_at": r.closed_at, "reason": r.reason,
    }


def request_from_dict(d: Mapping[str, Any]) -> CallbackRequest:
    return CallbackRequest(
        request_id=d["request_id"], number=d["number"], queue=d["queue"], linkedid=d.get("linkedid", ""),
        enqueued_at=float(d["enqueued_at"]), requested_at=float(d["requested_at"]),
        priority=int(d.get("priority", 0)), skills=tuple(d.get("skills", ())), language=d.get("language", "zh"),
        mode=d.get("mode", "citizen_first"), status=RequestStatus(d.get("status", "open")),
        job_id=d.get("job_id", ""), closed_at=d.get("closed_at"), reason=d.get("reason", ""),
    )
