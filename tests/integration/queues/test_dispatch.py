"""The routing component on the real lab: SIPp agent phones on seats 1001-1100, SIPp citizens on 12399."""

from __future__ import annotations

from pathlib import Path

from hotline.queues.eventlog import read_events
from hotline.queues.events import CallAbandoned, CallAnswered, OfferFailed
from hotline.queues.model import AgentStatus
from tests.integration.queues.conftest import Lab, request_for, write_agents
from tests.support.wait import until

S = AgentStatus


def bridged_seats(d, caller_uniqueid: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Seats whose leg shares a bridge with the caller's leg now (from BridgeEnter, via the call tracker)."""
    legs = d.tracker.model.legs
    caller = legs.get(caller_uniqueid)
    if caller is None or not caller.bridge_id or caller.ended_at is not None:
        return []
    return sorted(leg.channel.split("/")[1].split("-")[0] for leg in legs.values()
                  if leg.bridge_id == caller.bridge_id and leg.uniqueid != caller_uniqueid and leg.ended_at is None)


async def test_given_two_lines_when_callers_arrive_then_each_is_bridged_to_the_agent_with_the_skill(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1001', skills: {commerce: 5}}\n"
                                    "  - {id: '1002', skills: {labour_social: 5}}\n")
    await lab.phones("answer", [1001, 1002])
    d = await lab.dispatcher(agents)
    for seat in ("1001", "1002"):
        await d.login(seat)
        await d.ready(seat)
    _, labour = await lab.caller(d.tracker, talk_ms=3000)
    _, commerce = await lab.caller(d.tracker, talk_ms=3000)
    await d.enqueue(request_for(labour, "labour_social"))
    await d.enqueue(request_for(commerce, "commerce"))

    await until(lambda: d.agent_state("1002").status is S.ON_CALL and d.agent_state("1001").status is S.ON_CALL,
                timeout=15, what="both agents on call")
    assert d.agent_state("1002").linkedid == labour.linkedid
    assert d.agent_state("1001").linkedid == commerce.linkedid
    # Asterisk really bridged them: the agent leg joined the caller's call (linkedid) and is up
    await until(lambda: bridged_seats(d, labour.uniqueid) == ["1002"], timeout=5, what="agent leg in the labour call")
    assert bridged_seats(d, commerce.uniqueid) == ["1001"]

    # the callers hang up -> wrap-up (1 s) -> ready again, by the one routing timer
    await until(lambda: all(d.agent_state(a).status is S.READY and d.agent_state(a).calls_today == 1
                            for a in ("1001", "1002")), timeout=20, what="wrap-up ended")
    today = d.metrics.local_day(d.clock())
    assert d.metrics.daily(today, "labour_social").answered == 1
    assert d.metrics.daily(today, "commerce").answered == 1
    assert not d.tracked()


async def test_given_an_agent_who_does_not_answer_when_the_ring_times_out_then_missed_and_caller_goes_to_next(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1011', skills: {commerce: 5}}\n"
                                    "  - {id: '1012', skills: {commerce: 3}}\n")
    await lab.phones("noanswer", [1011])
    await lab.phones("answer", [1012])
    d = await lab.dispatcher(agents)
    for seat in ("1011", "1012"):
        await d.login(seat)
        await d.ready(seat)
    _, caller = await lab.caller(d.tracker, talk_ms=6000)
    await d.enqueue(request_for(caller, "commerce"))

    assert d.agent_state("1011").status is S.RESERVED  # the expert first
    await until(lambda: d.agent_state("1012").status is S.ON_CALL, timeout=15, what="offered to the next agent")
    missed = d.agent_state("1011")
    assert missed.status is S.NOT_READY and missed.reason == "missed"
    assert d.agent_state("1012").linkedid == caller.linkedid
    assert await d.flush()
    events = [e for e in read_events(tmp_path / "routing.log") if getattr(e, "linkedid", None) == caller.linkedid]
    failed = [e for e in events if isinstance(e, OfferFailed)]
    assert [(e.agent_id, e.reason) for e in failed] == [("1011", "no_answer")]
    assert [e.agent_id for e in events if isinstance(e, CallAnswered)] == ["1012"]


async def test_given_a_caller_waiting_with_no_agent_free_when_they_hang_up_then_the_abandon_is_counted(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1021', skills: {commerce: 5}}\n")
    d = await lab.dispatcher(agents)
    await d.login("1021")  # logged in, not ready: nobody can take the call
    run, caller = await lab.caller(d.tracker, talk_ms=1500)
    await d.enqueue(request_for(caller, "commerce"))
    assert [c.linkedid for c in d.waiting()] == [caller.linkedid]
    assert d.position(caller.linkedid).position == 1  # type: ignore[union-attr]

    assert await run.wait(30) == 0
    await until(lambda: not d.tracked(), timeout=10, what="abandon noticed")
    today = d.metrics.local_day(d.clock())
    assert d.metrics.daily(today, "commerce").abandoned == 1
    assert await d.flush()
    assert [type(e) for e in read_events(tmp_path / "routing.log")
            if getattr(e, "linkedid", None) == caller.linkedid][-1] is CallAbandoned


async def test_given_an_agent_ringing_when_the_caller_hangs_up_then_the_ringing_leg_is_cancelled_and_agent_ready(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1031', skills: {commerce: 5}}\n")
    await lab.phones("noanswer", [1031])
    d = await lab.dispatcher(agents)
    await d.login("1031")
    await d.ready("1031")
    run, caller = await lab.caller(d.tracker, talk_ms=1500)
    await d.enqueue(request_for(caller, "commerce"))
    assert d.agent_state("1031").status is S.RESERVED

    assert await run.wait(30) == 0
    await until(lambda: d.agent_state("1031").status is S.READY, timeout=10, what="offer withdrawn")

    def agent_leg_ended() -> bool:
        legs = [leg for leg in d.tracker.model.legs.values() if leg.channel.startswith("PJSIP/1031-")]
        return bool(legs) and all(leg.ended_at is not None for leg in legs)

    await until(agent_leg_ended, timeout=10, what="agent's ringing leg hung up")
    assert d.stats.cancels == 1
    assert d.metrics.daily(d.metrics.local_day(d.clock()), "commerce").abandoned == 1


async def test_given_callers_waiting_when_routing_restarts_then_they_are_restored_and_the_gone_one_is_closed(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1041', skills: {commerce: 5}}\n")
    await lab.phones("answer", [1041])
    first = await lab.dispatcher(agents)
    await first.login("1041")  # not ready: callers wait
    _, stays = await lab.caller(first.tracker, talk_ms=8000)
    leaves_run, leaves = await lab.caller(first.tracker, talk_ms=1500)
    await first.enqueue(request_for(stays, "commerce"))
    await first.enqueue(request_for(leaves, "commerce"))
    assert len(first.waiting()) == 2
    assert await first.flush()
    await lab.stop(first)  # routing down; both callers still on hold in Asterisk

    assert await leaves_run.wait(30) == 0  # one hangs up while routing is down
    second = await lab.dispatcher(agents)
    await until(lambda: [c.linkedid for c in second.waiting()] == [stays.linkedid], timeout=10,
                what="restored queue with the gone caller closed")
    assert second.agent_state("1041").status is S.NOT_READY  # agent state restored too
    assert second.stats.closed_at_restore == 1
    today = second.metrics.local_day(second.clock())
    assert second.metrics.daily(today, "commerce").abandoned == 1  # replayed + reconciled
    assert second.metrics.daily(today, "commerce").offered == 2

    await second.ready("1041")  # the restored caller is served
    await until(lambda: second.agent_state("1041").status is S.ON_CALL, timeout=15, what="restored caller answered")
    assert second.agent_state("1041").linkedid == stays.linkedid
    await until(lambda: bridged_seats(second, stays.uniqueid) == ["1041"], timeout=5, what="bridged after restart")
