"""Traffic plans: reproducible, shaped by the menu and the mix."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hotline.ivr.menus import load_menu
from hotline_lab.sim.plan import DEFAULT_MIX, TrafficConfig, dtmf_routes, plan_calls, silent_seats

MENU = Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples" / "12345.yaml"


@pytest.fixture(scope="module")
def routes():
    return dtmf_routes(load_menu(MENU))


def test_given_the_sample_menu_when_routes_are_derived_then_every_busy_line_is_reachable(routes) -> None:
    queues = {r.queue for r in routes.values()}
    assert set(DEFAULT_MIX) <= queues
    commerce = routes["consult_commerce"]
    assert commerce.keys == "111"  # language 1 (zh), main 1 (consultation), consultation 1 (commerce)
    assert "commerce" in commerce.skills


def test_given_a_language_key_when_routes_are_derived_then_it_is_pressed_first(routes) -> None:
    en = dtmf_routes(load_menu(MENU), language_key="3")
    assert all(r.keys.startswith("3") for r in en.values())
    assert {n: r.keys[1:] for n, r in en.items()} == {n: r.keys[1:] for n, r in routes.items()}


def test_given_the_same_config_when_planned_twice_then_the_plans_are_equal(routes) -> None:
    cfg = TrafficConfig(seed=7, rate_per_s=2.0, duration_s=120)
    assert plan_calls(cfg, routes) == plan_calls(cfg, routes)
    assert plan_calls(cfg, routes) != plan_calls(TrafficConfig(seed=8, rate_per_s=2.0, duration_s=120), routes)


def test_given_a_rate_when_planned_then_arrivals_follow_it_and_stay_in_bounds(routes) -> None:
    cfg = TrafficConfig(seed=1, rate_per_s=5.0, duration_s=400, max_calls=10_000)
    calls = plan_calls(cfg, routes)
    assert 1800 < len(calls) < 2200  # Poisson: mean 2000, sd ~45
    assert all(0 < c.at_s < cfg.duration_s for c in calls)
    assert [c.at_s for c in calls] == sorted(c.at_s for c in calls)
    assert len({c.caller_num for c in calls}) == len(calls)
    assert all(c.patience_s >= cfg.patience_min_s and c.talk_s > 0 for c in calls)


def test_given_the_mix_when_planned_then_busiest_lines_get_most_calls(routes) -> None:
    calls = plan_calls(TrafficConfig(seed=3, rate_per_s=10, duration_s=500, max_calls=100_000), routes)
    counts = Counter(c.route.queue for c in calls)
    share = {q: counts[q] / len(calls) for q in DEFAULT_MIX}
    for queue, weight in DEFAULT_MIX.items():
        assert share[queue] == pytest.approx(weight / sum(DEFAULT_MIX.values()), abs=0.03)


def test_given_max_calls_when_planned_then_it_caps_the_plan(routes) -> None:
    assert len(plan_calls(TrafficConfig(rate_per_s=100, duration_s=1000, max_calls=25), routes)) == 25


def test_given_a_mix_the_menu_cannot_reach_when_planned_then_a_clear_error(routes) -> None:
    with pytest.raises(ValueError, match="none of the mix queues"):
        plan_calls(TrafficConfig(mix={"no_such_queue": 1.0}), routes)


def test_silent_seats_are_reproducible_and_proportional() -> None:
    seats = list(range(1001, 1101))
    assert silent_seats(seats, 0.1, 5) == silent_seats(seats, 0.1, 5)
    assert len(silent_seats(seats, 0.1, 5)) == 10
    assert silent_seats(seats, 0.0, 5) == frozenset()
