"""AMI frames -> domain events -> call model, on byte-exact frames as Asterisk 22 sends them."""

from __future__ import annotations

import pytest

from hotline.telephony import events as ev
from hotline.telephony.calls import CAUSE_LOST, CallEnded, CallMerged, CallModel, CallStarted, LegEnded
from hotline.telephony.frames import AmiFramer
from hotline.telephony.translate import duration_s, parse_agi_env, translate


def frame(name: str, **headers: str) -> bytes:
    lines = [f"Event: {name}", "Privilege: call,all"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def leg(uid: str, lid: str | None = None, chan: str = "PJSIP/trunk-0001", ts: float = 100.0) -> dict[str, str]:
    return {"Channel": chan, "Uniqueid": uid, "Linkedid": lid or uid, "Timestamp": f"{ts:.6f}"}


def events_of(stream: bytes) -> list[ev.DomainEvent]:
    out = []
    for msg in AmiFramer(expect_greeting=False).feed(stream):
        e = translate(msg)
        if e is not None:
            out.append(e)
    return out


def run(stream: bytes, model: CallModel | None = None) -> tuple[CallModel, list]:
    model = model or CallModel()
    call_events = []
    for e in events_of(stream):
        call_events += model.apply(e)
    return model, call_events


def test_given_a_newchannel_frame_when_translated_then_fields_and_timestamp_are_typed() -> None:
    (e,) = events_of(frame("Newchannel", CallerIDNum="13800138000", CallerIDName="王芳", Context="from-pstn",
                           Exten="12345", ChannelStateDesc="Ring", **leg("lab-1.1", ts=1700000000.25)))
    assert e == ev.ChannelCreated(1700000000.25, "lab-1.1", "lab-1.1", "PJSIP/trunk-0001", "13800138000", "王芳",
                                  "from-pstn", "12345", "Ring")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Response": "Success", "Reason": "4", "Uniqueid": "lab-2.5"}, (4, "lab-2.5")),
        ({"Response": "Failure", "Reason": "5", "Uniqueid": "<null>"}, (5, None)),
        ({"Response": "Failure", "Reason": "0", "Uniqueid": ""}, (0, None)),
        ({"Response": "Failure", "Reason": "junk", "Uniqueid": "<null>"}, (-1, None)),
    ],
)
def test_given_originate_responses_when_translated_then_null_uniqueid_is_none(headers, expected) -> None:
    (e,) = events_of(frame("OriginateResponse", ActionID="a.1.Originate", Channel="Local/1001@x", **headers))
    assert isinstance(e, ev.OriginateResponded)
    assert (e.reason, e.uniqueid) == expected


def test_given_async_agi_frames_when_translated_then_env_and_result_are_url_decoded() -> None:
    env = "agi_request%3A%20async%0Aagi_channel%3A%20PJSIP%2Ftrunk-0001%0Aagi_callerid%3A%2013800138000%0A%0A"
    start, exe = events_of(
        frame("AsyncAGIStart", Env=env, **leg("u.1"))
        + frame("AsyncAGIExec", CommandID="c-7", Result="200%20result%3D49%0A", **leg("u.1"))
    )
    assert isinstance(start, ev.AsyncAgiStarted) and start.env["agi_callerid"] == "13800138000"
    assert isinstance(exe, ev.AsyncAgiExecuted) and (exe.command_id, exe.result) == ("c-7", "200 result=49")
    assert parse_agi_env("") == {}


@pytest.mark.parametrize(("text", "seconds"), [("00:01:05", 65.0), ("1:00:00", 3600.0), ("42", 42.0), ("", 0.0)])
def test_durations_of_coreshowchannel_parse_to_seconds(text: str, seconds: float) -> None:
    assert duration_s(text) == seconds


def test_given_malformed_values_when_translated_then_defaults_not_exceptions() -> None:
    (e,) = events_of(frame("Hangup", Cause="abc", **leg("u.1")))
    assert isinstance(e, ev.ChannelHungUp) and e.cause == 0


def test_given_an_unknown_event_when_translated_then_none() -> None:
    assert events_of(frame("SomethingNew", Foo="bar")) == []


def two_leg_call() -> bytes:
    return (
        frame("Newchannel", CallerIDNum="13800138000", ChannelStateDesc="Ring", **leg("c.1", ts=100))
        + frame("Newchannel", CallerIDNum="1001", ChannelStateDesc="Down",
                **leg("a.2", "c.1", "PJSIP/1001-0002", ts=101))
        + frame("DialBegin", DestUniqueid="a.2", DestChannel="PJSIP/1001-0002", DialString="1001", **leg("c.1", ts=101))
        + frame("Newstate", ChannelStateDesc="Up", **leg("a.2", "c.1", "PJSIP/1001-0002", ts=105))
        + frame("DialEnd", DestUniqueid="a.2", DialStatus="ANSWER", **leg("c.1", ts=105))
        + frame("BridgeEnter", BridgeUniqueid="b-1", BridgeType="basic", BridgeNumChannels="1", **leg("c.1", ts=105))
        + frame("Hangup", Cause="16", **{"Cause-txt": "Normal Clearing"}, **leg("a.2", "c.1", "PJSIP/1001-0002",
                                                                              ts=160))
        + frame("Hangup", Cause="16", **{"Cause-txt": "Normal Clearing"}, **leg("c.1", ts=160.5))
    )


