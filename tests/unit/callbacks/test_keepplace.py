"""Keep-my-place callback requests: one open per number and queue, recognition, virtual position."""

from __future__ import annotations

from dataclasses import replace

from hotline.callbacks.keepplace import (
    Accepted,
    AlreadyPending,
    CallbackRequest,
    RequestStatus,
    close,
    due_requests,
    mark_calling,
    pending_for_number,
    request_callback,
    request_from_dict,
    request_to_dict,
)
from hotline.queues.model import WaitingCall


def req(rid: str, number: str = "13800138000", queue: str = "commerce", enqueued_at: float = 100.0,
        priority: int = 0) -> CallbackRequest:
    return CallbackRequest(rid, number, queue, linkedid=rid, enqueued_at=enqueued_at, requested_at=enqueued_at + 60,
                           priority=priority)


def waiting(linkedid: str, queue: str = "commerce", enqueued_at: float = 0.0, priority: int = 0) -> WaitingCall:
    return WaitingCall(linkedid, linkedid, queue, enqueued_at=enqueued_at, priority=priority)


def test_given_pending_request_when_same_number_and_queue_asks_again_then_no_duplicate() -> None:
    first = req("cb-1")
    book = {first.request_id: first}
    assert request_callback(book, req("cb-2")) == AlreadyPending(first)
    assert request_callback(book, req("cb-1")) == AlreadyPending(first)
    assert isinstance(request_callback(book, req("cb-3", queue="transport")), Accepted)
    closed = close(first, RequestStatus.DONE, 500.0)
    assert isinstance(request_callback({closed.request_id: closed}, req("cb-2")), Accepted)


def test_given_pending_request_when_citizen_calls_again_then_recognised() -> None:
    a, b = req("cb-1"), req("cb-2", number="13900139000")
    assert pending_for_number([a, b], "13800138000") == [a]
    assert pending_for_number([close(a, RequestStatus.CANCELLED, 1.0)], "13800138000") == []


def test_given_callers_ahead_when_due_checked_then_request_waits_its_turn() -> None:
    r = req("cb-1", enqueued_at=100.0)
    assert due_requests([r], [waiting("early", enqueued_at=50.0)]) == []
    assert due_requests([r], [waiting("late", enqueued_at=150.0)]) == [r]
    assert due_requests([r], [waiting("other-queue", queue="transport", enqueued_at=1.0)]) == [r]
    assert due_requests([r], [waiting("vip", enqueued_at=150.0, priority=5)]) == []
    assert due_requests([r], []) == [r]


def test_given_two_requests_when_one_is_calling_then_next_waits_for_the_slot() -> None:
    a, b = req("cb-a", enqueued_at=10.0), req("cb-b", number="13900139000", enqueued_at=20.0)
    assert due_requests([a, b], []) == [a]
    assert due_requests([mark_calling(a, "cb-cb-a"), b], []) == []
    assert due_requests([mark_calling(a, "cb-cb-a"), b], [], max_active_per_queue=2) == [b]
    assert due_requests([close(a, RequestStatus.DONE, 30.0), b], []) == [b]


def test_given_request_when_serialised_then_round_trips() -> None:
    r = replace(req("cb-1"), skills=("tax",), mode="agent_first")
    assert request_from_dict(request_to_dict(r)) == r
