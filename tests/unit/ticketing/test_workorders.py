"""Work orders from ended calls, transcripts and SLA card changes (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.telephony import events as ev
from hotline.telephony.calls import CallEnded, CallModel
from hotline.ticketing.connector import WORK_ORDER_CREATED
from hotline.ticketing.sla import SHANGHAI, SlaPolicy
from hotline.ticketing.workorders import (
    CallFacts,
    EndedCall,
    WorkOrderRecord,
    card_changes,
    card_event,
    ended_call,
    record_of,
    seat_of,
    transcript_action,
    transcript_event,
    work_order_created,
)

T0 = dt.datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI).timestamp()  # Tue before Golden Week
LID = "1759197600.42"


def run_call(agent_answers: bool, seat: str = "1281") -> CallModel:
    """Citizen on the trunk, an agent seat rung (answering or not), both hang up."""
    model = CallModel()
    model.apply(ev.ChannelCreated(T0, LID, LID, "PJSIP/trunk-00000001", caller_num="13800138000", state="Ring"))
    model.apply(ev.ChannelStateChanged(T0 + 1, LID, LID, "PJSIP/trunk-00000001", state="Up"))
    agent_uid = "1759197601.43"
    model.apply(ev.ChannelCreated(T0 + 2, agent_uid, LID, f"PJSIP/{seat}-00000002", state="Down"))
    if agent_answers:
        model.apply(ev.ChannelStateChanged(T0 + 5, agent_uid, LID, f"PJSIP/{seat}-00000002", state="Up"))
    model.apply(ev.ChannelHungUp(T0 + 95, agent_uid, LID, f"PJSIP/{seat}-00000002", cause=16))
    out = model.apply(ev.ChannelHungUp(T0 + 95.5, LID, LID, "PJSIP/trunk-00000001", cause=16))
    assert isinstance(out[-1], CallEnded)
    return model


@pytest.mark.parametrize(
    ("channel", "seat"),
    [("PJSIP/1281-0000002a", "1281"), ("PJSIP/1300-00000001", "1300"), ("PJSIP/trunk-00000001", None),
     ("PJSIP/1000-00000001", None), ("Local/1281@agents-00000001;1", None), ("PJSIP/1281", None)],
)
def test_seat_of_channel(channel: str, seat: str | None) -> None:
    assert seat_of(channel, 1001, 1300) == seat


def test_given_call_answered_by_agent_when_it_ends_then_consultation_due_in_24h() -> None:
    call = ended_call(run_call(agent_answers=True).calls[LID])
    assert call == EndedCall(LID, "13800138000", T0, T0 + 95.5, ("1281",))

    event = work_order_created(call)

    assert event is not None and event.kind == WORK_ORDER_CREATED
    assert event.event_id == f"work_order.created:{LID}" and event.linkedid == LID
    p = event.payload
    assert p["call_type"] == "consultation" and p["queue"] == "general" and p["agent_id"] == "1281"
    assert p["caller_number"] == "13800138000" and p["district"] is None and p["recording_url"] is None
    received = dt.datetime.fromisoformat(p["received"])
    assert received == dt.datetime.fromtimestamp(T0 + 95.5, dt.UTC)
    assert dt.datetime.fromisoformat(p["due"]) - received == dt.timedelta(hours=24)
    assert p["due"].endswith("+08:00")


def test_given_request_across_golden_week_then_due_after_five_working_days() -> None:
    call = ended_call(run_call(agent_answers=True).calls[LID])
    facts = CallFacts(queue="environment", call_type="request", district="鼓楼区")

    event = work_order_created(call, facts, recording_url_template="https://rec.lab/{linkedid}.wav")

    assert event is not None
    assert dt.datetime.fromisoformat(event.payload["due"]) == dt.datetime(2025, 10, 14, 10, 1, 35, 500000,
                                                                          tzinfo=SHANGHAI)
    assert event.payload["queue"] == "environment" and event.payload["district"] == "鼓楼区"
    assert event.payload["recording_url"] == f"https://rec.lab/{LID}.wav"


def test_given_agent_never_answered_then_no_work_order() -> None:
    assert work_order_created(ended_call(run_call(agent_answers=False).calls[LID])) is None


def test_given_seat_outside_range_then_no_work_order() -> None:
    call = ended_call(run_call(agent_answers=True, seat="1000").calls[LID], 1001, 1300)
    assert work_order_created(call) is None


def test_given_facts_name_agent_then_work_order_even_without_seat_leg() -> None:
    call = ended_call(run_call(agent_answers=False).calls[LID])
    event = work_order_created(call, CallFacts(agent_id="A-7", caller_number="02000000000"))
    assert event is not None and event.payload["agent_id"] == "A-7"
    assert event.payload["caller_number"] == "02000000000"


def test_given_unknown_call_type_in_facts_then_value_error() -> None:
    call = ended_call(run_call(agent_answers=True).calls[LID])
    with pytest.raises(ValueError):
        work_order_created(call, CallFacts(call_type="gossip"))


def test_work_order_id_and_event_id_are_stable_for_a_repeat() -> None:
    call = ended_call(run_call(agent_answers=True).calls[LID])
    assert work_order_created(call) == work_order_created(call)


def test_transcript_event_id_follows_the_job_and_empty_text_is_marked() -> None:
    assert transcript_event(LID, "job-9", "x", 0.0).event_id == "work_order.transcript:job-9"
    assert "no speech" in transcript_event(LID, "job-9", "  ", 0.0, no_speech=True).payload["text"]


@pytest.mark.parametrize(
    ("status", "indexed", "age_s", "action"),
    [("done", True, 0, "emit"), ("done", False, 10, "wait"), ("done", False, 200, "skip"),
     ("failed", True, 0, "skip"), ("skipped", True, 0, "skip")],
)
def test_transcript_action(status: str, indexed: bool, age_s: float, action: str) -> None:
    assert transcript_action(status, indexed, age_s, grace_s=120) == action


def _record(card: str | None = None) -> WorkOrderRecord:
    event = work_order_created(ended_call(run_call(agent_answers=True).calls[LID]), CallFacts(call_type="request"))
    assert event is not None
    r = record_of(event)
    return WorkOrderRecord(r.work_order_id, r.queue, r.call_type, r.received, r.due, card)  # type: ignore[arg-type]


POLICY = SlaPolicy(yellow_ratio=0.2, yellow_within=dt.timedelta(hours=4))
DUE = dt.datetime(2025, 10, 14, 10, 1, 35, 500000, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("already", "now", "expected"),
    [
        (None, dt.datetime(2025, 10, 1, 9, tzinfo=SHANGHAI), None),
        (None, DUE - dt.timedelta(days=2), "yellow"),  # 20% of 14 days is 2.8 days
        ("yellow", DUE - dt.timedelta(days=1), None),  # already yellow: not raised again
        ("yellow", DUE, "red"),
        (None, DUE + dt.timedelta(hours=1), "red"),  # skipped yellow: straight to red
        ("red", DUE + dt.timedelta(days=3), None),
    ],
)
def test_given_work_order_when_swept_then_cards_only_go_up_once(
    already: str | None, now: dt.datetime, expected: str | None
) -> None:
    changes = card_changes([_record(already)], now, POLICY)
    assert [c.card for c in changes] == ([expected] if expected else [])


def test_card_event_says_how_overdue_and_carries_level_in_its_id() -> None:
    change = card_changes([_record()], DUE + dt.timedelta(hours=2), POLICY)[0]
    event = card_event(change, DUE + dt.timedelta(hours=2))
    assert event.event_id == f"work_order.card:{LID}:red"
    assert event.payload["overdue_s"] == 7200.0 and event.payload["card"] == "red"


def test_record_round_trips_json() -> None:
    record = _record("yellow")
    assert WorkOrderRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(("ended", "source"), [
    (dt.datetime(2026, 12, 28, 16, 0, tzinfo=SHANGHAI), "chinese-calendar+holidays-statutory"),  # due in 2027
    (dt.datetime(2031, 3, 7, 10, 0, tzinfo=SHANGHAI), "holidays-statutory"),  # a year no official source knows
])
def test_given_request_due_in_a_year_without_official_data_then_work_order_created_provisional(
    ended: dt.datetime, source: str
) -> None:
    end_s = ended.timestamp()
    call = EndedCall("1798440000.7", "13800138000", end_s - 60, end_s, ("1281",))

    event = work_order_created(call, CallFacts(call_type="request"))

    assert event is not None and event.kind == WORK_ORDER_CREATED
    assert event.payload["due_source"] == source and event.payload["due_provisional"] is True
    assert dt.datetime.fromisoformat(event.payload["due"]) > ended
    assert "暂定 provisional" in event.payload["description"]


def test_given_request_in_known_year_then_due_source_named_and_not_provisional() -> None:
    call = ended_call(run_call(agent_answers=True).calls[LID])
    event = work_order_created(call, CallFacts(call_type="request"))
    assert event is not None
    assert (event.payload["due_source"], event.payload["due_provisional"]) == ("chinese-calendar", False)
