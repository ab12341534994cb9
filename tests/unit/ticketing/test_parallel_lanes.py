"""Outbox delivery lanes: each call's events in order, calls side by side (no Redis: a stub outbox)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hotline.ticketing.connector import OutboxEvent
from hotline.ticketing.delivery import to_fields
from hotline.ticketing.outbox import SinkWorker, lanes_by_call


def _entry(n: int, linkedid: str) -> tuple[str, dict[str, str]]:
    return f"{n}-0", to_fields(OutboxEvent(f"e{n}", "work_order.created", linkedid, {}, 0.0))


@given(st.lists(st.sampled_from(["", "1.1", "1.2", "1.3"]), max_size=40))
def test_given_batch_then_lanes_keep_each_calls_order_and_lose_nothing(linkedids: list[str]) -> None:
    batch = [_entry(n, lid) for n, lid in enumerate(linkedids)]
    lanes = lanes_by_call(batch)
    assert sorted(eid for lane in lanes for eid, _ in lane) == sorted(eid for eid, _ in batch)
    for lane in lanes:
        assert len({f["linkedid"] for _, f in lane if f}) == 1
        ids = [int(eid.split("-")[0]) for eid, _ in lane]
        assert ids == sorted(ids)


def test_given_trimmed_entry_then_it_shares_the_lane_without_linkedid() -> None:
    lanes = lanes_by_call([("1-0", None), _entry(2, ""), _entry(3, "9.9")])
    assert [[eid for eid, _ in lane] for lane in lanes] == [["1-0", "2-0"], ["3-0"]]


class _StubOutbox:
    """Just what ``SinkWorker.handle`` touches on a successful delivery."""

    def __init__(self) -> None:
        self.acked: list[str] = []

    async def attempts(self, sink: str, entry_id: str) -> int:
        return 0

    async def ack(self, sink: str, entry_id: str, *, delivered: bool = True) -> None:
        self.acked.append(entry_id)


class _SlowSink:
    """Each delivery takes ``delay`` seconds; records order and the most calls in flight at once."""

    name = "rt"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.order: list[tuple[str, str]] = []
        self.in_flight = 0
        self.most = 0

    async def deliver(self, event: OutboxEvent) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        self.order.append((event.linkedid, event.event_id))


async def _deliver(parallel: int, batch: list[tuple[str, Any]]) -> tuple[_StubOutbox, _SlowSink]:
    outbox, sink = _StubOutbox(), _SlowSink(0.01)
    worker = SinkWorker(outbox, sink, "test", parallel_calls=parallel)  # type: ignore[arg-type]
    await worker._deliver_batch(batch)
    return outbox, sink


async def test_given_parallel_calls_then_calls_overlap_and_each_keeps_its_order() -> None:
    batch = [_entry(n, f"1.{n % 6}") for n in range(24)]
    outbox, sink = await _deliver(4, batch)
    assert sorted(outbox.acked) == sorted(eid for eid, _ in batch)
    assert sink.most == 4
    for call in {f"1.{k}" for k in range(6)}:
        seen = [int(eid[1:]) for lid, eid in sink.order if lid == call]
        assert seen == sorted(seen) and len(seen) == 4


async def test_given_one_lane_then_delivery_is_strictly_sequential() -> None:
    _, sink = await _deliver(1, [_entry(n, f"1.{n % 3}") for n in range(6)])
    assert sink.most == 1
    assert [eid for _, eid in sink.order] == [f"e{n}" for n in range(6)]
