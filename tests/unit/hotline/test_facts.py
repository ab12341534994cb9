"""Call facts for work orders and QA: derived from the hand-over and the call model."""

from __future__ import annotations

import pytest

from hotline.facts import agent_of, call_type_of, qa_record
from queues.handover import QueueRequest
from telephony.calls import Call, Leg


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (("language", "main", "consultation", "consult_commerce"), "consultation"),
        (("language", "main", "request", "request_transport"), "request"),
        (("language", "main", "complaint"), "complaint"),
        (("language", "main", "suggestion"), "suggestion"),
        (("language", "main", "operator"), "consultation"),
        ((), "consultation"),
    ],
)
def test_call_type_follows_the_last_typed_ivr_node(path, kind) -> None:
    assert call_type_of(path) == kind


def call_with_agent() -> Call:
    call = Call("c.1", 100.0, ended_at=190.0)
    call.legs["c.1"] = Leg("c.1", "c.1", "PJSIP/trunk-0001", 100.0, caller_num="13800138000", answered_at=100.0)
    call.legs["a.2"] = Leg("a.2", "c.1", "PJSIP/1042-0002", 130.0, answered_at=131.5)
    call.legs["x.3"] = Leg("x.3", "c.1", "PJSIP/1043-0003", 125.0)  # rang, never answered
    return call


def test_the_agent_is_the_seat_whose_leg_answered() -> None:
    assert agent_of(call_with_agent()) == ("1042", 131.5)
    assert agent_of(Call("c.9", 1.0)) == (None, None)


def test_qa_record_takes_queue_path_and_wait_from_the_hand_over() -> None:
    req = QueueRequest("c.1", "c.1", "PJSIP/trunk-0001", "13800138000", "housing_fund",
                       skills=("housing_fund", "consultation"), ivr_path=("language", "main", "consult_housing_fund"),
                       at=110.0)
    rec = qa_record(call_with_agent(), req)
    assert rec["agent"] == "1042" and rec["queue"] == "housing_fund" and rec["skill"] == "housing_fund"
    assert rec["call_type"] == "consultation" and rec["wait_s"] == pytest.approx(21.5)
    assert rec["duration_s"] == pytest.approx(90.0) and rec["caller"] == "13800138000"


def test_qa_record_without_a_hand_over_still_names_the_agent() -> None:
    rec = qa_record(call_with_agent(), None)
    assert rec["agent"] == "1042" and rec["queue"] is None and rec["wait_s"] == 0.0
    assert rec["caller"] == "13800138000"
