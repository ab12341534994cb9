"""Routing publishes its changes: one notification per applied change, pushed to the wallboard without polling.

A real :class:`hotline.queues.dispatch.Dispatcher` (its worker running, no AMI connection: routing is
suspended, so nobody is rung), a :class:`hotline.web.routing_floor.RoutingFloor` and a
:class:`hotline.web.hub.WallboardHub`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from hotline.queues.dispatch import Dispatcher, RoutingChanged
from hotline.queues.exceptions import IllegalTransition
from hotline.queues.handover import QueueRequest
from hotline.queues.model import Agent, AgentStatus, QueueConfig
from hotline.telephony.ami import AmiClient
from hotline.telephony.settings import AmiConfig
from hotline.telephony.tracker import CallTracker
from hotline.web.hub import WallboardHub
from hotline.web.routing_floor import RoutingFloor

AGENT = "1290"


@pytest.fixture
async def dispatcher() -> AsyncIterator[Dispatcher]:
    ami = AmiClient(AmiConfig())
    d = Dispatcher(ami, CallTracker(ami, live=False), [QueueConfig("commerce", frozenset({"commerce"}))],
                   [Agent(AGENT, {"commerce": 3})])
    await d.start()
    try:
        yield d
    finally:
        await d.stop()


async def test_given_an_agent_command_then_exactly_one_change_is_published(dispatcher: Dispatcher) -> None:
    changes: list[RoutingChanged] = []
    dispatcher.subscribe_changed(changes.append)
    await dispatcher.login(AGENT)
    assert await dispatcher.flush(2.0)
    assert len(changes) == 1
    assert changes[0].events_applied == dispatcher.metrics.events_applied


async def test_given_a_refused_command_then_nothing_is_published(dispatcher: Dispatcher) -> None:
    changes: list[RoutingChanged] = []
    dispatcher.subscribe_changed(changes.append)
    with pytest.raises(IllegalTransition):
        await dispatcher.ready(AGENT)  # logged out: cannot be ready
    assert await dispatcher.flush(2.0)
    assert changes == []


async def test_given_a_hand_over_then_one_change_and_the_caller_waits(dispatcher: Dispatcher) -> None:
    changes: list[RoutingChanged] = []
    dispatcher.subscribe_changed(changes.append)
    await dispatcher.enqueue(QueueRequest(linkedid="L1", uniqueid="L1", channel="PJSIP/trunk-1",
                                          caller_num="13800138000", queue="commerce", at=dispatcher.clock()))
    assert await dispatcher.flush(2.0)
    assert len(changes) == 1 and [w.linkedid for w in dispatcher.waiting()] == ["L1"]


async def test_given_a_floor_and_a_hub_when_an_agent_logs_in_then_a_frame_is_pushed_without_a_polling_task(
        dispatcher: Dispatcher) -> None:
    floor = RoutingFloor(dispatcher)
    hub = WallboardHub(lambda: {"agents": {a.agent_id: a.status.value for a in floor.agents()}},
                       min_interval_s=0.05, heartbeat_s=3600)
    floor.subscribe(hub.changed)
    pushed = asyncio.Event()
    floor.subscribe(pushed.set)
    tasks_before = {t.get_name() for t in asyncio.all_tasks()}
    await dispatcher.login(AGENT)
    await asyncio.wait_for(pushed.wait(), 2.0)
    for _ in range(20):  # the hub builds on the next loop turn (call_soon): bounded
        if hub.frames_built:
            break
        await asyncio.sleep(0)
    assert hub.frames_built == 1
    assert json.loads(hub.last_frame) == {"agents": {AGENT: AgentStatus.NOT_READY.value}}
    assert {t.get_name() for t in asyncio.all_tasks()} <= tasks_before  # no watcher task was started
