"""Traffic plans for the simulator: who calls when, which keys they press, how long they wait.

Pure and seeded: the same :class:`TrafficConfig` (seed included) gives the same plan, so a
demo or load run can be replayed. Times are seconds from the start of the run.

* Arrivals are a Poisson process: exponential inter-arrival gaps with mean ``1 / rate``
  (``rate`` in calls per second), cut at ``duration_s`` and ``max_calls``.
* The line a caller wants is drawn from ``mix`` (weights per queue, busiest lines of the
  reference hotline first); the DTMF keys that reach it come from the IVR menu itself
  (:func:`dtmf_routes`), so a changed menu changes the plan, not the simulator.
* Patience (how long a caller waits for an agent before hanging up) is exponential with
  mean ``patience_mean_s``, floored at ``patience_min_s``; talk time is log-normal around
  ``talk_median_s``; a share ``ring_no_answer_ratio`` of agent phones never answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hotline.ivr.menus import Menu

#: the busiest lines of the reference hotline and their share of calls
DEFAULT_MIX: dict[str, float] = {
    "commerce": 0.28,
    "labour_social": 0.24,
    "housing_fund": 0.18,
    "environment": 0.12,
    "transport": 0.10,
    "general": 0.08,
}


@dataclass(frozen=True, slots=True)
class DtmfRoute:
    """The keys from the menu's start to one queue node.

    Attributes:
        node: the queue node id reached.
        queue: its queue name.
        skills: skills the node asks for.
        keys: DTMF digits to press, in order (the language choice first).
    """

    node: str
    queue: str
    skills: tuple[str, ...]
    keys: str


def dtmf_routes(menu: Menu, language_key: str | None = None) -> dict[str, DtmfRoute]:
    """Shortest key sequence from ``menu.start`` to every reachable queue node.

    Walks input nodes by their options (``menu`` options offered to everyone, ``language``
    options), passes through ``play``/``announcements``/``goto`` without keys, follows a
    ``schedule`` node's ``open`` branch, and does not enter ``collect``/``lookup`` nodes.

    Args:
        language_key: the key to press at a language node (default: the first option).
    Returns:
        queue node id -> :class:`DtmfRoute` (breadth first: fewest keys wins).
    """
    routes: dict[str, DtmfRoute] = {}
    seen = {menu.start}
    frontier: list[tuple[str, str]] = [(menu.start, "")]
    while frontier:
        nxt: list[tuple[str, str]] = []
        for node_id, keys in frontier:
            node = menu.nodes[node_id]
            edges: list[tuple[str, str]] = []
            if node.kind == "queue":
                routes[node_id] = DtmfRoute(node_id, node.queue, tuple(node.skills), keys)
                continue
            if node.kind == "language":
                options = sorted(node.options)
                key = language_key if language_key in node.options else options[0]
                edges.append((node.next, keys + key))
            elif node.kind == "menu":
                for key, opt in sorted(node.options.items()):
                    if opt.when == "always" and key.isdigit():
                        edges.append((opt.next, keys + key))
            elif node.kind == "play" or node.kind == "announcements":
                edges.append((node.next, keys))
            elif node.kind == "goto":
                edges.append((node.target, keys))
            elif node.kind == "schedule":
                edges.append((node.open, keys))
            for target, k in edges:
                if target not in seen:
                    seen.add(target)
                    nxt.append((target, k))
        frontier = nxt
    return routes


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """What to simulate.

    Attributes:
        seed: random seed (the plan is a pure function of this config).
        rate_per_s: mean arrivals per second.
        duration_s: arrivals stop after this many seconds.
        max_calls: hard cap on callers.
        mix: queue -> weight (normalised); queues without a menu route are ignored.
        patience_mean_s / patience_min_s: caller patience while waiting for an agent.
        talk_median_s / talk_sigma: log-normal talk time of an answered call.
        wrap_up_s: agent wrap-up after each call.
        ring_no_answer_ratio: share of agent phones that never answer (0-1).
        first_number: first simulated citizen number (mainland mobile range).
    """

    seed: int = 12345
    rate_per_s: float = 1.0
    duration_s: float = 60.0
    max_calls: int = 1000
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    patience_mean_s: float = 60.0
    patience_min_s: float = 5.0
    talk_median_s: float = 20.0
    talk_sigma: float = 0.5
    wrap_up_s: float = 5.0
    ring_no_answer_ratio: float = 0.05
    first_number: int = 13_800_000_000


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One simulated citizen: arrives at ``at_s``, presses ``route.keys``, waits up to ``patience_s``."""

    index: int
    at_s: float
    caller_num: str
    route: DtmfRoute
    patience_s: float
    talk_s: float


def plan_calls(config: TrafficConfig, routes: Mapping[str, DtmfRoute]) -> list[PlannedCall]:
    """The callers of one run, in arrival order.

    Raises:
        ValueError: no queue of ``config.mix`` has a route in the menu, or a bad rate.
    """
    if config.rate_per_s <= 0:
        raise ValueError(f"rate_per_s must be > 0, got {config.rate_per_s}")
    by_queue: dict[str, list[DtmfRoute]] = {}
    for route in sorted(routes.values(), key=lambda r: r.node):
        by_queue.setdefault(route.queue, []).append(route)
    weighted = [(q, w) for q, w in config.mix.items() if w > 0 and q in by_queue]
    if not weighted:
        raise ValueError(f"none of the mix queues {sorted(config.mix)} is reachable in the menu "
                         f"(reachable: {sorted(by_queue)})")
    rng = random.Random(config.seed)
    queues = [q for q, _ in weighted]
    weights = [w for _, w in weighted]
    calls: list[PlannedCall] = []
    t = 0.0
    while len(calls) < config.max_calls:
        t += rng.expovariate(config.rate_per_s)
        if t >= config.duration_s:
            break
        queue = rng.choices(queues, weights)[0]
        route = rng.choice(by_queue[queue])
        patience = max(config.patience_min_s, rng.expovariate(1.0 / config.patience_mean_s))
        talk = config.talk_median_s * math.exp(rng.gauss(0.0, config.talk_sigma))
        calls.append(PlannedCall(len(calls), round(t, 3), str(config.first_number + len(calls)), route,
                                 round(patience, 3), round(talk, 3)))
    return calls


def silent_seats(seats: Sequence[int], ratio: float, seed: int) -> frozenset[int]:
    """Which seats never answer (``ratio`` of them, at least one if ratio > 0), reproducibly."""
    if ratio <= 0 or not seats:
        return frozenset()
    count = max(1, round(len(seats) * ratio))
    return frozenset(random.Random(seed).sample(list(seats), min(count, len(seats))))
