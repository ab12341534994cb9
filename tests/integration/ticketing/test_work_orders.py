"""Calls become work orders in the real lab RT, transcripts become comments, and an RT outage loses nothing.

The calls are AMI frames fed into a real :class:`AmiClient` pump (``ingest``), so they take the
service's path: framing -> translation -> call model -> work orders -> outbox -> RT. The
transcripts are announced the way the speech pipeline does it (``RedisTranscriptSink.put``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from hotline.app.config import AmiConfig
from hotline.kernel.settings import RedisConfig
from hotline.speech.jobs import JobOutcome
from hotline.speech.store import RedisTranscriptSink
from hotline.speech.transcript import Segment, Transcript
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline.ticketing.component import Ticketing
from hotline.ticketing.plugin import build_ticketing
from hotline.ticketing.rt import FIELD_EVENTS, FIELD_LINKEDID, RtClient, custom_field_values
from hotline.ticketing.settings import TicketingSettings
from tests.integration.ticketing.conftest import RtLab
from tests.integration.ticketing.pipeline import ami_call_frames
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration


def new_linkedid() -> str:
    return f"{int(time.time())}.{uuid.uuid4().int % 10**6}"


def citizen() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def dialogue(linkedid: str) -> str:
    return f"caller: 楼下餐馆油烟太大 {linkedid}\nagent: 好的，我们转交环保部门"


@asynccontextmanager
async def ticketing_service(redis_url: str, rt_lab: RtLab) -> AsyncIterator[tuple[AmiClient, Ticketing]]:
    """The ticketing component as the service builds it (RT sink only), on a replay AMI client."""
    tag = uuid.uuid4().hex[:8]
    settings = TicketingSettings.model_validate({
        "enabled": True,
        "redis_url": redis_url,
        "rt": {"env_file": str(rt_lab.state_dir / "rt.env"), "timeout_s": 5},
        "mqtt": {"enabled": False},
        "outbox": {"prefix": f"test:{tag}:outbox:", "consumer": f"test-{tag}", "backoff_min_s": 0.1,
                   "backoff_max_s": 1.0, "deliver_timeout_s": 15},
        "work_orders": {"transcripts_stream": f"test:{tag}:transcripts:events",
                        "transcripts_hash": f"test:{tag}:transcripts", "index_key": f"test:{tag}:workorders",
                        "cards_key": f"test:{tag}:cards", "first_seat": 1281, "last_seat": 1300},
        "monitor": {"enabled": False},
    })
    client = AmiClient(AmiConfig())
    tracker = CallTracker(client, live=False)
    component = build_ticketing(settings, tracker, redis=RedisConfig(url=redis_url))
    component.transcripts.block_ms = 100
    await client.start(connect=False)
    await component.start()
    try:
        yield client, component
    finally:
        await component.stop()
        await client.stop()


async def announce_transcript(component: Ticketing, linkedid: str) -> None:
    """What a speech worker does when a recording of the call is transcribed."""
    wo = component.settings.work_orders
    sink = RedisTranscriptSink(component.redis, wo.transcripts_hash, wo.transcripts_stream)
    transcript = Transcript(f"/rec/{linkedid}.wav", 30.0, 8000, 2, segments=(
        Segment("caller", 0, 0.5, 3.0, f"楼下餐馆油烟太大 {linkedid}"),
        Segment("agent", 1, 3.5, 6.0, "好的，我们转交环保部门"),
    ))
    outcome = JobOutcome(f"job-{linkedid}", linkedid, f"/rec/{linkedid}.wav", "done", "w1", time.time(), transcript)
    assert await sink.put(outcome)


async def ticket_of(rt: RtClient, linkedid: str) -> dict | None:  # type: ignore[type-arg]
    ids = await rt.find_ticket_ids(FIELD_LINKEDID, linkedid)
    assert len(ids) <= 1, f"{linkedid} has {len(ids)} tickets"
    return await rt.get_ticket(ids[0]) if ids else None


async def applied_ticket_of(rt: RtClient, linkedid: str) -> dict | None:  # type: ignore[type-arg]
    """The call's ticket once its work order is recorded as applied (fields read back and checked)."""
    ticket = await ticket_of(rt, linkedid)
    done = ticket is not None and f"work_order.created:{linkedid}" in custom_field_values(ticket).get(FIELD_EVENTS, [])
    return ticket if done else None


async def transcript_comments(rt: RtClient, ticket_id: int, linkedid: str) -> int:
    return sum(1 for a in await rt.attachments(ticket_id) if a.get("Content") == dialogue(linkedid))


