"""The dispatch adapter's pure rules: hand-over, Originate headers, outcomes, codecs, agents file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.kernel.errors import ConfigError
from hotline.queues.codec import CodecError, decode_event, encode_event, snapshot_from_json, snapshot_to_json
from hotline.queues.config import EXAMPLE_AGENTS, load_agents_file
from hotline.queues.dispatch_rules import (
    ANSWERED,
    CallerLeg,
    call_queued,
    caller_left,
    originate_fields,
    originate_outcome,
)
from hotline.queues.events import (
    AgentLoggedIn,
    AgentPaused,
    AgentReady,
    AgentSkillsChanged,
    AgentStateChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallQueued,
    OfferFailed,
)
from hotline.queues.handover import QueueRequest
from hotline.queues.model import Agent, AgentStatus
from hotline.queues.routing import OfferCall, RoutingState, handle


@pytest.mark.parametrize(("reason", "outcome"), [
    (4, ANSWERED), (3, "no_answer"), (5, "busy"), (1, "rejected"), (0, "unreachable"), (8, "unreachable"),
    (99, "unreachable"),
])
def test_given_an_originate_response_reason_when_translated_then_the_offer_outcome(reason: int, outcome: str) -> None:
    assert originate_outcome(reason) == outcome


def test_given_an_ivr_hand_over_when_translated_then_call_queued_keeps_skills_language_and_priority() -> None:
    req = QueueRequest(linkedid="L1", uniqueid="U1", channel="PJSIP/trunk-1", caller_num="13800138000",
                       queue="complaints", skills=("complaints", "commerce"), language="yue", priority=2,
                       follow_up=True, at=1000.0)
    assert call_queued(req, now=2000.0) == CallQueued("L1", "U1", "complaints", 1000.0,
                                                      frozenset({"complaints", "commerce"}), "yue", 2, True)


def test_given_a_hand_over_without_time_when_translated_then_now_is_used() -> None:
    req = QueueRequest(linkedid="L1", uniqueid="U1", channel="c", caller_num="1", queue="q")
    assert call_queued(req, now=5.0).at == 5.0


def test_given_an_offer_when_originated_then_agent_is_rung_and_bridged_to_the_caller_by_uniqueid() -> None:
    offer = OfferCall("L1", "U1", "1001", "commerce", ring_timeout_s=12.5)
    fields = originate_fields(offer, CallerLeg("L1", "U1", "PJSIP/trunk-7", "13800138000"), "hlq-abc")
    assert fields["Channel"] == "PJSIP/1001"
    assert (fields["Application"], fields["Data"]) == ("Bridge", "U1,x")  # never the channel name
    assert fields["Timeout"] == 12500 and fields["Async"] is True
    assert fields["ChannelId"] == "hlq-abc"
    assert fields["CallerID"] == '"13800138000" <13800138000>'
    assert fields["Variable"] == {"HOTLINE_LINKEDID": "L1", "HOTLINE_QUEUE": "commerce", "HOTLINE_AGENT": "1001"}


def test_given_another_endpoint_pattern_when_originated_then_it_is_used() -> None:
    offer = OfferCall("L1", "U1", "7", "q", 1.0)
    fields = originate_fields(offer, CallerLeg("L1", "U1"), "x", endpoint="Local/{agent}@agents", bridge_options="")
    assert fields["Channel"] == "Local/7@agents" and fields["Data"] == "U1" and fields["CallerID"] == "hotline"


@pytest.mark.parametrize(("connected", "expected"),
                         [(False, CallAbandoned("L", 3.0)), (True, AnsweredCallEnded("L", 3.0))])
def test_given_the_caller_leg_hung_up_then_abandoned_before_answer_and_ended_after(connected: bool,
                                                                                  expected: object) -> None:
    assert caller_left(connected, "L", 3.0) == expected


@pytest.mark.parametrize("event", [
    CallQueued("L", "U", "q", 1.5, frozenset({"b", "a"}), "zh", 1, True),
    OfferFailed("L", "1001", 2.0, "no_answer"),
    AgentPaused("1001", "lunch", 3.0),
    AgentStateChanged("1001", AgentStatus.NOT_READY, 4.0, "missed", "L", "q"),
    AgentSkillsChanged(Agent("1001", {"commerce": 4}, frozenset({"zh"}), frozenset({"all"})), 5.0),
    AnsweredCallEnded("L", 6.0, hold_s=2.5),
])
def test_given_a_routing_event_when_encoded_and_decoded_then_it_is_equal(event: object) -> None:
    assert decode_event(encode_event(event)) == event


def test_given_an_unknown_record_when_decoded_then_a_codec_error() -> None:
    with pytest.raises(CodecError):
        decode_event({"type": "Nope"})
    with pytest.raises(CodecError):
        encode_event(object())


def test_given_a_state_with_waiting_and_ringing_calls_when_snapshotted_to_json_then_restored_equal() -> None:
    queues, agents = load_agents_file(EXAMPLE_AGENTS)
    state = RoutingState.create(queues, agents)
    handle(state, AgentLoggedIn("1001", 1.0), 1.0)
    handle(state, AgentReady("1001", 2.0), 2.0)
    handle(state, CallQueued("L1", "U1", "commerce", 3.0), 3.0)  # rings 1001
    handle(state, CallQueued("L2", "U2", "housing_fund", 4.0, language="zh"), 4.0)  # waits
    snap = state.snapshot()
    text = snapshot_to_json(snap, {"calls": {"L1": {"linkedid": "L1", "uniqueid": "U1"}}})
    back, extra = snapshot_from_json(text)
    assert back == snap
    assert extra["calls"]["L1"]["uniqueid"] == "U1"
    restored = RoutingState.restore(queues, agents, back)
    assert restored.tracked_calls() == {"L1": "1001", "L2": None}


def test_given_the_example_agents_file_when_loaded_then_300_seats_over_seven_lines() -> None:
    queues, agents = load_agents_file(EXAMPLE_AGENTS)
    assert {q.name for q in queues} == {"commerce", "labour_social", "housing_fund", "environment", "transport",
                                        "general", "complaints"}
    assert sorted(int(a.id) for a in agents) == list(range(1001, 1301))
    assert {lang for a in agents for lang in a.languages} == {"zh", "yue", "en"}


def test_given_a_bad_agents_file_when_loaded_then_every_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "agents.yaml"
    bad.write_text("""
