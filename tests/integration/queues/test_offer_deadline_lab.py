"""No agent is left reserved, on the real lab (seats 1051-1054): the OriginateResponse of a ringing
offer never reaches hotline (AMI gone silent, or the event lost on a healthy connection)."""

from __future__ import annotations

from pathlib import Path

from hotline.queues.eventlog import read_events
from hotline.queues.events import CallAnswered, OfferFailed
from hotline.queues.model import AgentStatus
from hotline.queues.routing import LOST
from hotline.telephony.ami import AmiClient
from tests.integration.queues.conftest import Lab, request_for, write_agents
from tests.support.proxy import EventDroppingProxy, SilenceableProxy
from tests.support.wait import until

S = AgentStatus


async def _agent_legs(ami: AmiClient, seat: str) -> int:
    resp = await ami.action("CoreShowChannels", timeout=5)
    return sum(1 for m in resp.events if m.text("Channel").startswith(f"PJSIP/{seat}-"))


async def _no_agent_leg(ami: AmiClient, seat: str) -> bool:
    return await _agent_legs(ami, seat) == 0


async def test_given_an_agent_ringing_when_ami_goes_silent_past_the_ring_timeout_then_released_and_caller_answered(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1051', skills: {commerce: 5}}\n"
                                    "  - {id: '1052', skills: {commerce: 3}}\n")
    await lab.phones("noanswer", [1051])
    await lab.phones("answer", [1052])
    proxy = SilenceableProxy(lab.ami_config.host, lab.ami_config.port)
    await proxy.start()
    lab.closers.append(proxy.close)
    direct = AmiClient(lab.ami_config)
    await direct.start()
    lab.closers.append(direct.stop)
    await direct.wait_connected(timeout=15)
    d = await lab.dispatcher(agents, lab.ami_config.model_copy(update={"port": proxy.port, "ping_interval_s": 1.0}))
    for seat in ("1051", "1052"):
        await d.login(seat)
        await d.ready(seat)
    _, caller = await lab.caller(d.tracker, talk_ms=30000)  # waits through the outage and a second ring
    await d.enqueue(request_for(caller, "commerce"))
    assert d.agent_state("1051").status is S.RESERVED
    await until(lambda: _agent_legs(direct, "1051"), timeout=10, what="1051 ringing")

    proxy.freeze()  # the OriginateResponse (no answer, after 3 s) and the Hangup never reach routing
    await until(lambda: d.state.suspended, timeout=10, what="routing suspended on the AMI loss")
    await until(lambda: _no_agent_leg(direct, "1051"), timeout=15, what="1051's ring timed out")
    assert d.agent_state("1051").status is S.RESERVED  # nobody could know: not released blindly
    proxy.thaw()

    await until(lambda: d.agent_state("1052").status is S.ON_CALL, timeout=30,
                what="caller answered by another agent after the reconnect")
    assert d.agent_state("1052").linkedid == caller.linkedid
    assert d.agent_state("1051").status is not S.RESERVED
    assert not d.state.suspended and d.stats.suspensions == 1 and d.stats.lost_offers >= 1
    assert await d.flush()
    events = [e for e in read_events(tmp_path / "routing.log") if getattr(e, "linkedid", None) == caller.linkedid]
    assert ("1051", LOST) in [(e.agent_id, e.reason) for e in events if isinstance(e, OfferFailed)]
    assert [e.agent_id for e in events if isinstance(e, CallAnswered)] == ["1052"]
    assert d.metrics.daily(d.metrics.local_day(d.clock()), "commerce").abandoned == 0


async def test_given_a_failed_originate_response_lost_on_a_healthy_connection_then_lost_after_the_leg_ends(
        lab: Lab, tmp_path: Path) -> None:
    agents = write_agents(tmp_path, "  - {id: '1053', skills: {commerce: 5}}\n"
                                    "  - {id: '1054', skills: {commerce: 3}}\n")
    await lab.phones("noanswer", [1053])
    await lab.phones("answer", [1054])

    def failed_response(msg: bytes) -> bool:
        return b"Event: OriginateResponse" in msg and b"Response: Failure" in msg

    proxy = EventDroppingProxy(lab.ami_config.host, lab.ami_config.port, failed_response)
    await proxy.start()
    lab.closers.append(proxy.close)
    d = await lab.dispatcher(agents, lab.ami_config.model_copy(update={"port": proxy.port}))
    for seat in ("1053", "1054"):
        await d.login(seat)
        await d.ready(seat)
    _, caller = await lab.caller(d.tracker, talk_ms=15000)
    await d.enqueue(request_for(caller, "commerce"))
    assert d.agent_state("1053").status is S.RESERVED

    # 1053 rings out (3 s); its Hangup arrives, its OriginateResponse never does: lost 2 s later
    await until(lambda: d.agent_state("1054").status is S.ON_CALL, timeout=20, what="offered to the other agent")
    assert proxy.dropped >= 1
    released = d.agent_state("1053")
    assert (released.status, released.reason) == (S.READY, None)  # a technical failure: not "missed"
    assert d.agent_state("1054").linkedid == caller.linkedid
    assert await d.flush()
    events = [e for e in read_events(tmp_path / "routing.log") if getattr(e, "linkedid", None) == caller.linkedid]
    assert [(e.agent_id, e.reason) for e in events if isinstance(e, OfferFailed)] == [("1053", LOST)]
