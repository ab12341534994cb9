"""Call facts for work orders and QA: derived from the hand-over and the call model."""

from __future__ import annotations

import pytest

from hotline.app.facts import agent_of, call_type_of, qa_record
from hotline.queues.handover import QueueRequest
from hotline.telephony.calls import Call, Leg


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


# --- the IVR path of every call (helper "outcomes", issue #19) ---------------------------------


class _Tracker:
    def __init__(self) -> None:
        self.model = type("M", (), {"calls": {}})()
        self.subscribers: list = []

    def subscribe(self, fn) -> None:  # type: ignore[no-untyped-def]
        self.subscribers.append(fn)


class _QaStore:
    def __init__(self) -> None:
        self.rows: list = []

    async def upsert_facts(self, rows, now):  # type: ignore[no-untyped-def]
        self.rows += rows
        return len(rows)


def _session(lid: str, path: tuple[str, ...], outcome: str = "caller_hung_up"):  # type: ignore[no-untyped-def]
    from hotline.ivr.agi import SessionRecord

    return SessionRecord(uniqueid=lid, linkedid=lid, caller_num="13800138000", menu_id="m", path=path,
                         node=path[-1], outcome=outcome, reason=outcome, language="zh", commands=3,
                         started_at=100.0, ended_at=110.0)


async def test_given_a_caller_who_hangs_up_in_the_ivr_then_qa_facts_keep_the_ivr_path() -> None:
    import asyncio

    from hotline.app.facts import CallFactsBook
    from hotline.ivr.agi import SessionStarted
    from hotline.telephony.calls import CallEnded

    tracker, store = _Tracker(), _QaStore()
    book = CallFactsBook(tracker, qa_store=store, ivr_wait_s=5.0)  # type: ignore[arg-type]
    book.ivr_session(SessionStarted("c.7", "c.7", 100.0))
    call = Call("c.7", 100.0, ended_at=110.0)
    call.legs["c.7"] = Leg("c.7", "c.7", "PJSIP/trunk-0007", 100.0, caller_num="13800138000", answered_at=100.0)
    tracker.model.calls["c.7"] = call
    # the tracker sees the hangup before the IVR session has written its record
    tracker.subscribers[0](CallEnded(110.0, "c.7", "hangup", 10.0))
    await asyncio.sleep(0)
    assert store.rows == []
    book.ivr_session(_session("c.7", ("language", "main")))
    await asyncio.wait_for(book.stop(), 5)
    assert [r.ivr_path for r in store.rows] == [("language", "main")]
    assert book.ivr_path("c.7") == ("language", "main")


def test_qa_record_takes_the_ivr_session_path_when_there_was_no_hand_over() -> None:
    assert qa_record(call_with_agent(), None, ("language", "main"))["ivr_path"] == ("language", "main")
