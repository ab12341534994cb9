"""The MQTT bus through the outbox, against a private Mosquitto that is restarted mid-stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiomqtt
import pytest

from hotline.ticketing.bus import MqttBus
from hotline.ticketing.workorders import agent_state_event, queue_stats_event
from tests.integration.ticketing.pipeline import private_outbox
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration

ROUTES = {"mqtt": ["*"]}


@dataclass
class Subscriber:
    """A dashboard with a persistent session (clean_session=False, fixed id, QoS 1) that reconnects."""

    port: int
    topic: str
    client_id: str = field(default_factory=lambda: f"dash-{uuid.uuid4().hex[:8]}")
    seen: Counter[str] = field(default_factory=Counter)
    sessions: int = 0
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client("127.0.0.1", self.port, identifier=self.client_id,
                                          clean_session=False, timeout=2) as client:
                    self.sessions += 1
                    await client.subscribe(self.topic, qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        self.seen[json.loads(message.payload)["event_id"]] += 1  # type: ignore[arg-type]
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)  # reconnect pacing (the broker is restarting)


@contextlib.asynccontextmanager
async def subscribed(port: int, topic: str) -> AsyncIterator[Subscriber]:
    sub = Subscriber(port, topic)
    task = asyncio.create_task(sub.run())
    try:
        await asyncio.wait_for(sub.subscribed.wait(), 10)
        yield sub
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_given_broker_restarted_mid_stream_then_persistent_subscriber_gets_every_event_once_by_id(
    redis_server: ServerProcess, mosquitto_server: ServerProcess
) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}"
    bus = MqttBus("127.0.0.1", mosquitto_server.port, prefix=prefix, keepalive_s=2, publish_timeout_s=2,
                  backoff_max_s=0.5)
    await bus.start()
    sent: list[str] = []
    try:
        await bus.wait_connected(10)
        async with private_outbox(redis_server.url, ROUTES) as box, \
                subscribed(mosquitto_server.port, f"{prefix}/#") as sub:
            worker = await box.add_worker(bus, deliver_timeout_s=5)
            t0 = time.time()
            for n in range(20):
                e = agent_state_event(f"{1281 + n % 5}", "ready" if n % 2 else "on_call", t0 + n)
                sent.append(e.event_id)
                box.writer.submit(e)
            await until(lambda: set(sent) <= set(sub.seen), timeout=15, what="first 20 events")

            mosquitto_server.stop()
            for n in range(20, 40):  # events keep coming while the broker is down
                e = queue_stats_event("environment", {"waiting": n}, t0 + n)
                sent.append(e.event_id)
                box.writer.submit(e)
            await until(lambda: worker.counters.paused > 0, timeout=10, what="bus outage seen by the outbox")
            mosquitto_server.start()

            await until(lambda: set(sent) <= set(sub.seen), timeout=30,
                        what=f"all 40 events after the restart (seen {len(sub.seen)})")
            assert len(set(sent)) == len(sent) == 40  # event ids are unique
            assert set(sub.seen) == set(sent)  # nothing lost, nothing foreign
            assert sub.sessions >= 2 and bus.connections >= 2  # both sides reconnected
            assert worker.counters.dead == 0
            assert (await box.outbox.status("mqtt", 0.0)).pending == 0
    finally:
        await bus.stop()


async def test_given_agent_states_then_late_subscriber_gets_latest_retained_state(
    redis_server: ServerProcess, mosquitto_server: ServerProcess
) -> None:
    prefix = f"t{uuid.uuid4().hex[:6]}"
    bus = MqttBus("127.0.0.1", mosquitto_server.port, prefix=prefix)
    await bus.start()
    try:
        await bus.wait_connected(10)
        async with private_outbox(redis_server.url, ROUTES) as box:
            worker = await box.add_worker(bus)
            for n, status in enumerate(["ready", "on_call", "wrap_up"]):
                box.writer.submit(agent_state_event("1290", status, 1759197600.0 + n))
            await until(lambda: worker.counters.delivered == 3, timeout=10, what="three publishes")

        async with aiomqtt.Client("127.0.0.1", mosquitto_server.port, timeout=5) as late:
            await late.subscribe(f"{prefix}/agents/+/state", qos=1)
            async with asyncio.timeout(5):
                message = await anext(aiter(late.messages))
        body = json.loads(message.payload)  # type: ignore[arg-type]
        assert message.retain and str(message.topic) == f"{prefix}/agents/1290/state"
        assert body["type"] == "agent.state" and body["data"]["status"] == "wrap_up"
    finally:
        await bus.stop()


async def test_given_no_broker_then_deliver_says_unavailable_and_outbox_keeps_the_event(
    redis_server: ServerProcess,
) -> None:
    from tests.support.wait import free_port

    bus = MqttBus("127.0.0.1", free_port(), backoff_max_s=0.2)
    await bus.start()
    try:
        async with private_outbox(redis_server.url, ROUTES) as box:
            worker = await box.add_worker(bus)
            box.writer.submit(agent_state_event("1291", "ready", 1.0))
            await until(lambda: worker.counters.paused >= 3, timeout=10, what="outage pauses")
            status = await box.outbox.status("mqtt", 0.0)
            assert status.pending == 1 and status.dead == 0
            assert "BusUnavailable" in (worker.counters.last_error or "")
    finally:
        await bus.stop()
