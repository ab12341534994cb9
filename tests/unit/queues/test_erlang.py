"""Erlang C against textbook values and a by-hand evaluation of the closed formula."""

from __future__ import annotations

import math

import pytest

from hotline.queues.erlang import (
    agents_needed,
    average_speed_of_answer_s,
    erlang_b,
    offered_traffic_erlangs,
    probability_of_wait,
    service_level_ratio,
)
from hotline.queues.exceptions import InvalidErlangInput


def closed_form_erlang_c(n: int, a: float) -> float:
    """The textbook closed form, written out (fine for small N)."""
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


@pytest.mark.parametrize(
    ("agents", "traffic", "expected"),
    [
        (3, 2.0, 0.4444),  # the classic A=2, N=3
        (2, 1.0, 0.3333),
        (1, 0.5, 0.5),  # M/M/1: P(wait) = rho
        (4, 2.0, 0.1739),
    ],
)
def test_probability_of_wait_matches_textbook_values(agents: int, traffic: float, expected: float) -> None:
    assert probability_of_wait(agents, traffic) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("agents", "traffic"), [(5, 3.2), (10, 8.5), (17, 12.0), (30, 25.0)])
def test_iterative_form_equals_the_closed_formula(agents: int, traffic: float) -> None:
    assert probability_of_wait(agents, traffic) == pytest.approx(closed_form_erlang_c(agents, traffic), rel=1e-12)


def test_given_10_calls_per_minute_of_3_minutes_when_staffed_with_33_then_service_level_by_hand() -> None:
    rate_per_s, aht_s, t_s, n = 10 / 60, 180.0, 20.0, 33
    a = offered_traffic_erlangs(rate_per_s, aht_s)
    assert a == pytest.approx(30.0)
    by_hand = 1 - closed_form_erlang_c(n, a) * math.exp(-(n - a) * t_s / aht_s)
    assert service_level_ratio(n, a, aht_s, t_s) == pytest.approx(by_hand, rel=1e-12)
    asa_by_hand = closed_form_erlang_c(n, a) * aht_s / (n - a)
    assert average_speed_of_answer_s(n, a, aht_s) == pytest.approx(asa_by_hand, rel=1e-12)


def test_agents_needed_is_the_smallest_staffing_reaching_the_target() -> None:
    rate_per_s, aht_s, target, t_s = 10 / 60, 180.0, 0.8, 20.0
    n = agents_needed(rate_per_s, aht_s, target, t_s)
    a = offered_traffic_erlangs(rate_per_s, aht_s)
    assert service_level_ratio(n, a, aht_s, t_s) >= target
    assert service_level_ratio(n - 1, a, aht_s, t_s) < target


def test_large_centres_stay_finite() -> None:
    # 300 seats: A**N / N! would overflow a float; the recursion does not
    p = probability_of_wait(320, 300.0)
    assert 0.0 < p < 1.0
    assert agents_needed(300 / 180, 180.0, 0.8, 20.0) > 300


@pytest.mark.parametrize(
    ("agents", "traffic", "expected"),
    [(2, 2.0, 1.0), (1, 3.0, 1.0), (5, 0.0, 0.0)],
)
def test_unstable_or_idle_queues_have_boundary_values(agents: int, traffic: float, expected: float) -> None:
    assert probability_of_wait(agents, traffic) == expected


def test_erlang_b_recursion_matches_definition() -> None:
    a, n = 2.0, 3
    by_hand = (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))
    assert erlang_b(n, a) == pytest.approx(by_hand)


@pytest.mark.parametrize(
    "call",
    [
        lambda: probability_of_wait(-1, 1.0),
        lambda: probability_of_wait(3, -1.0),
        lambda: probability_of_wait(3, math.nan),
        lambda: service_level_ratio(3, 1.0, 0.0, 20.0),
        lambda: agents_needed(1.0, 180.0, 1.0, 20.0),
        lambda: agents_needed(1.0, 180.0, 0.99, 20.0, max_agents=10),
    ],
)
def test_bad_inputs_raise_invalid_erlang_input(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidErlangInput):
        call()
