"""Pure parts of the simulator runner, the demo summary and the CLI seat spread."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from hotline.queues.config import EXAMPLE_AGENTS, load_agents_file
from hotline.queues.metrics import Counters
from hotline_lab.demo import MENU_SKILLS, demo_agents_file, summarise
from hotline_lab.sim.cli import seats_for
from hotline_lab.sim.plan import TrafficConfig
from hotline_lab.sim.runner import talk_buckets_ms


def test_given_lognormal_talk_when_bucketed_then_ascending_around_the_median() -> None:
    buckets = talk_buckets_ms(TrafficConfig(talk_median_s=20.0, talk_sigma=0.5), 3)
    assert buckets == sorted(buckets) and len(buckets) == 3
    assert buckets[1] == 20000  # the middle quantile of an odd count is the median
    assert buckets[0] < 20000 < buckets[2]


def test_given_tiny_talk_time_when_bucketed_then_at_least_one_second() -> None:
    assert min(talk_buckets_ms(TrafficConfig(talk_median_s=0.1), 4)) == 1000


def test_given_seat_count_when_spread_then_distinct_seats_inside_the_range() -> None:
    seats = seats_for(30)
    assert len(set(seats)) == 30 and min(seats) == 1001 and max(seats) <= 1300
    assert seats_for(500, 1131, 1200) == list(range(1131, 1201))


def test_given_routing_report_when_summarised_then_totals_and_ratios_over_every_queue() -> None:
    day = dt.date(2026, 11, 30)
    report = {"by_queue": {
        (day, "commerce"): Counters(offered=4, answered=3, answered_within_t=3, abandoned=1, answer_wait_s=6.0,
                                    handled=3, talk_s=30.0),
        (day, "general"): Counters(offered=2, answered=1, answered_within_t=0, abandoned=0, callbacks=1,
                                   answer_wait_s=30.0, handled=1, talk_s=10.0),
    }}
    s = summarise(report)
    assert (s.offered, s.answered, s.abandoned, s.callbacks) == (6, 4, 1, 1)
    assert s.hotline is None  # no hotline-level outcome counters in this report
    assert s.service_level_ratio == 0.75 and s.asa_s == 9.0 and s.aht_s == 10.0
    assert s.per_queue["general"] == {"offered": 2, "answered": 1, "abandoned": 0}


def test_given_nothing_answered_when_summarised_then_ratios_are_none() -> None:
    s = summarise({"by_queue": {}})
    assert s.service_level_ratio is None and s.asa_s is None and s.aht_s is None


def test_given_example_agents_when_demo_file_written_then_menu_skills_added_and_file_valid(tmp_path: Path) -> None:
    path = demo_agents_file(EXAMPLE_AGENTS, tmp_path / "agents.yaml")
    _, agents = load_agents_file(path)
    assert all(set(MENU_SKILLS) <= set(a.skills) for a in agents)
    original = yaml.safe_load(EXAMPLE_AGENTS.read_text(encoding="utf-8"))["agents"][0]["skills"]
    first = next(a for a in agents if a.agent_id == "1001") if hasattr(agents[0], "agent_id") else agents[0]
    assert {k: first.skills[k] for k in original} == original
