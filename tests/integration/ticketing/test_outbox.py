"""The durable outbox on a private Redis with a real signed-webhook receiver."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from hotline.ticketing.connector import WORK_ORDER_CREATED, OutboxEvent
from hotline.ticketing.webhook import WebhookSink
from tests.integration.ticketing.pipeline import SECRET, private_outbox, webhook_receiver
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration

ROUTES = {"webhook": ["work_order."]}
HOTLINE = Path(sys.executable).with_name("hotline")


def event(n: int) -> OutboxEvent:
    return OutboxEvent(f"work_order.created:lid-{n}", WORK_ORDER_CREATED, f"lid-{n}",
                       {"queue": "environment", "subject": f"油烟扰民 {n}"}, 1759197600.0 + n)


async def test_given_receiver_answering_5xx_when_it_recovers_then_event_delivered_once_without_dead_letter(
    redis_server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async with webhook_receiver(fail_first=3, fail_status=500) as rec, \
            private_outbox(redis_server.url, ROUTES) as box:
        worker = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=5))
        box.writer.submit(event(1))

        await until(lambda: "work_order.created:lid-1" in rec.accepted, timeout=15, what="delivery after 5xx")

        assert rec.posts == 4 and list(rec.accepted) == ["work_order.created:lid-1"]
        assert worker.counters.retried == 3 and worker.counters.dead == 0
        status = await until(lambda: _settled(box), timeout=5, what="entry acknowledged")
        assert status.pending == 0 and status.dead == 0


async def _settled(box):  # type: ignore[no-untyped-def]
    s = await box.outbox.status("webhook", 0.0)
    return s if s.pending == 0 else None


async def test_given_receiver_down_for_a_while_then_nothing_dead_and_all_arrive_in_order(
    redis_server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async with webhook_receiver(fail_first=10**6, fail_status=503) as rec, \
            private_outbox(redis_server.url, ROUTES) as box:
        worker = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=5))
        for n in range(5):
            box.writer.submit(event(n))
        await until(lambda: worker.counters.paused >= 8, timeout=15, what="several outage pauses")
        rec.fail_first = 0  # the receiver is back

        await until(lambda: len(rec.accepted) == 5, timeout=15, what="all five delivered")

        assert list(rec.accepted) == [f"work_order.created:lid-{n}" for n in range(5)]
        assert worker.counters.dead == 0
        assert await box.outbox.dead_entries("webhook") == []


async def test_given_receiver_rejecting_4xx_then_dead_letter_with_error_and_cli_replay_delivers_it(
    redis_server: ServerProcess, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    async with webhook_receiver(fail_first=1, fail_status=422) as rec, \
            private_outbox(redis_server.url, ROUTES) as box:
        worker = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=5))
        box.writer.submit(event(7))
        await until(lambda: worker.counters.dead == 1, timeout=10, what="dead letter")
        config = tmp_path / "hotline.yaml"
        config.write_text(f"redis: {{url: '{redis_server.url}'}}\n"
                          f"ticketing: {{outbox: {{prefix: '{box.outbox.prefix}'}}}}\n")

        code, out = await _hotline(config, "outbox", "dead", "--sink", "webhook")
        assert code == 0 and "work_order.created:lid-7" in out and "TicketingRejected" in out and "422" in out
        dead_id = out.split("\t")[1]
        code, out = await _hotline(config, "outbox", "status")
        columns = [line.split() for line in out.splitlines() if line.startswith("webhook")]
        assert code == 0 and [c[5] for c in columns] == ["1"]  # sink delivered length lag pending dead

        code, out = await _hotline(config, "outbox", "replay", dead_id)

        assert code == 0 and f"replayed webhook {dead_id}" in out
        await until(lambda: "work_order.created:lid-7" in rec.accepted, timeout=10, what="replayed delivery")
        assert rec.accepted["work_order.created:lid-7"]["event_id"] == "work_order.created:lid-7"
        assert await box.outbox.dead_entries("webhook") == []
        code, _ = await _hotline(config, "outbox", "replay", dead_id)
        assert code == 1


async def _hotline(config: Path, *argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(HOTLINE), "--config", str(config), *argv, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "HOTLINE_CONFIG": ""},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode()


async def test_given_worker_killed_mid_delivery_when_restarted_then_pending_entry_redelivered_once(
    redis_server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async with webhook_receiver(hold=asyncio.Event()) as rec, private_outbox(redis_server.url, ROUTES) as box:
        first = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=30), consumer="svc-a")
        box.writer.submit(event(3))
        await until(lambda: rec.posts == 1, timeout=10, what="first POST in flight")
        await first.stop()  # the service dies while the POST hangs: the entry stays pending for svc-a
        assert (await box.outbox.status("webhook", 0.0)).pending == 1
        assert rec.hold is not None
        rec.hold.set()
        rec.posts = 0

        again = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=5), consumer="svc-a")

        await until(lambda: again.counters.delivered == 1, timeout=10, what="own pending entry re-read")
        assert list(rec.accepted) == ["work_order.created:lid-3"]


async def test_given_consumer_gone_for_good_then_another_claims_its_entries(
    redis_server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async with webhook_receiver(hold=asyncio.Event()) as rec, private_outbox(redis_server.url, ROUTES) as box:
        gone = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=30), consumer="host-a")
        box.writer.submit(event(4))
        await until(lambda: rec.posts == 1, timeout=10, what="POST in flight on host-a")
        await gone.stop()
        assert rec.hold is not None
        rec.hold.set()

        other = await box.add_worker(WebhookSink(http, rec.url, SECRET, timeout_s=5), consumer="host-b",
                                     claim_idle_ms=200, claim_every_s=0.1)

        await until(lambda: other.counters.delivered == 1, timeout=10, what="XAUTOCLAIM by host-b")
        assert list(rec.accepted) == ["work_order.created:lid-4"]
        pending = await box.outbox.pending_entries("webhook")
        assert pending == []


async def test_given_redis_down_when_events_submitted_then_writer_keeps_them_until_it_returns(
    redis_server: ServerProcess,
) -> None:
    async with private_outbox(redis_server.url, ROUTES) as box:
        redis_server.stop()
        try:
            for n in range(5):
                box.writer.submit(event(n))  # the AMI pump never waits
            assert box.writer.buffered >= 4
        finally:
            redis_server.start()

        assert await box.writer.flush(timeout_s=15)
        assert (await box.outbox.status("webhook", 0.0)).length == 5
        assert box.writer.dropped == 0