def test_given_a_caller_and_an_agent_leg_when_applied_then_one_call_with_two_legs() -> None:
    model, out = run(two_leg_call())
    (call,) = model.calls.values()
    assert call.linkedid == "c.1" and set(call.legs) == {"c.1", "a.2"}
    assert call.legs["a.2"].answered_at == 105
    assert [type(e).__name__ for e in out] == ["CallStarted", "LegAdded", "LegAdded", "LegEnded", "LegEnded",
                                               "CallEnded"]
    end = out[-1]
    assert isinstance(end, CallEnded) and end.reason == "hangup" and end.duration_s == pytest.approx(60.5)
    assert call.legs["c.1"].cause == 16 and call.legs["c.1"].cause_text == "Normal Clearing"


def test_given_repeated_frames_when_applied_then_no_duplicate_call_events() -> None:
    stream = two_leg_call()
    _, once = run(stream)
    model, twice = run(stream + stream)
    assert len(twice) == len(once)
    assert len(model.calls) == 1


def test_given_a_rename_when_applied_then_the_leg_keeps_its_key_and_takes_the_new_name() -> None:
    model, _ = run(frame("Newchannel", **leg("c.1")) + frame("Rename", Newname="PJSIP/trunk-0001<MASQ>",
                                                               **leg("c.1")))
    assert model.legs["c.1"].channel == "PJSIP/trunk-0001<MASQ>"


def test_given_a_local_channel_pair_when_bridged_then_halves_point_at_each_other() -> None:
    model, out = run(
        frame("Newchannel", **leg("l.1", chan="Local/1001@hotline-agent-0001;1"))
        + frame("Newchannel", **leg("l.2", "l.1", chan="Local/1001@hotline-agent-0001;2"))
        + frame("LocalBridge", LocalOneUniqueid="l.1", LocalTwoUniqueid="l.2", LocalOneLinkedid="l.1",
                LocalTwoLinkedid="l.1", Context="hotline-agent", Exten="1001", Timestamp="100.0")
    )
    assert model.legs["l.1"].local_peer == "l.2" and model.legs["l.2"].local_peer == "l.1"
    assert model.legs["l.1"].is_local
    assert sum(isinstance(e, CallStarted) for e in out) == 1


def test_given_a_resync_when_a_leg_is_missing_then_its_call_is_closed_as_lost() -> None:
    model, _ = run(frame("Newchannel", **leg("gone.1")) + frame("Newchannel", **leg("live.1", ts=101)))
    resync = (
        b"Response: Success\r\nActionID: hl1.5.CoreShowChannels\r\nEventList: start\r\n"
        b"Message: Channels will follow\r\n\r\n"
        + frame("CoreShowChannel", ActionID="hl1.5.CoreShowChannels", ChannelStateDesc="Up", Duration="00:00:30",
                **leg("live.1", ts=200))
        + frame("CoreShowChannel", ActionID="hl1.5.CoreShowChannels", ChannelStateDesc="Up", Duration="00:00:10",
                **leg("new.1", ts=200))
        + frame("CoreShowChannelsComplete", ActionID="hl1.5.CoreShowChannels", EventList="Complete",
                ListItems="2", Timestamp="200.0")
    )
    model, out = run(resync, model)
    lost = [e for e in out if isinstance(e, CallEnded)]
    assert [(e.linkedid, e.reason) for e in lost] == [("gone.1", "lost")]
    assert model.legs["gone.1"].cause == CAUSE_LOST
    assert model.legs["new.1"].created_at == pytest.approx(190.0)
    assert {c.linkedid for c in model.active_calls()} == {"live.1", "new.1"}


def test_given_a_leg_created_during_the_resync_when_completed_then_it_is_not_closed() -> None:
    stream = (
        b"Response: Success\r\nActionID: hl1.9.CoreShowChannels\r\nEventList: start\r\n\r\n"
        + frame("Newchannel", **leg("born.1", ts=300))
        + frame("CoreShowChannelsComplete", ActionID="hl1.9.CoreShowChannels", EventList="Complete",
                ListItems="0", Timestamp="300.1")
    )
    model, out = run(stream)
    assert not any(isinstance(e, LegEnded) for e in out)
    assert model.legs["born.1"].ended_at is None


def test_given_ended_calls_when_forgotten_then_only_old_ones_go() -> None:
    model, _ = run(two_leg_call() + frame("Newchannel", **leg("z.1", ts=500)))
    assert model.forget_ended(before=161) == 1
    assert list(model.calls) == ["z.1"] and "a.2" not in model.legs


def test_given_an_originated_agent_leg_bridged_to_the_caller_when_relinked_then_one_call() -> None:
    stream = (
        frame("Newchannel", CallerIDNum="13712345678", **leg("c.37", ts=100))
        + frame("Newchannel", CallerIDNum="13712345678", **leg("a.38", chan="PJSIP/1299-0026", ts=101))
        + frame("BridgeEnter", BridgeUniqueid="b", BridgeNumChannels="1", **leg("c.37", ts=102))
        + frame("BridgeEnter", BridgeUniqueid="b", BridgeNumChannels="2",
                **leg("a.38", "c.37", "PJSIP/1299-0026", ts=102))
        + frame("Hangup", Cause="16", **leg("a.38", "c.37", "PJSIP/1299-0026", ts=130))
        + frame("Hangup", Cause="16", **leg("c.37", ts=130.5))
    )
    model, out = run(stream)
    assert list(model.calls) == ["c.37"]
    assert set(model.calls["c.37"].legs) == {"c.37", "a.38"}
    merged = [e for e in out if isinstance(e, CallMerged)]
    assert [(m.from_linkedid, m.into_linkedid, m.emptied) for m in merged] == [("a.38", "c.37", True)]
    ended = [e for e in out if isinstance(e, CallEnded)]
    assert [(e.linkedid, e.reason) for e in ended] == [("c.37", "hangup")]
    assert model.calls["c.37"].legs["a.38"].linkedid == "c.37"
