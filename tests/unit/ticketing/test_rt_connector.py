"""The RT sink's idempotency and ordering logic against a fake REST2 client (no I/O).

Given RT rejects a field, when the work order is delivered, then the event is not recorded as
applied, and a replay (same event id) applies it again on the same ticket. Given a transcript
comes before its ticket, then the sink waits (bounded) and opens the ticket from the work order's
record instead of failing; a department queue RT lacks falls back to the default queue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from hotline.ticketing.connector import WORK_ORDER_CREATED, WORK_ORDER_TRANSCRIPT, WORK_ORDER_UPDATED, OutboxEvent
from hotline.ticketing.errors import FieldsNotApplied, TicketingRejected, WorkOrderNotFound
from hotline.ticketing.rt import FIELD_CALL_TYPE, FIELD_EVENTS, FIELD_LINKEDID, RtConnector, _as_list

LID = "1759197600.42"
DUE = "2025-10-01T10:01:35+08:00"


class FakeRt:
    """Tickets in memory; a Select field that stores only its allowed values, like RT 5 (silently)."""

    def __init__(self, queues: set[str] | None = None) -> None:
        self.queues = queues or {"general", "environment"}
        self.call_types = {"consultation", "request", "complaint", "suggestion"}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: list[tuple[int, str]] = []
        self.creates = 0

    def _store(self, ticket: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, list[str]]:
        missing: dict[str, list[str]] = {}
        for name, value in fields.items():
            values = _as_list(value)
            if not values:
                continue
            if name == FIELD_CALL_TYPE and not set(values) <= self.call_types:
                missing[name] = values
                continue
            ticket["cf"][name] = values
        return missing

    async def find_ticket_id(self, field: str, value: str) -> int | None:
        ids = [tid for tid, t in self.tickets.items() if value in t["cf"].get(field, [])]
        return min(ids) if ids else None

    async def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        t = self.tickets[ticket_id]
        return {"CustomFields": [{"name": k, "values": v} for k, v in t["cf"].items()], "Due": t["due"]}

    async def create_ticket(self, queue: str, subject: str, *, custom_fields: Any = None, due: Any = None,
                            content: str | None = None) -> int:
        if queue not in self.queues:
            raise TicketingRejected("http://rt/REST/2.0/ticket", 403, '{"message":"No permission to create tickets"}')
        self.creates += 1
        tid = 100 + self.creates
        self.tickets[tid] = {"queue": queue, "subject": subject, "cf": {}, "due": due, "content": content}
        missing = self._store(self.tickets[tid], custom_fields or {})
        if missing:
            raise FieldsNotApplied(tid, missing)
        return tid

    async def update_ticket(self, ticket_id: int, *, custom_fields: Any = None, due: Any = None,
                            subject: str | None = None) -> None:
        t = self.tickets[ticket_id]
        missing = self._store(t, custom_fields or {})
        if due is not None:
            t["due"] = due
        if subject:
            t["subject"] = subject
        if missing:
            raise FieldsNotApplied(ticket_id, missing)

    async def update_custom_fields(self, ticket_id: int, fields: Any) -> None:
        await self.update_ticket(ticket_id, custom_fields=fields)

    async def comment(self, ticket_id: int, text: str, *, subject: str | None = None) -> None:
        self.comments.append((ticket_id, text))


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def connector(rt: FakeRt, wait_s: float = 0.0) -> RtConnector:
    return RtConnector(rt, ticket_wait_s=wait_s, sleep=no_sleep)  # type: ignore[arg-type]


def created(call_type: str = "consultation", queue: str = "environment") -> OutboxEvent:
    return OutboxEvent(f"{WORK_ORDER_CREATED}:{LID}", WORK_ORDER_CREATED, LID,
                       {"queue": queue, "subject": "12345 咨询", "call_type": call_type, "caller_number": "13800138000",
                        "received": "2025-09-30T10:01:35+08:00", "due": DUE, "description": "来电"}, 1.0)


def transcript(record: bool = True) -> OutboxEvent:
    payload: dict[str, Any] = {"work_order_id": LID, "text": "你好", "job_id": "j1"}
    if record:
        payload["work_order"] = {"queue": "environment", "call_type": "request",
                                 "received": "2025-09-30T10:01:35+08:00", "due": DUE}
    return OutboxEvent(f"{WORK_ORDER_TRANSCRIPT}:j1", WORK_ORDER_TRANSCRIPT, LID, payload, 2.0)


def events_of(rt: FakeRt, tid: int) -> list[str]:
    return rt.tickets[tid]["cf"].get(FIELD_EVENTS, [])


def test_given_rt_rejects_a_field_then_not_applied_and_a_replay_applies_it_on_the_same_ticket() -> None:
    rt = FakeRt()
    rt.call_types.discard("complaint")  # RT's Select list lacks the value (misconfigured)
    sink = connector(rt)
    with pytest.raises(FieldsNotApplied):
        asyncio.run(sink.deliver(created("complaint")))
    [tid] = rt.tickets
    assert events_of(rt, tid) == []  # not marked applied: the dead letter is worth replaying

    rt.call_types.add("complaint")  # the operator fixed RT; `hotline outbox replay` re-delivers the event
    asyncio.run(sink.deliver(created("complaint")))
    assert list(rt.tickets) == [tid] and rt.creates == 1  # completed, not created twice
    assert rt.tickets[tid]["cf"][FIELD_CALL_TYPE] == ["complaint"]
    assert events_of(rt, tid) == [f"{WORK_ORDER_CREATED}:{LID}"]

    asyncio.run(sink.deliver(created("complaint")))  # a third time: a no-op now
    assert rt.creates == 1 and events_of(rt, tid) == [f"{WORK_ORDER_CREATED}:{LID}"]


def test_given_a_rejected_update_then_replay_applies_it() -> None:
    rt = FakeRt()
    sink = connector(rt)
    asyncio.run(sink.deliver(created()))
    update = OutboxEvent("work_order.updated:s1", WORK_ORDER_UPDATED, LID, {"custom_fields": {FIELD_CALL_TYPE: "x"}})
    with pytest.raises(FieldsNotApplied):
        asyncio.run(sink.deliver(update))
    [tid] = rt.tickets
    assert "work_order.updated:s1" not in events_of(rt, tid)
    rt.call_types.add("x")
    asyncio.run(sink.deliver(update))
    assert "work_order.updated:s1" in events_of(rt, tid)


def test_given_transcript_before_its_ticket_then_the_sink_opens_it_and_the_work_order_completes_it() -> None:
    rt = FakeRt()
    sink = connector(rt, wait_s=0.05)
    asyncio.run(sink.deliver(transcript()))
    [tid] = rt.tickets
    assert rt.tickets[tid]["queue"] == "environment" and rt.tickets[tid]["cf"][FIELD_LINKEDID] == [LID]
    assert rt.tickets[tid]["due"] == dt.datetime.fromisoformat(DUE)
    assert rt.comments == [(tid, "你好")] and events_of(rt, tid) == [f"{WORK_ORDER_TRANSCRIPT}:j1"]

    asyncio.run(sink.deliver(created()))  # the work order arrives later: it fills the same ticket
    assert rt.creates == 1 and rt.tickets[tid]["cf"]["Caller Number"] == ["13800138000"]
    assert set(events_of(rt, tid)) == {f"{WORK_ORDER_TRANSCRIPT}:j1", f"{WORK_ORDER_CREATED}:{LID}"}


def test_given_transcript_without_record_and_no_ticket_then_retryable_after_a_bounded_wait() -> None:
    rt = FakeRt()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    sink = RtConnector(rt, ticket_wait_s=0.3, sleep=sleep)  # type: ignore[arg-type]
    with pytest.raises(WorkOrderNotFound) as caught:
        asyncio.run(sink.deliver(transcript(record=False)))
    assert caught.value.retryable and 0.25 <= sum(slept) <= 0.35 and rt.tickets == {}


def test_given_ticket_appears_while_waiting_then_transcript_goes_on_it() -> None:
    rt = FakeRt()
    calls = 0
    real_find = rt.find_ticket_id

    async def find(field: str, value: str) -> int | None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the work order lands between two looks
            await connector(rt).deliver(created())
        return await real_find(field, value)

    rt.find_ticket_id = find  # type: ignore[method-assign]
    asyncio.run(connector(rt, wait_s=5.0).deliver(transcript(record=False)))
    [tid] = rt.tickets
    assert rt.comments == [(tid, "你好")] and rt.creates == 1


def test_given_a_department_queue_rt_lacks_then_filed_in_the_default_queue() -> None:
    rt = FakeRt()
    asyncio.run(connector(rt).deliver(created(queue="complaints")))
    [ticket] = rt.tickets.values()
    assert ticket["queue"] == "general" and "complaints" in ticket["content"]
    assert ticket["cf"][FIELD_EVENTS] == [f"{WORK_ORDER_CREATED}:{LID}"]


def test_given_the_default_queue_refused_too_then_rejected() -> None:
    rt = FakeRt(queues={"environment"})
    with pytest.raises(TicketingRejected):
        asyncio.run(connector(rt).deliver(created(queue="complaints")))
