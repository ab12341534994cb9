"""The demo's sink watchers against a real ticketing component, the lab Mosquitto and a private Redis.

Given the ticketing component with the signed webhook and the MQTT bus switched on (RT off), when
an answered call (whose agent leg Asterisk re-links into the citizen's call) goes through the AMI
pump, then the :class:`WebhookReceiver` verifies and counts the work order, the
:class:`BusSubscriber` validates every bus message against the schema (``call.merged`` included),
and :func:`outbox_counts` says what each sink delivered, with nothing pending or dead.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from hotline.app.config import AmiConfig
from hotline.kernel.settings import RedisConfig
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline.ticketing.component import Ticketing
from hotline.ticketing.plugin import build_ticketing
from hotline.ticketing.settings import TicketingSettings
from hotline.ticketing.signature import SIGNATURE_HEADER, sign
from hotline_lab.sim.sinks import BusSubscriber, WebhookReceiver, outbox_counts
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration

LAB_MQTT = ("127.0.0.1", 1883)
SECRET = "demo-secret-公积金"


def lab_broker_up() -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(LAB_MQTT) == 0


def merged_call_frames(linkedid: str, caller: str, seat: str, t0: float) -> bytes:
    """A citizen call answered by an originated agent leg that Asterisk re-links when bridged."""
    agent = f"{linkedid}7"
    trunk, phone = "PJSIP/trunk-0000b001", f"PJSIP/{seat}-0000b002"
    bye = {"Cause": "16", "Cause-txt": "Normal Clearing"}
    frames = [
        ("Newchannel", linkedid, linkedid, trunk, t0, {"CallerIDNum": caller, "ChannelStateDesc": "Up"}),
        ("Newchannel", agent, agent, phone, t0 + 1, {"CallerIDNum": seat, "ChannelStateDesc": "Down"}),
        ("Newstate", agent, agent, phone, t0 + 3, {"ChannelStateDesc": "Up"}),
        ("BridgeEnter", linkedid, linkedid, trunk, t0 + 3.1, {"BridgeUniqueid": "br1", "BridgeNumChannels": "1"}),
        ("BridgeEnter", agent, linkedid, phone, t0 + 3.1, {"BridgeUniqueid": "br1", "BridgeNumChannels": "2"}),
        ("Hangup", linkedid, linkedid, trunk, t0 + 30, bye),
        ("Hangup", agent, linkedid, phone, t0 + 30.1, bye),
    ]
    out = []
    for name, uid, lid, channel, at, extra in frames:
        headers = {"Event": name, "Channel": channel, "Uniqueid": uid, "Linkedid": lid, "Timestamp": f"{at:.6f}",
                   **extra}
        out.append("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
    return "".join(out).encode()


def settings_for(redis_url: str, tag: str, hook_url: str) -> TicketingSettings:
    """What the demo passes (see the ticketing notes): webhook + MQTT bus on, here without RT."""
    return TicketingSettings.model_validate({
        "enabled": True,
        "redis_url": redis_url,
        "rt": {"enabled": False},
        "webhook": {"url": hook_url, "secret": SECRET, "timeout_s": 5},
        "mqtt": {"enabled": True, "host": LAB_MQTT[0], "port": LAB_MQTT[1], "topic_prefix": f"hotline-test-{tag}",
                 "client_id": f"hotline-test-{tag}"},
        "outbox": {"prefix": f"test:{tag}:outbox:", "consumer": f"test-{tag}", "backoff_min_s": 0.1,
                   "backoff_max_s": 1.0, "deliver_timeout_s": 15},
        "work_orders": {"transcripts_stream": f"test:{tag}:transcripts:events",
                        "transcripts_hash": f"test:{tag}:transcripts", "index_key": f"test:{tag}:workorders",
                        "cards_key": f"test:{tag}:cards", "first_seat": 1281, "last_seat": 1300},
        "monitor": {"enabled": False},
    })


@asynccontextmanager
async def component_with(settings: TicketingSettings) -> AsyncIterator[tuple[AmiClient, Ticketing]]:
    client = AmiClient(AmiConfig())
    tracker = CallTracker(client, live=False)
    component = build_ticketing(settings, tracker, redis=RedisConfig(url=str(settings.redis_url)))
    await client.start(connect=False)
    await component.start()
    try:
        yield client, component
    finally:
        await component.stop()
        await client.stop()


async def test_given_webhook_and_bus_on_when_an_answered_merged_call_ends_then_watchers_count_it_all(
    redis_server: ServerProcess,
) -> None:
    if not lab_broker_up():
        pytest.skip("the lab Mosquitto is not running on 127.0.0.1:1883")
    tag = uuid.uuid4().hex[:8]
    receiver = WebhookReceiver(SECRET)
    await receiver.start()
    settings = settings_for(redis_server.url, tag, receiver.url)
    bus = BusSubscriber(*LAB_MQTT, topic_prefix=f"hotline-test-{tag}")
    await bus.start()
    linkedid = f"{int(time.time())}.{uuid.uuid4().int % 10**6}"
    try:
        async with component_with(settings) as (ami, _component):
            ami.ingest(merged_call_frames(linkedid, "13900001111", "1290", time.time() - 60))
            await receiver.wait_for(1, timeout_s=20)
            # call.started x2 (citizen, agent's own), leg_added x2, merged, leg_ended x2, ended, work_order.created
            await bus.wait_for(9, timeout_s=20)
            counts = await until(lambda: _settled(settings, redis_server.url), timeout=20, what="outbox settled")
    finally:
        await bus.stop()
        await receiver.stop()

    assert receiver.by_type == {"work_order.created": 1}
    assert receiver.bad_signatures == 0 and receiver.duplicates == 0
    assert bus.invalid == 0, list(bus.errors)
    assert bus.by_type["call.merged"] == 1 and bus.by_type["work_order.created"] == 1
    assert bus.by_type["call.ended"] == 1  # the emptied agent call never ends: it merged
    assert counts["webhook"].delivered == 1 and counts["mqtt"].delivered == bus.received
    assert all(c.pending == 0 and c.dead == 0 for c in counts.values())


async def _settled(settings: TicketingSettings, redis_url: str) -> dict | None:  # type: ignore[type-arg]
    counts = await outbox_counts(settings, redis_url)
    return counts if all(c.pending == 0 for c in counts.values()) and counts["mqtt"].delivered >= 9 else None


async def test_given_bad_signature_and_a_redelivery_then_receiver_counts_both() -> None:
    receiver = WebhookReceiver(SECRET)
    await receiver.start()
    body = json.dumps({"event_id": "e1", "kind": "work_order.card", "linkedid": "1.1", "payload": {},
                       "created_at": 1.0}, separators=(",", ":")).encode()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for _ in range(2):
                headers = {SIGNATURE_HEADER: sign(SECRET, int(time.time()), body)}
                async with http.post(receiver.url, data=body, headers=headers) as resp:
                    assert resp.status == 200
            forged = {SIGNATURE_HEADER: sign("wrong", int(time.time()), body)}
            async with http.post(receiver.url, data=body, headers=forged) as resp:
                assert resp.status == 401
            async with http.post(receiver.url, data=body) as resp:
                assert resp.status == 401
            stale = {SIGNATURE_HEADER: sign(SECRET, int(time.time()) - 3600, body)}
            async with http.post(receiver.url, data=body, headers=stale) as resp:
                assert resp.status == 401
    finally:
        await receiver.stop()
    assert receiver.by_type == {"work_order.card": 2} and receiver.duplicates == 1
    assert receiver.bad_signatures == 3


async def test_given_a_message_off_schema_then_bus_subscriber_counts_it_invalid() -> None:
    if not lab_broker_up():
        pytest.skip("the lab Mosquitto is not running on 127.0.0.1:1883")
    import aiomqtt

    prefix = f"hotline-test-{uuid.uuid4().hex[:8]}"
    bus = BusSubscriber(*LAB_MQTT, topic_prefix=prefix)
    await bus.start()
    good = {"event_id": "q1", "type": "queue.stats", "at": 1.0, "linkedid": "", "data": {"queue": "general"}}
    try:
        async with aiomqtt.Client(*LAB_MQTT, identifier=f"{prefix}-pub", timeout=5) as pub:
            await pub.publish(f"{prefix}/queues/general/stats", json.dumps(good), qos=1)
            await pub.publish(f"{prefix}/calls/1.1/events", json.dumps({"type": "call.ended"}), qos=1)
            await pub.publish(f"{prefix}/calls/1.1/events", b"not json", qos=1)
        await bus.wait_for(1, timeout_s=10)
        await until(lambda: bus.invalid == 2, timeout=10, what="two invalid messages")
    finally:
        await bus.stop()
    assert bus.by_type == {"queue.stats": 1} and len(bus.errors) == 2
