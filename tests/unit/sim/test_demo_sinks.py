"""The demo's sinks: which settings switch them on, how their rows reconcile, how checkers are merged (pure)."""

from __future__ import annotations

import asyncio

import pytest

from hotline.ticketing.settings import TicketingSettings
from hotline_lab.demo import DemoSummary, SinkCheck, check_sinks, sink_settings
from hotline_lab.sim.reconcile import Outcomes, sink_mismatches


def test_given_sink_settings_when_validated_then_rt_webhook_and_mqtt_are_on_under_the_run_prefix() -> None:
    got = TicketingSettings.model_validate({"enabled": True, **sink_settings(
        "http://127.0.0.1:4321/hotline/hook", "s3cret", "hotline-demo-1370001-abc123")})
    assert got.enabled_sinks() == ["rt", "webhook", "mqtt"]
    assert got.webhook.url == "http://127.0.0.1:4321/hotline/hook" and got.webhook.secret_value() == "s3cret"
    assert got.mqtt.topic_prefix == "hotline-demo-1370001-abc123"
    assert got.mqtt.client_id == "hotline-demo-1370001-abc123-hotline"


OK = {"rt": {"delivered": 4, "pending": 0, "dead": 0},
      "webhook": {"delivered": 4, "pending": 0, "dead": 0, "received": 4, "bad": 0, "duplicates": 0},
      "mqtt": {"delivered": 30, "pending": 0, "dead": 0, "received": 31, "bad": 0, "duplicates": 1}}


def test_given_sinks_that_agree_when_checked_then_no_mismatch_and_duplicates_are_fine() -> None:
    assert sink_mismatches(OK) == []


@pytest.mark.parametrize(("sink", "change", "words"), [
    ("rt", {"pending": 2}, "rt pending: 2"),
    ("rt", {"dead": 1}, "rt dead: 1"),
    ("webhook", {"bad": 1}, "webhook bad: 1"),
    ("mqtt", {"bad": 3}, "mqtt bad: 3"),
    ("webhook", {"received": 3}, "webhook: received 3 < delivered 4"),
    ("mqtt", {"pending": 1}, "mqtt pending: 1"),
])
def test_given_one_sink_number_off_when_checked_then_named(sink, change, words) -> None:
    sinks = {k: dict(v) for k, v in OK.items()}
    sinks[sink].update(change)
    assert sink_mismatches(sinks) == [words]


def test_given_a_sink_mismatch_when_summarised_then_not_reconciled_and_each_sink_has_its_line() -> None:
    s = DemoSummary(calls=Outcomes(placed=1, reached_ivr=1, offered_queue=1, answered=1),
                    queues=Outcomes(offered_queue=1, answered=1), recordings=1, transcripts=1, work_orders=1,
                    work_orders_with_transcript=1, expected_work_orders=1, sinks={k: dict(v) for k, v in OK.items()})
    assert s.as_json()["reconciled"] is True and s.as_json()["sinks"]["mqtt"]["received"] == 31
    lines = s.lines()
    assert any("webhook" in x and "delivered    4" in x and "received 4" in x for x in lines), lines
    s.sinks["mqtt"]["received"] = 29
    assert s.lines()[-1] == "reconciled: no: mqtt: received 29 < delivered 30"


class FakeCheck:
    """A :class:`SinkCheck` whose events arrive when the test says so."""

    def __init__(self, sink: str, received: int) -> None:
        self.sink = sink
        self.received = received
        self.arrived = asyncio.Event()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def wait_for(self, count: int, timeout_s: float) -> int:
        async with asyncio.timeout(timeout_s):
            while self.received < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received

    def counts(self) -> dict[str, int]:
        return {"received": self.received, "bad": 0, "duplicates": 0}


async def test_given_a_late_message_when_sinks_checked_then_waits_for_it_and_merges_the_counts() -> None:
    late = FakeCheck("mqtt", 29)
    checks: list[SinkCheck] = [FakeCheck("webhook", 4), late]
    sinks = {"rt": {"delivered": 4, "pending": 0, "dead": 0}, "webhook": {"delivered": 4, "pending": 0, "dead": 0},
             "mqtt": {"delivered": 30, "pending": 0, "dead": 0}}

    async def arrive() -> None:
        await asyncio.sleep(0.05)
        late.received += 1
        late.arrived.set()

    task = asyncio.create_task(arrive())
    await check_sinks(sinks, checks, 5.0)
    await task
    assert sinks["mqtt"]["received"] == 30 and sinks["webhook"]["received"] == 4 and "received" not in sinks["rt"]
    assert sink_mismatches(sinks) == []


async def test_given_a_message_that_never_comes_when_sinks_checked_then_bounded_and_named() -> None:
    sinks = {"webhook": {"delivered": 4, "pending": 0, "dead": 0}}
    async with asyncio.timeout(2.0):
        await check_sinks(sinks, [FakeCheck("webhook", 3)], 0.2)
    assert sink_mismatches(sinks) == ["webhook: received 3 < delivered 4"]
