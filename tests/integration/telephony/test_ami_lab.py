"""The AMI core against the real lab Asterisk 22: login, calls, Originate, faults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.app.config import AmiConfig, LabConfig, Settings
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiAuthError, AmiClient, AmiConnectionError
from hotline.telephony.calls import CallEnded, CallEvent, CallModel, CallStarted
from hotline.telephony.eventlog import EventLogWriter, read_log
from hotline.telephony.frames import AmiMessage
from hotline.telephony.tracker import CallTracker
from hotline.telephony.translate import translate
from hotline_lab import lab
from hotline_lab.sipp import register_seats, start_sipp
from tests.support.proxy import SilenceableProxy
from tests.support.wait import free_port, until


def record(tracker: CallTracker) -> list[CallEvent]:
    seen: list[CallEvent] = []
    tracker.subscribe(seen.append)
    return seen


async def test_given_the_lab_when_connected_then_asterisk_22_answers_actions(tracked: CallTracker) -> None:
    resp = await tracked.client.action("CoreSettings", check=True)
    assert resp.response.text("AsteriskVersion").startswith("22.")
    assert tracked.client.version  # the AMI protocol version from the greeting


async def test_given_a_wrong_secret_when_connecting_then_a_typed_error_says_what_to_fix(
        asterisk: lab.LabPaths, ami_config: AmiConfig) -> None:
    client = AmiClient(ami_config.model_copy(update={"secret": "not-the-secret"}))
    await client.start()
    try:
        with pytest.raises(AmiAuthError, match="login refused for user 'hotline'"):
            await client.wait_connected(timeout=10, fail_fast=True)
        assert client.stats.connects == 0
    finally:
        await client.stop()


async def test_given_no_asterisk_on_the_port_when_connecting_then_a_connection_error(ami_config: AmiConfig) -> None:
    client = AmiClient(ami_config.model_copy(update={"port": free_port()}))
    await client.start()
    try:
        with pytest.raises(AmiConnectionError, match=r"Connect call failed|refused"):
            await client.wait_connected(timeout=5, fail_fast=True)
    finally:
        await client.stop()


async def test_given_a_citizen_call_answered_by_a_seat_when_tracked_then_one_call_with_both_legs(
        tracked: CallTracker, tmp_path: Path) -> None:
    client = tracked.client
    calls = record(tracked)
    order: list[tuple[str, str]] = []
    client.subscribe(lambda m, e: order.append((type(e).__name__, e.uniqueid))
                     if isinstance(e, (ev.ChannelCreated, ev.ChannelHungUp)) else None)
    phone = await start_sipp("answer", tmp_path, calls=1, duration_ms=300)
    seat = 1201
    await register_seats([seat], phone.port, tmp_path)
    await client.action("QueueAdd", {"Queue": "commerce", "Interface": f"PJSIP/{seat}", "Penalty": 0}, check=True)
    try:
        caller = await start_sipp("caller", tmp_path, duration_ms=1500,
                                  keys={"caller": "13800138000", "dial": "12301"})
        assert await caller.wait(30) == 0, caller.output()[-2000:]
        # other suites may have left calls up on the shared Asterisk: follow this test's caller only
        ours = lambda: {c.linkedid for c in calls if isinstance(c, CallStarted) and c.caller_num == "13800138000"}  # noqa: E731
        ended = await until(lambda: [c for c in calls if isinstance(c, CallEnded) and c.linkedid in ours()],
                            timeout=10, what="CallEnded")
    finally:
        await client.action("QueueRemove", {"Queue": "commerce", "Interface": f"PJSIP/{seat}"})
        await phone.stop()
    started = [c for c in calls if isinstance(c, CallStarted) and c.caller_num == "13800138000"]
    assert len(started) == 1 and len(ended) == 1 and ended[0].linkedid == started[0].linkedid
    call = tracked.model.calls[started[0].linkedid]
    channels = sorted(leg.channel.split("-")[0] for leg in call.legs.values())
    assert channels == [f"PJSIP/{seat}", "PJSIP/trunk"]
    assert all(leg.ended_at is not None and leg.cause is not None for leg in call.legs.values())
    assert started[0].caller_num == "13800138000"
    for uid in call.legs:  # per leg, Newchannel came before Hangup: the pump kept order
        assert order.index(("ChannelCreated", uid)) < order.index(("ChannelHungUp", uid))


async def test_given_an_originate_of_a_local_channel_when_answered_then_both_halves_are_one_call(
        tracked: CallTracker) -> None:
    client = tracked.client
    calls = record(tracked)
    responses: list[ev.OriginateResponded] = []
    client.subscribe(lambda m, e: responses.append(e) if isinstance(e, ev.OriginateResponded) else None)
    resp = await client.action("Originate", {
        "Channel": "Local/wait@hotline-test", "Application": "Wait", "Data": "1",
        "Variable": {"WAIT_S": "1"}, "Async": True, "CallerID": "hotline <12345>",
    }, check=True)
    aid = resp.response.action_id
    (orig,) = await until(lambda: [r for r in responses if r.action_id == aid], timeout=10, what="OriginateResponse")
    assert orig.reason == 4 and orig.uniqueid  # answered
    lid = tracked.model.legs[orig.uniqueid].linkedid
    (ended,) = await until(lambda: [c for c in calls if isinstance(c, CallEnded) and c.linkedid == lid], timeout=15,
                           what="call end")
    call = tracked.model.calls[ended.linkedid]
    halves = {leg.channel.rsplit(";", 1)[-1]: leg for leg in call.legs.values()}
    assert set(halves) == {"1", "2"}
    assert halves["1"].local_peer == halves["2"].uniqueid


async def test_given_asterisk_crashed_and_restarted_mid_call_when_reconnected_then_the_dead_call_is_closed_once(
        tracked: CallTracker, tmp_path: Path, settings: Settings, lab_config: LabConfig) -> None:
    client = tracked.client
    calls = record(tracked)
    caller = await start_sipp("caller", tmp_path, duration_ms=120_000, keys={"caller": "13900139000", "dial": "12345"})
    try:
        (started,) = await until(lambda: [c for c in calls if isinstance(c, CallStarted)
                                          and c.caller_num == "13900139000"], timeout=15, what="call started")
        paths = lab.LabPaths(lab_config.root)
        assert lab.stop_service(paths, "asterisk", crash=True)
        await until(lambda: not client.connected, timeout=10, what="disconnect noticed")
        await asyncio.to_thread(lab.start_asterisk, lab_config, paths, settings.ami)
        await until(lambda: client.connected and tracked.resyncs >= 1, timeout=30, what="reconnect and resync")
        (ended,) = await until(lambda: [c for c in calls if isinstance(c, CallEnded)
                                        and c.linkedid == started.linkedid], timeout=10,
                               what="dead call closed")
    finally:
        await caller.stop()
    assert ended.linkedid == started.linkedid and ended.reason == "lost"
    assert client.stats.connects == 2
    await asyncio.sleep(0)  # nothing more queued for that call:
    assert [c for c in calls if getattr(c, "linkedid", None) == started.linkedid and isinstance(c, CallStarted)] \
        == [started]
    assert not tracked.model.active_calls() or all(c.linkedid != started.linkedid
                                                     for c in tracked.model.active_calls())


async def test_given_the_ami_socket_silently_blocked_when_pings_go_unanswered_then_the_drop_is_detected(
        asterisk: lab.LabPaths, ami_config: AmiConfig) -> None:
    proxy = SilenceableProxy(ami_config.host, ami_config.port)
    await proxy.start()
    client = AmiClient(ami_config.model_copy(update={"port": proxy.port, "ping_interval_s": 1.0}))
    changes: list[ev.AmiConnectionChanged] = []
    client.subscribe(lambda m, e: changes.append(e) if isinstance(e, ev.AmiConnectionChanged) else None)
    await client.start()
    try:
        await client.wait_connected(timeout=10)
        proxy.freeze()
        await until(lambda: client.stats.disconnects == 1, timeout=8, what="silent drop detected")
        assert "Ping" in client.stats.last_error
        proxy.thaw()
        await until(lambda: client.connected and client.stats.connects == 2, timeout=15, what="reconnected")
        resp = await client.action("Ping", check=True)
        assert resp.response.text("Ping") == "Pong"
        await until(lambda: [c.connected for c in changes] == [True, False, True], timeout=5, what="pump events")
    finally:
        await client.stop()
        await proxy.close()


async def test_given_a_failing_subscriber_when_events_flow_then_the_pump_carries_on(tracked: CallTracker) -> None:
    client = tracked.client
    seen: list[str] = []

    def broken(msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        raise RuntimeError("subscriber bug")

    client.subscribe(broken)
    client.subscribe(lambda m, e: seen.append(m.name) if m is not None else None)
    await client.action("Ping", check=True)
    await client.action("UserEvent", {"UserEvent": "HotlineProbe", "Note": "测试"}, check=True)
    await until(lambda: "UserEvent" in seen, timeout=5, what="UserEvent delivered past the broken subscriber")
    assert client.stats.handler_errors >= 1


async def test_given_a_recorded_event_log_when_replayed_then_the_call_model_is_the_live_one(
        asterisk: lab.LabPaths, ami_config: AmiConfig, tmp_path: Path) -> None:
    elog = EventLogWriter(tmp_path / "ami.amilog")
    client = AmiClient(ami_config, event_log=elog)
    tracker = CallTracker(client)
    ended = record(tracker)
    await client.start()
    try:
        await client.wait_connected(timeout=10)
        await until(lambda: tracker.resyncs >= 1, timeout=10, what="first resync")
        for i in range(3):
            await client.action("Originate", {"Channel": "Local/wait@hotline-test", "Application": "Wait",
                                              "Data": "1", "Variable": {"WAIT_S": "1"}, "Async": True,
                                              "CallerID": f"市民{i} <1380000000{i}>"}, check=True)
        await until(lambda: sum(isinstance(c, CallEnded) for c in ended) >= 3, timeout=20, what="3 calls ended")
        await client.drain(timeout=5)
    finally:
        await client.stop()
        elog.close()
    replayed = CallModel()
    for msg in read_log(tmp_path / "ami.amilog"):
        event = translate(msg)
        if event is not None:
            replayed.apply(event)

    def shape(model: CallModel) -> dict[str, list[tuple]]:
        return {lid: sorted((leg.uniqueid, leg.channel, leg.caller_name, leg.cause, leg.ended_at)
                            for leg in call.legs.values()) for lid, call in model.calls.items()}

    assert shape(replayed) == shape(tracker.model)
    assert any(leg.caller_name.startswith("市民") for call in replayed.calls.values() for leg in call.legs.values())


async def test_given_app_queue_members_when_resynced_then_queue_status_is_known(tracked: CallTracker) -> None:
    client = tracked.client
    await client.action("QueueAdd", {"Queue": "transport", "Interface": "PJSIP/1202", "Penalty": 2}, check=True)
    try:
        await tracked.resync()
        view = await until(lambda: tracked.app_queues.complete and tracked.app_queues, timeout=5, what="QueueStatus")
        member = view.members["transport"]["PJSIP/1202"]
        assert member.penalty == 2 and not member.paused
        assert "transport" in view.params
    finally:
        await client.action("QueueRemove", {"Queue": "transport", "Interface": "PJSIP/1202"})