async def test_given_agent_answered_call_when_it_ends_then_ticket_with_fields_then_transcript_comment(
    redis_server: ServerProcess, rt_lab: RtLab, rt_client: RtClient
) -> None:
    linkedid, caller = new_linkedid(), citizen()
    async with ticketing_service(redis_server.url, rt_lab) as (ami, component):
        ami.ingest(ami_call_frames(linkedid, caller, "1290", time.time() - 60))

        ticket = await until(lambda: applied_ticket_of(rt_client, linkedid), timeout=30, what="ticket in RT")

        fields = custom_field_values(ticket)
        assert fields["Caller Number"] == [caller]
        assert fields["Call Type"] == ["consultation"]
        assert fields["Linkedid"] == [linkedid]
        assert fields[FIELD_EVENTS] == [f"work_order.created:{linkedid}"]
        assert ticket["Queue"]["id"] and "12345 咨询" in ticket["Subject"]
        assert ticket["Due"] != "1970-01-01T00:00:00Z"
        record = await component.index.get(linkedid)
        assert record is not None and record.call_type == "consultation"

        await announce_transcript(component, linkedid)

        await until(lambda: transcript_comments(rt_client, int(ticket["id"]), linkedid), timeout=30,
                    what="transcript comment")
        assert await transcript_comments(rt_client, int(ticket["id"]), linkedid) == 1


async def test_given_call_no_agent_answered_then_no_ticket_and_its_transcript_is_not_sent(
    redis_server: ServerProcess, rt_lab: RtLab, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    async with ticketing_service(redis_server.url, rt_lab) as (ami, component):
        component.transcripts.grace_s = 0.0
        ami.ingest(ami_call_frames(linkedid, citizen(), "1291", time.time() - 60, answered=False))
        await ami.drain(5)
        assert await component.writer.flush(5)
        await announce_transcript(component, linkedid)

        await until(lambda: _acked(component), timeout=10, what="announcement acknowledged")

        assert component.work_orders.created == 0 and component.transcripts.emitted == 0
        assert await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid) == []


async def _acked(component: Ticketing) -> bool:
    wo = component.settings.work_orders
    info = await component.redis.xpending(wo.transcripts_stream, wo.transcripts_group)
    groups = await component.redis.xinfo_groups(wo.transcripts_stream)
    return int(info["pending"]) == 0 and all(int(g.get("lag") or 0) == 0 for g in groups)


async def test_given_rt_stopped_mid_stream_when_started_again_then_every_ticket_and_comment_exactly_once(
    redis_server: ServerProcess, rt_lab: RtLab, rt_client: RtClient, http: aiohttp.ClientSession
) -> None:
    before = [new_linkedid() for _ in range(3)]
    during = [new_linkedid() for _ in range(3)]
    async with ticketing_service(redis_server.url, rt_lab) as (ami, component):
        for linkedid in before:
            ami.ingest(ami_call_frames(linkedid, citizen(), "1292", time.time() - 60))
        await until(lambda: _all_tickets(rt_client, before), timeout=60, what="tickets before the outage")

        rt_lab.run("stop")
        try:
            for linkedid in before:
                await announce_transcript(component, linkedid)
            for linkedid in during:
                ami.ingest(ami_call_frames(linkedid, citizen(), "1293", time.time() - 60))
                await ami.drain(5)
                assert await component.writer.flush(5)
                await announce_transcript(component, linkedid)
            rt = component.workers[0]
            await until(lambda: rt.counters.paused > 0, timeout=30, what="the outbox seeing RT down")
        finally:
            rt_lab.run("start")

        every = before + during
        await until(lambda: _all_tickets(rt_client, every), timeout=90, what="every ticket after RT is back")
        tickets = {lid: await ticket_of(rt_client, lid) for lid in every}
        for linkedid, ticket in tickets.items():
            assert ticket is not None
            await until(lambda t=ticket, lid=linkedid: transcript_comments(rt_client, int(t["id"]), lid),
                        timeout=60, what=f"transcript comment of {linkedid}")
        for linkedid, ticket in tickets.items():
            assert ticket is not None
            assert len(await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid)) == 1
            assert await transcript_comments(rt_client, int(ticket["id"]), linkedid) == 1
        assert component.workers[0].counters.dead == 0
        assert await component.outbox.dead_entries("rt") == []


async def _all_tickets(rt: RtClient, linkedids: list[str]) -> bool:
    for linkedid in linkedids:
        if not await rt.find_ticket_ids(FIELD_LINKEDID, linkedid):
            return False
    return True
