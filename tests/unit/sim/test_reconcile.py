"""One outcome per call from the simulator + IVR records; routing's counters read in one place; mismatches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from hotline.queues.metrics import Counters
from hotline_lab.demo import DemoSummary, demo_budget_s
from hotline_lab.sim.plan import DtmfRoute, PlannedCall
from hotline_lab.sim.reconcile import Outcomes, classify, from_routing, mismatches, split_left_queue, tally


@dataclass
class Sim:
    started_at: float = 1.0
    uniqueid: str = "u1"
    linkedid: str = "l1"
    bridged_at: float | None = None
    abandoned_by_sim: bool = False
    exit_code: int | None = 0


@dataclass
class Rec:
    outcome: str
    node: str
    path: tuple[str, ...] = ()
    reason: str = ""
    uniqueid: str = "u1"
    linkedid: str = "l1"


@pytest.mark.parametrize(("sim", "rec", "outcome", "detail", "reached"), [
    (Sim(bridged_at=5.0), Rec("queued", "consult_commerce", ("language", "main", "consult_commerce")),
     "answered", "", "consult_commerce"),
    (Sim(abandoned_by_sim=True), Rec("queued", "operator", ("language", "main", "operator")),
     "abandoned_queue", "", "operator"),
    (Sim(), Rec("caller_hung_up", "main", ("language", "main")), "abandoned_ivr", "main", ""),
    (Sim(), Rec("hung_up", "goodbye", ("main", "wo_number", "wo_lookup", "after_status", "goodbye")),
     "self_served", "goodbye", ""),
    (Sim(), Rec("hung_up", "goodbye", ("language", "closed", "goodbye"), "hangup_node"), "self_served", "goodbye",
     ""),
    (Sim(), Rec("hung_up", "main", ("language", "main"), "retries_exhausted"), "failed",
     "IVR hung_up: retries_exhausted at main", ""),
    (Sim(), Rec("handover_failed", "operator", ("operator",), "RoutingUnavailable"), "failed",
     "IVR handover_failed: RoutingUnavailable at operator", ""),
    (Sim(uniqueid="", exit_code=1), None, "failed", "never reached the service (SIPp exit 1)", ""),
    (Sim(), None, "failed", "reached Asterisk, no IVR session", ""),
])
def test_given_sim_view_and_ivr_record_when_classified_then_one_outcome(sim, rec, outcome, detail, reached) -> None:
    r = classify(sim, rec, "consult_commerce", {"wo_lookup"})
    assert (r.outcome, r.detail, r.reached) == (outcome, detail, reached)


def test_given_results_when_tallied_then_outcomes_sum_to_placed() -> None:
    results = [classify(Sim(bridged_at=1.0), Rec("queued", "a", ("a",)), "a"),
               classify(Sim(), Rec("queued", "b", ("b",)), "a"),
               classify(Sim(), Rec("caller_hung_up", "main"), "a"),
               classify(Sim(), Rec("caller_hung_up", "main"), "a"),
               classify(Sim(uniqueid=""), None, "a")]
    o = tally(results, placed=5)
    assert (o.answered, o.abandoned_queue, o.abandoned_ivr, o.failed, o.offered_queue, o.reached_ivr) == (
        1, 1, 2, 1, 2, 4)
    assert o.abandoned_ivr_by_node == {"main": 2} and o.ended() == o.placed


def test_given_routing_voicemail_when_split_then_moved_out_of_abandoned_queue() -> None:
    o = Outcomes(placed=4, answered=1, abandoned_queue=3)
    s = split_left_queue(o, Outcomes(voicemail=1, callbacks=1))
    assert (s.abandoned_queue, s.voicemail, s.callbacks, s.ended()) == (1, 1, 1, 4)


DAY = dt.date(2026, 12, 7)
BY_QUEUE = {(DAY, "commerce"): Counters(offered=3, answered=2, abandoned=1, voicemails=0),
            (DAY, "general"): Counters(offered=1, answered=0, abandoned=0, callbacks=1)}


def test_given_a_report_without_hotline_counters_when_mapped_then_queue_totals_and_none() -> None:
    hotline, queues = from_routing({"by_queue": BY_QUEUE})
    assert hotline is None
    assert (queues.offered_queue, queues.answered, queues.abandoned_queue, queues.callbacks) == (4, 2, 1, 1)


@pytest.mark.parametrize("calls", [None, {}, "garbage", {DAY: 42}])
def test_given_a_missing_or_odd_calls_entry_when_mapped_then_none(calls) -> None:
    assert from_routing({"by_queue": {}, "calls": calls})[0] is None


def test_given_the_contract_shape_when_mapped_then_summed_over_days() -> None:
    @dataclass
    class CallOutcomes:  # the draft contract's field names
        reached_ivr: int = 5
        in_ivr: int = 0
        abandoned_ivr: int = 1
        abandoned_ivr_by_node: dict | None = None
        self_served: int = 0
        failed: int = 0
        failed_by_reason: dict | None = None
        offered_queue: int = 4
        answered: int = 2
        abandoned_queue: int = 1
        abandoned_queue_short: int = 0
        callbacks: int = 1
        transferred: int = 0
        voicemail: int = 0
        waiting: int = 0
        direct: int = 1

    hotline, _ = from_routing({"by_queue": BY_QUEUE, "calls": {DAY: CallOutcomes(abandoned_ivr_by_node={"main": 1})}})
    assert hotline is not None
    assert (hotline.reached_ivr, hotline.abandoned_ivr, hotline.answered, hotline.callbacks) == (5, 1, 2, 1)
    assert hotline.offered_queue == 3  # offers through the IVR only (4 - 1 direct)
    assert hotline.abandoned_ivr_by_node == {"main": 1}


def _ok(**kw):
    base = dict(recordings=2, transcripts=2, work_orders=2, work_orders_with_transcript=2, expected_work_orders=2,
                errors_logged=0, sinks={"rt": {"delivered": 4, "pending": 0, "dead": 0}})
    return {**base, **kw}


def test_given_numbers_that_agree_when_checked_then_no_mismatch() -> None:
    calls = Outcomes(placed=5, reached_ivr=5, offered_queue=4, answered=2, abandoned_queue=1, callbacks=1,
                     abandoned_ivr=1)
    queues = Outcomes(offered_queue=4, answered=2, abandoned_queue=1, callbacks=1)
    assert mismatches(calls, queues, None, **_ok()) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"recordings": 1, "transcripts": 1}, "recordings = answered"),
    ({"transcripts": 1}, "transcripts = recordings"),
    ({"work_orders": 1}, "work orders = calls"),
    ({"errors_logged": 3}, "errors logged"),
    ({"sinks": {"rt": {"delivered": 4, "pending": 2, "dead": 0}}}, "rt pending"),
    ({"waits_missed": ["transcripts: 1 of 2"]}, "wait ran out"),
])
def test_given_one_number_off_when_checked_then_named(change, words) -> None:
    calls = Outcomes(placed=2, reached_ivr=2, offered_queue=2, answered=2)
    queues = Outcomes(offered_queue=2, answered=2)
    got = mismatches(calls, queues, None, **_ok(**change))
    assert len(got) == 1 and words in got[0]


def test_given_an_unaccounted_call_and_disagreeing_sources_when_checked_then_each_named() -> None:
    calls = Outcomes(placed=3, reached_ivr=2, offered_queue=2, answered=2)
    hotline = Outcomes(reached_ivr=2, offered_queue=2, answered=1, abandoned_queue=1)
    got = mismatches(calls, Outcomes(offered_queue=2, answered=2), hotline, **_ok())
    assert any("placed = sum of outcomes: 3 != 2" in m for m in got)
    assert any("answered (per call) = answered (hotline counters)" in m for m in got)


def test_given_a_summary_when_as_json_then_documented_keys_and_reconciled_flag() -> None:
    s = DemoSummary(calls=Outcomes(placed=1, reached_ivr=1, offered_queue=1, answered=1),
                    queues=Outcomes(offered_queue=1, answered=1), recordings=1, transcripts=1, work_orders=1,
                    work_orders_with_transcript=1, expected_work_orders=1, sinks={"rt": {"delivered": 3, "pending": 0}})
    j = s.as_json()
    for key in ("placed", "reached_ivr", "abandoned_ivr", "abandoned_ivr_by_node", "self_served", "offered_queue",
                "answered", "abandoned_queue", "callbacks", "failed", "recordings", "transcripts_done", "work_orders",
                "work_orders_with_transcript", "errors_logged", "sinks", "sim", "reconciled"):
        assert key in j
    assert j["reconciled"] is True and s.lines()[-1] == "reconciled: yes"
    s.errors_logged = 1
    assert s.as_json()["reconciled"] is False and s.lines()[-1].startswith("reconciled: no: errors logged")


def test_given_a_plan_when_budgeted_then_it_grows_with_the_calls_and_shrinks_with_processes() -> None:
    route = DtmfRoute("consult_commerce", "commerce", ("commerce",), "111")
    plan = [PlannedCall(i, 2.0 * i, str(i), route, 30.0, 20.0) for i in range(50)]
    one = demo_budget_s(plan, [60.0] * 50, processes=1)
    assert one > 98 + 60 + 30 + 60  # the last arrival, its IVR, patience and talk
    assert demo_budget_s(plan, [60.0] * 50, processes=2) < one
    assert demo_budget_s(plan[:10], [60.0] * 10) < one



def test_given_misses_when_filled_then_those_whose_keys_never_reached_the_ivr_are_told_apart() -> None:
    from pathlib import Path
    from types import SimpleNamespace

    from hotline.ivr.menus import load_menu
    from hotline_lab.demo import fill_outcomes
    from hotline_lab.sim.runner import CallOutcome, SimReport

    menu = load_menu(Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples" / "12345.yaml")

    commerce = DtmfRoute("consult_commerce", "commerce", ("commerce",), "111")
    transport = DtmfRoute("consult_transport", "transport", ("transport",), "115")
    calls = [CallOutcome(PlannedCall(i, 1.0, f"1372844005{i}", r, 30.0, 20.0), started_at=1.0, uniqueid=f"u{i}",
                         bridged_at=2.0 if i == 0 else None) for i, r in enumerate((commerce, commerce, transport))]
    records = {  # demo-run-0307: 52 stopped at consultation with 2 keys of 3, 48 said goodbye with 2 of 3
        "u0": SimpleNamespace(outcome="queued", node="consult_commerce", path=("main", "consult_commerce"),
                              reason="option", keys_received=3),
        "u1": SimpleNamespace(outcome="caller_hung_up", node="consultation", path=("main", "consultation"),
                              reason="", keys_received=2),
        "u2": SimpleNamespace(outcome="hung_up", node="goodbye", path=("main", "wo_number", "goodbye"),
                              reason="hangup_node", keys_received=2),
    }
    s = DemoSummary()
    fill_outcomes(s, SimReport(placed=3, outcomes=calls), records, menu)

    assert (s.reached_aimed_queue, s.pressed_valid_keys) == (1, 3)
    assert s.missed_aim_by_node == {"consultation": 1, "goodbye": 1} and s.missed_aim_keys_lost == 2
    assert "1 of 3 (stopped elsewhere: consultation 1, goodbye 1; 2 of them lost a key before the IVR" in "\n".join(
        s.lines())
    assert s.as_json()["missed_aim_keys_lost"] == 2
