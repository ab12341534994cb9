"""Sampling plans on synthetic catalogs: quotas, strata, seeds, no call twice, reasons."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.qa.models import CallRecord
from hotline.qa.plans import SamplingPlan, parse_definitions
from hotline.qa.sampling import day_bounds, draw_sample, largest_remainder, round_half_up, window

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 26)  # a Thursday
QUEUES = ("commerce", "labour_social", "housing_fund", "environment", "transport", "general")


def at(day: date, hour: float) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp() + hour * 3600


def catalog(n: int = 400, seed: int = 1, days: int = 4) -> list[CallRecord]:
    """``n`` calls per day over ``days`` days ending on DAY, with a skewed queue mix."""
    rng = random.Random(seed)
    calls = []
    for d in range(days):
        day = DAY - timedelta(days=days - 1 - d)
        for i in range(n):
            queue = rng.choices(QUEUES, weights=(40, 25, 15, 10, 6, 4))[0]
            calls.append(CallRecord(
                linkedid=f"{day.isoformat()}-{i:04d}", started_at=at(day, rng.uniform(8, 22)),
                duration_s=rng.choice([5, 12, 30, 95, 180, 400, 1000]), agent=f"{1001 + rng.randrange(20)}",
                queue=queue, district=rng.choice(["禅城", "南海", "顺德"]), call_type=rng.choice(["咨询", "投诉"]),
                caller=f"1380013{rng.randrange(300):04d}", wait_s=rng.choice([3, 20, 150]),
                flags=("complaint",) if rng.random() < 0.05 else (), satisfaction=rng.choice([None, 1, 3, 5]),
                recording=f"2026/{i}.wav"))
    return calls


def plan(**kw) -> SamplingPlan:
    base = {"exclude": {"shorter_than_s": 20}, "random": {"percent": 5}}
    base.update(kw)
    return SamplingPlan.model_validate(base)


def test_given_a_random_plan_when_drawn_then_exactly_the_percentage_of_eligible_calls_is_random() -> None:
    s = draw_sample(plan(), "daily", catalog(), day=DAY, seed=7)
    random_calls = [c for c in s.calls if any(r.rule == "random" for r in c.reasons)]
    assert s.population == 400
    assert len(random_calls) == round_half_up(0.05 * s.eligible)
    assert s.eligible + sum(s.excluded.values()) == s.population


def test_given_the_same_seed_and_data_when_drawn_twice_then_the_samples_are_identical() -> None:
    calls = catalog()
    a = draw_sample(plan(random={"percent": 10, "stratify_by": ["queue"]}), "p", calls, day=DAY, seed=42)
    shuffled = list(calls)
    random.Random(3).shuffle(shuffled)
    b = draw_sample(plan(random={"percent": 10, "stratify_by": ["queue"]}), "p", shuffled, day=DAY, seed=42)
    assert a == b
    c = draw_sample(plan(random={"percent": 10, "stratify_by": ["queue"]}), "p", calls, day=DAY, seed=43)
    assert {x.linkedid for x in a.calls} != {x.linkedid for x in c.calls}


def test_given_a_sample_then_the_plan_and_seed_are_stored_with_it() -> None:
    p = plan()
    s = draw_sample(p, "daily", catalog(), day=DAY, seed=99)
    assert s.seed == 99 and s.day == DAY.isoformat() and s.plan_name == "daily"
    assert SamplingPlan.model_validate(s.plan) == p
    assert draw_sample(SamplingPlan.model_validate(s.plan), "daily", catalog(), day=DAY, seed=s.seed) == s


def test_given_strata_when_drawn_then_allocation_is_proportional_and_sums_to_n() -> None:
    s = draw_sample(plan(random={"percent": 10, "stratify_by": ["queue"]}), "p", catalog(), day=DAY, seed=5)
    n = round_half_up(0.10 * s.eligible)
    assert sum(k for _, k in s.strata.values()) == n
    for _label, (size, k) in s.strata.items():
        assert abs(k - n * size / s.eligible) < 1.0


@pytest.mark.parametrize(("sizes", "n", "expected"), [
    ({"a": 50, "b": 30, "c": 20}, 10, {"a": 5, "b": 3, "c": 2}),
    ({"a": 5, "b": 3, "c": 2}, 3, {"a": 1, "b": 1, "c": 1}),   # shares 1.5 .9 .6: floors 1,0,0, then b, c
    ({"a": 1, "b": 1, "c": 1}, 2, {"a": 1, "b": 1, "c": 0}),   # tie broken by label
    ({"a": 3, "b": 0}, 10, {"a": 3, "b": 0}),                 # capped at the population
])
def test_largest_remainder_allocation(sizes: dict[str, int], n: int, expected: dict[str, int]) -> None:
    assert largest_remainder(sizes, n) == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text("abcdef", min_size=1, max_size=2), st.integers(0, 500), min_size=1, max_size=8),
       st.integers(0, 600))
def test_largest_remainder_sums_to_n_and_stays_within_one_of_the_exact_share(sizes: dict[str, int], n: int) -> None:
    q = largest_remainder(sizes, n)
    total = sum(sizes.values())
    assert sum(q.values()) == min(n, total)
    for h, s in sizes.items():
        assert q[h] <= s
        if total:
            assert abs(q[h] - min(n, total) * s / total) < 1.0


def test_given_an_agent_minimum_then_every_agent_with_calls_gets_it_this_week() -> None:
    p = plan(random={"percent": 1}, agent_minimum={"per_week": 3})
    s = draw_sample(p, "p", catalog(), day=DAY, seed=1)
    per_agent = Counter(c.agent for c in s.calls)
    eligible_agents = {c.agent for c in catalog() if day_bounds(DAY, "Asia/Shanghai")[0] <= c.started_at
                       and c.duration_s >= 20 and c.started_at < day_bounds(DAY, "Asia/Shanghai")[1]}
    assert eligible_agents and all(per_agent[a] >= 3 for a in eligible_agents)
    topped = [c for c in s.calls if any(r.rule == "agent_minimum" for r in c.reasons)]
    assert topped and all("calls sampled in week 2026-W48" in r.detail for c in topped for r in c.reasons
                          if r.rule == "agent_minimum")


def test_given_calls_sampled_earlier_in_the_week_then_they_count_toward_the_minimum_and_are_not_redrawn() -> None:
    calls = catalog()
    p = plan(random=None, agent_minimum={"per_week": 2})
    monday = draw_sample(p, "p", calls, day=DAY - timedelta(days=1), seed=1)
    later = draw_sample(p, "p", calls, day=DAY, seed=1, already_sampled=[c.linkedid for c in monday.calls])
    assert not later.calls  # everybody already had 2 this week
    assert not {c.linkedid for c in monday.calls} & {c.linkedid for c in later.calls}


def test_given_targeted_rules_then_each_matching_call_is_in_with_every_reason() -> None:
    p = plan(random=None, targeted={"keyword_flags": ["complaint"], "longer_than_s": 900,
                                     "waited_longer_than_s": 120, "dissatisfied_at_most": 1,
                                     "repeat_callers": {"min_calls": 3, "within_days": 7}})
    calls = catalog()
    s = draw_sample(p, "p", calls, day=DAY, seed=1)
    by_id = {c.linkedid: c for c in calls}
    rules = Counter(r.rule for c in s.calls for r in c.reasons)
    assert set(rules) == {"keyword", "long_call", "long_wait", "dissatisfied", "repeat_caller"}
    for sc in s.calls:
        c = by_id[sc.linkedid]
        got = {r.rule for r in sc.reasons}
        assert ("keyword" in got) == ("complaint" in c.flags)
        assert ("long_call" in got) == (c.duration_s > 900)
        assert ("long_wait" in got) == (c.wait_s > 120)
        assert ("dissatisfied" in got) == (c.satisfaction == 1)
    start, end = day_bounds(DAY, "Asia/Shanghai")
    expected = {c.linkedid for c in calls if start <= c.started_at < end and c.duration_s >= 20 and (
        "complaint" in c.flags or c.duration_s > 900 or c.wait_s > 120 or c.satisfaction == 1)}
    assert expected <= {c.linkedid for c in s.calls}


def test_given_repeat_callers_then_only_the_third_call_within_the_window_is_flagged() -> None:
    mk = lambda i, h, d=DAY: CallRecord(f"c{i}", at(d, h), 60, agent="1001", caller="13800138000", recording="x")  # noqa: E731
    calls = [mk(1, 9, DAY - timedelta(days=8)), mk(2, 9), mk(3, 10), mk(4, 11)]
    p = plan(random=None, targeted={"repeat_callers": {"min_calls": 3, "within_days": 7}})
    s = draw_sample(p, "p", calls, day=DAY, seed=0)
    assert [c.linkedid for c in s.calls] == ["c4"]
    assert s.calls[0].reasons[0].detail == "call 3 from this number within 7 days"


def test_given_exclusions_then_short_unanswered_and_unrecorded_calls_are_never_sampled() -> None:
    calls = [CallRecord("short", at(DAY, 9), 10, agent="1001", recording="a", flags=("complaint",)),
             CallRecord("noagent", at(DAY, 9), 100, recording="a", flags=("complaint",)),
             CallRecord("norec", at(DAY, 9), 100, agent="1001", flags=("complaint",)),
             CallRecord("ok", at(DAY, 9), 100, agent="1001", recording="a", flags=("complaint",))]
    s = draw_sample(plan(random={"percent": 100}, targeted={"keyword_flags": ["complaint"]}), "p", calls,
                    day=DAY, seed=0)
    assert [c.linkedid for c in s.calls] == ["ok"]
    assert s.excluded == {"shorter_than_20s": 1, "unanswered": 1, "unrecorded": 1}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**63), st.floats(0.5, 100), st.integers(1, 4))
def test_property_no_call_twice_and_every_call_has_a_reason(seed: int, percent: float, minimum: int) -> None:
    calls = catalog(n=60, seed=seed % 1000, days=3)
    p = plan(random={"percent": percent, "stratify_by": ["queue", "district"]}, agent_minimum={"per_week": minimum},
             targeted={"keyword_flags": ["complaint"], "waited_longer_than_s": 120})
    s = draw_sample(p, "p", calls, day=DAY, seed=seed)
    ids = [c.linkedid for c in s.calls]
    assert len(ids) == len(set(ids))
    assert all(c.reasons for c in s.calls)
    assert ids == sorted(ids)


def test_given_a_late_evening_call_then_the_local_day_decides() -> None:
    late = CallRecord("late", at(DAY, 23.9), 100, agent="1001", recording="a")  # 15:54 UTC, still DAY in Shanghai
    s = draw_sample(plan(random={"percent": 100}), "p", [late], day=DAY, seed=0)
    assert [c.linkedid for c in s.calls] == ["late"]
    assert window(plan(), DAY)[0] == day_bounds(DAY - timedelta(days=3), "Asia/Shanghai")[0]  # Monday


def test_given_an_invalid_plan_file_then_every_problem_is_reported_with_its_path() -> None:
    from hotline.qa.errors import PlanError

    with pytest.raises(PlanError) as err:
        parse_definitions({
            "plans": {
                "a": {"random": {"percent": 0}, "timezone": "Mars/Base", "colour": "red"},
                "b": {"exclude": {"shorter_than_s": 5}},
                "c": {"random": {"percent": 5}, "form": "missing"},
            },
            "forms": {"f": {"title": "t", "criteria": [{"id": "x", "label": "X", "weight": 0}]}},
        }, "qa.yaml")
    text = "\n".join(err.value.problems)
    assert "qa.yaml: plans.a.random.percent" in text
    assert "plans.a.timezone" in text and "Mars/Base" in text
    assert "plans.a.colour" in text and "Extra inputs are not permitted" in text
    assert "plans.b" in text and "samples nothing" in text
    assert "forms.f" in text and "weight > 0" in text
    assert "plans.c.form: no form named 'missing'" in text
