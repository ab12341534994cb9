"""SLA monitor on a private Redis: yellow then red cards, once each, to the outbox, the hook and the wallboard."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from hotline.ticketing.monitor import SlaMonitor, WorkOrderIndex
from hotline.ticketing.outbox import RedisOutbox, connect
from hotline.ticketing.sla import SHANGHAI
from hotline.ticketing.workorders import CallFacts, EndedCall, record_of, work_order_created
from tests.support.servers import ServerProcess

pytestmark = pytest.mark.integration

RECEIVED = dt.datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)  # request due 2025-10-14 10:00 (Golden Week)
DUE = dt.datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)


async def test_given_open_request_when_swept_over_time_then_yellow_then_red_once_each(
    redis_server: ServerProcess,
) -> None:
    tag = uuid.uuid4().hex[:8]
    redis = connect(redis_server.url)
    outbox = RedisOutbox(redis, {"mqtt": ["work_order."]}, prefix=f"test:{tag}:outbox:")
    index = WorkOrderIndex(redis, f"test:{tag}:workorders", f"test:{tag}:cards")
    reminders: list[str] = []

    async def remind_department(event) -> None:  # type: ignore[no-untyped-def]
        reminders.append(f"{event.payload['queue']}:{event.payload['card']}")

    monitor = SlaMonitor(index, outbox, hook=remind_department)
    try:
        call = EndedCall("1759197600.9", "13800138000", RECEIVED.timestamp() - 60, RECEIVED.timestamp(), ("1294",))
        created = work_order_created(call, CallFacts(queue="environment", call_type="request"))
        assert created is not None
        await outbox.enqueue(created, also=[index.add_step(record_of(created))])

        assert await monitor.sweep((DUE - dt.timedelta(days=5)).timestamp()) == []
        yellow = await monitor.sweep((DUE - dt.timedelta(days=1)).timestamp())
        again = await monitor.sweep((DUE - dt.timedelta(hours=1)).timestamp())
        red = await monitor.sweep((DUE + dt.timedelta(minutes=5)).timestamp())
        after = await monitor.sweep((DUE + dt.timedelta(days=1)).timestamp())

        assert [e.payload["card"] for e in yellow] == ["yellow"] and again == []
        assert [e.event_id for e in red] == ["work_order.card:1759197600.9:red"] and after == []
        assert red[0].payload["overdue_s"] == 300.0
        assert reminders == ["environment:yellow", "environment:red"]
        cards = await index.cards()
        assert [(c["work_order_id"], c["card"]) for c in cards] == [("1759197600.9", "red")]
        kinds = [f["kind"] for _id, f in await redis.xrange(outbox.stream("mqtt"))]
        assert kinds == ["work_order.created", "work_order.card", "work_order.card"]

        await index.close(["1759197600.9"])
        assert await index.cards() == [] and await index.records() == []
    finally:
        await redis.aclose()
