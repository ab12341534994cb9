"""Scoring forms, calibration agreement and reviewer assignment (pure)."""

from __future__ import annotations

import pytest

from hotline.qa.agreement import calibration_report, fleiss_kappa
from hotline.qa.assign import assign, least_loaded
from hotline.qa.errors import InvalidAnswers
from hotline.qa.models import Reason, SampledCall
from hotline.qa.plans import Calibration
from hotline.qa.scoring import ScoringForm, compute_score

FORM = ScoringForm.model_validate({
    "title": "12345 call quality", "pass_score": 80,
    "criteria": [
        {"id": "greeting", "label": "规范问候语", "weight": 10},
        {"id": "accuracy", "label": "政策解答准确", "weight": 40},
        {"id": "work_order", "label": "工单记录完整", "weight": 30, "allow_na": True},
        {"id": "courtesy", "label": "服务态度", "weight": 20},
        {"id": "privacy", "label": "未泄露市民隐私", "weight": 0, "fatal": True},
    ],
})
ALL_YES = {"greeting": "yes", "accuracy": "yes", "work_order": "yes", "courtesy": "yes", "privacy": "yes"}


@pytest.mark.parametrize(("changes", "score", "passed"), [
    ({}, 100.0, True),
    ({"greeting": "no"}, 90.0, True),
    ({"accuracy": "no"}, 60.0, False),
    ({"work_order": "na"}, 100.0, True),
    ({"work_order": "na", "courtesy": "no"}, 71.4, False),   # 50 / 70
    ({"privacy": "no"}, 0.0, False),                         # fatal item failed -> 0
])
def test_weighted_score_with_fatal_items(changes: dict[str, str], score: float, passed: bool) -> None:
    r = compute_score(FORM, ALL_YES | changes)
    assert (r.score, r.passed) == (score, passed)
    assert r.fatal_failed == (("privacy",) if changes.get("privacy") == "no" else ())


def test_given_bad_answers_then_every_problem_is_listed() -> None:
    with pytest.raises(InvalidAnswers) as err:
        compute_score(FORM, {"greeting": "maybe", "accuracy": "na", "extra": "yes", "work_order": "yes"})
    assert err.value.problems == [
        "unknown criterion 'extra'", "greeting: answer must be yes, no or na, got 'maybe'",
        "accuracy: cannot be answered na", "courtesy: not answered", "privacy: not answered"]


def test_fleiss_kappa_matches_the_published_example() -> None:
    # Fleiss (1971) as reproduced on Wikipedia: 10 items, 14 raters, 5 categories -> 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)


@pytest.mark.parametrize(("table", "expected"), [
    ([[3, 0], [0, 3], [3, 0]], 1.0),      # perfect agreement over two categories
    ([[3, 0], [3, 0]], None),             # one category only: undefined
    ([[1, 0]], None),                     # one rating: nothing to compare
])
def test_fleiss_kappa_edges(table: list[list[int]], expected: float | None) -> None:
    assert fleiss_kappa(table) == expected


def test_calibration_report_gives_kappa_and_mean_absolute_score_difference() -> None:
    a = ALL_YES
    b = ALL_YES | {"greeting": "no"}
    c = ALL_YES | {"accuracy": "no"}
    answers = {"call1": {"r1": a, "r2": a, "r3": b}, "call2": {"r1": c, "r2": c, "r3": c}}
    scores = {k: {r: compute_score(FORM, x).score for r, x in v.items()} for k, v in answers.items()}
    rep = calibration_report(scores, answers)
    assert rep.calls == 2
    assert rep.per_call == {"call1": pytest.approx((0 + 10 + 10) / 3), "call2": 0.0}
    assert rep.mean_abs_diff == pytest.approx(10 / 3)
    assert rep.max_abs_diff == 10.0
    assert rep.kappa is not None and 0 < rep.kappa < 1


def _calls(n: int) -> list[SampledCall]:
    return [SampledCall(f"c{i:02d}", "1001", (Reason("random", "x"),)) for i in range(n)]


def test_given_reviewers_with_open_work_then_calls_go_to_the_least_loaded_with_a_stable_tie_break() -> None:
    out = assign(_calls(5), ["qa2", "qa1", "qa3"], open_load={"qa1": 2})
    assert [(a.linkedid, a.reviewer) for a in out] == [
        ("c00", "qa2"), ("c01", "qa3"), ("c02", "qa2"), ("c03", "qa3"), ("c04", "qa1")]  # qa1 starts at 2
    assert least_loaded({"b": 1, "a": 1, "c": 0}, ["a", "b", "c"], 2) == ["c", "a"]


def test_given_calibration_then_the_chosen_calls_go_to_distinct_reviewers_and_the_rest_once() -> None:
    out = assign(_calls(10), ["qa1", "qa2", "qa3", "qa4"], calibration=Calibration(calls=2, reviewers_per_call=3),
                 seed=5, plan_name="daily")
    calib = [a for a in out if a.calibration]
    assert len({a.linkedid for a in calib}) == 2 and len(calib) == 6
    for lid in {a.linkedid for a in calib}:
        assert len({a.reviewer for a in calib if a.linkedid == lid}) == 3
    rest = [a for a in out if not a.calibration]
    assert len(rest) == 8 and len({a.linkedid for a in rest}) == 8
    loads = {r: sum(1 for a in out if a.reviewer == r) for r in ["qa1", "qa2", "qa3", "qa4"]}
    assert max(loads.values()) - min(loads.values()) <= 1
    assert out == assign(_calls(10), ["qa1", "qa2", "qa3", "qa4"],
                         calibration=Calibration(calls=2, reviewers_per_call=3), seed=5, plan_name="daily")