queues:
  - {name: a, skills: [x], overflow_queue: nowhere, overflow_after_s: 10}
  - {name: b, skills: [y], ring_timeout_s: 0}
agents:
  - {id: '1', skills: {x: 7}}
  - {seats: 10-11, skills: {x: 2}}
  - {id: '10', skills: {x: 2}}
""")
    with pytest.raises(ConfigError) as info:
        load_agents_file(bad)
    text = str(info.value)
    assert "queues.1.ring_timeout_s" in text and "agents.0.skills" in text
    bad.write_text("""
queues:
  - {name: a, skills: [x, z], overflow_queue: nowhere, overflow_after_s: 10}
agents:
  - {seats: 10-11, skills: {x: 2}}
  - {id: '10', skills: {x: 2}}
""")
    with pytest.raises(ConfigError) as info:
        load_agents_file(bad)
    problems = info.value.problems
    assert any("overflow_queue: 'nowhere'" in p for p in problems)
    assert any("agent 10 defined twice" in p for p in problems)
    assert any("no agent holds skill 'z'" in p for p in problems)


def test_given_agents_with_proficiency_when_baseline_members_then_penalty_is_five_minus_level() -> None:
    from hotline.queues.baseline import Member, baseline_members
    from hotline.queues.model import QueueConfig

    queues = [QueueConfig("commerce", frozenset({"commerce"})), QueueConfig("complaints", frozenset({"complaints"}))]
    agents = [Agent("1001", {"commerce": 5}), Agent("1002", {"commerce": 2, "complaints": 5}), Agent("1003", {})]
    assert baseline_members(queues, agents) == [
        Member("commerce", "PJSIP/1001", 0, "1001"),
        Member("commerce", "PJSIP/1002", 3, "1002"),
    ]  # complaints has no app_queue counterpart


def test_given_a_routing_log_written_before_the_rename_then_its_call_ends_still_decode() -> None:
    old = {"type": "CallEnded", "linkedid": "L", "at": 6.0, "hold_s": 2.5}
    assert decode_event(old) == AnsweredCallEnded("L", 6.0, hold_s=2.5)
    assert encode_event(AnsweredCallEnded("L", 6.0))["type"] == "AnsweredCallEnded"
