"""Erlang C staffing maths (pure): probability of wait, service level, ASA, agents needed.

Notation (as in the wallboard's "agents needed vs logged in" panel, issue 9 item 3):

* ``lambda`` -- arrival rate in calls per second (``arrival_rate_per_s``);
* ``AHT`` -- average handle time in seconds (talk + hold + wrap-up, see :mod:`hotline.queues.metrics`);
* ``A = lambda * AHT`` -- offered traffic in Erlangs;
* ``N`` -- number of agents (servers), an int;
* ``T`` -- service-level threshold in seconds.

Formulas (M/M/N queue, callers wait forever, no abandons -- Erlang C over-estimates the wait of a
real 12345 line where callers abandon, so treat its staffing as an upper bound):

* Erlang B by the stable recursion ``B(0) = 1``, ``B(k) = A*B(k-1) / (k + A*B(k-1))``;
* ``C(N, A) = N*B(N) / (N - A*(1 - B(N)))`` for ``N > A`` (probability that a caller waits),
  and ``1`` when ``N <= A`` (the queue grows without bound);
* ``SL(N, A, T) = 1 - C(N, A) * exp(-(N - A) * T / AHT)`` (share answered within T seconds);
* ``ASA(N, A) = C(N, A) * AHT / (N - A)`` seconds.

The recursion never forms ``A**N`` or ``N!``, so it stays finite for thousands of agents.
"""

from __future__ import annotations

import math

from hotline.queues.exceptions import InvalidErlangInput

__all__ = [
    "agents_needed",
    "average_speed_of_answer_s",
    "erlang_b",
    "offered_traffic_erlangs",
    "probability_of_wait",
    "service_level_ratio",
]


def _check(agents: int, traffic_erlangs: float) -> None:
    if agents < 0:
        raise InvalidErlangInput(f"agents must be >= 0, got {agents}")
    if not math.isfinite(traffic_erlangs) or traffic_erlangs < 0:
        raise InvalidErlangInput(f"traffic must be a finite number >= 0 Erlangs, got {traffic_erlangs}")


def offered_traffic_erlangs(arrival_rate_per_s: float, aht_s: float) -> float:
    """Offered traffic ``A = lambda * AHT`` in Erlangs.

    Args:
        arrival_rate_per_s: calls per second (e.g. 120 calls in 15 minutes -> 120/900).
        aht_s: average handle time in seconds.
    Raises:
        InvalidErlangInput: a negative or non-finite input.
    """
    if arrival_rate_per_s < 0 or aht_s < 0 or not math.isfinite(arrival_rate_per_s * aht_s):
        raise InvalidErlangInput(f"rate {arrival_rate_per_s}/s and AHT {aht_s} s must be finite and >= 0")
    return arrival_rate_per_s * aht_s


def erlang_b(agents: int, traffic_erlangs: float) -> float:
    """Erlang B blocking probability ``B(N, A)`` by the iterative recursion (0-1).

    Raises:
        InvalidErlangInput: ``agents < 0`` or negative / non-finite traffic.
    """
    _check(agents, traffic_erlangs)
    b = 1.0
    for k in range(1, agents + 1):
        ab = traffic_erlangs * b
        b = ab / (k + ab)
    return b


def probability_of_wait(agents: int, traffic_erlangs: float) -> float:
    """Erlang C: probability that an arriving caller has to wait, ``C(N, A)`` (0-1).

    ``C = N*B / (N - A*(1 - B))`` with ``B = erlang_b(N, A)``; 1.0 when ``N <= A``.
    Example: ``A = 2``, ``N = 3`` gives 0.4444.

    Raises:
        InvalidErlangInput: ``agents < 0`` or negative / non-finite traffic.
    """
    _check(agents, traffic_erlangs)
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return 1.0
    b = erlang_b(agents, traffic_erlangs)
    return agents * b / (agents - traffic_erlangs * (1.0 - b))


def service_level_ratio(agents: int, traffic_erlangs: float, aht_s: float, threshold_s: float) -> float:
    """Share of callers answered within ``threshold_s`` seconds (0-1).

    ``SL = 1 - C(N, A) * exp(-(N - A) * T / AHT)``; 0.0 when ``N <= A`` (unstable queue).

    Raises:
        InvalidErlangInput: ``aht_s <= 0``, ``threshold_s < 0`` or a bad ``agents``/traffic.
    """
    _check(agents, traffic_erlangs)
    if aht_s <= 0 or threshold_s < 0:
        raise InvalidErlangInput(f"AHT must be > 0 s and T >= 0 s, got {aht_s}, {threshold_s}")
    if traffic_erlangs == 0:
        return 1.0
    if agents <= traffic_erlangs:
        return 0.0
    c = probability_of_wait(agents, traffic_erlangs)
    return max(0.0, 1.0 - c * math.exp(-(agents - traffic_erlangs) * threshold_s / aht_s))


def average_speed_of_answer_s(agents: int, traffic_erlangs: float, aht_s: float) -> float:
    """Erlang C average speed of answer in seconds, ``C(N, A) * AHT / (N - A)``.

    Returns:
        Seconds; ``math.inf`` when ``N <= A``.
    Raises:
        InvalidErlangInput: ``aht_s <= 0`` or a bad ``agents``/traffic.
    """
    _check(agents, traffic_erlangs)
    if aht_s <= 0:
        raise InvalidErlangInput(f"AHT must be > 0 s, got {aht_s}")
    if traffic_erlangs == 0:
        return 0.0
    if agents <= traffic_erlangs:
        return math.inf
    return probability_of_wait(agents, traffic_erlangs) * aht_s / (agents - traffic_erlangs)


def agents_needed(
    arrival_rate_per_s: float,
    aht_s: float,
    target_sl_ratio: float,
    threshold_s: float,
    max_agents: int = 10_000,
) -> int:
    """Smallest ``N`` whose Erlang C service level reaches ``target_sl_ratio`` within ``threshold_s``.

    Starts at ``floor(A) + 1`` (the least stable staffing) and counts up.

    Args:
        arrival_rate_per_s: calls per second over the interval.
        aht_s: average handle time in seconds (> 0).
        target_sl_ratio: e.g. 0.8 for "80 % within T"; must be in [0, 1).
        threshold_s: T in seconds.
        max_agents: search bound.
    Returns:
        Number of agents; 0 when no calls arrive.
    Raises:
        InvalidErlangInput: bad inputs, or the target is not reached with ``max_agents``.
    """
    if not 0.0 <= target_sl_ratio < 1.0:
        raise InvalidErlangInput(f"target service level must be in [0, 1), got {target_sl_ratio}")
    if aht_s <= 0:
        raise InvalidErlangInput(f"AHT must be > 0 s, got {aht_s}")
    traffic = offered_traffic_erlangs(arrival_rate_per_s, aht_s)
    if traffic == 0:
        return 0
    n = math.floor(traffic) + 1
    while n <= max_agents:
        if service_level_ratio(n, traffic, aht_s, threshold_s) >= target_sl_ratio:
            return n
        n += 1
    raise InvalidErlangInput(f"{max_agents} agents do not reach {target_sl_ratio} within {threshold_s} s")
