"""Key times from the menu and the prompt durations (injected): inside the windows where the IVR takes keys."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import pytest

from hotline.ivr.menus import load_menu
from hotline_lab.sim.plan import TrafficConfig, dtmf_routes, plan_calls
from hotline_lab.sim.runner import caller_keys
from hotline_lab.sim.timeline import (
    KeyTiming,
    RouteError,
    ivr_time_s,
    press_times_ms,
    read_prompt_durations,
    route_prompts,
    walk_route,
)

MENU = Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples" / "12345.yaml"
#: the lab's zh prompts (seconds), as `hotline ivr prompts` synthesizes them
DURATIONS = {"hotline/zh/choose_language": 7.6, "hotline/zh/welcome": 8.2, "hotline/zh/main_menu": 15.2,
             "hotline/zh/consultation_menu": 24.1, "hotline/zh/request_menu": 24.2, "hotline/zh/transfer": 4.6,
             "hotline/zh/complaint_transfer": 5.0}


@pytest.fixture(scope="module")
def menu():
    return load_menu(MENU)


def test_given_a_consultation_route_when_walked_then_prompts_before_each_key_are_summed(menu) -> None:
    t = walk_route(menu, "111", DURATIONS)
    assert [(s.node, s.key) for s in t.steps] == [("language", "1"), ("main", "1"), ("consultation", "1")]
    language, main, consultation = t.steps
    assert (language.lead_s, language.prompt_s) == (0.0, 7.6)
    assert (main.lead_s, main.prompt_s) == (8.2, 15.2)  # welcome plays without barge-in before the main menu
    assert (consultation.lead_s, consultation.prompt_s) == (0.0, 24.1)
    assert t.queue_node == "consult_commerce" and t.tail_s == 4.6
    assert all(s.timeout_s == 6.0 for s in t.steps)


def test_given_a_route_when_prompts_listed_then_the_callers_language_folder(menu) -> None:
    assert route_prompts(menu, "13") == {"hotline/zh/choose_language", "hotline/zh/welcome", "hotline/zh/main_menu",
                                         "hotline/zh/complaint_transfer"}
    assert "hotline/en/main_menu" in route_prompts(menu, "30")


@pytest.mark.parametrize("keys", ["1", "19", "1111", "15"])
def test_given_keys_that_do_not_walk_to_a_queue_when_walked_then_route_error(menu, keys: str) -> None:
    with pytest.raises(RouteError):
        walk_route(menu, keys, DURATIONS)


@pytest.mark.parametrize("seed", range(200))
def test_given_any_caller_when_timed_then_every_key_lands_in_its_nodes_window(menu, seed: int) -> None:
    cfg = KeyTiming()
    t = walk_route(menu, "123", DURATIONS)
    press = press_times_ms(t, random.Random(seed), cfg)
    assert press == sorted(press) and len(press) == 3
    prev = 0.0
    for i, (step, at_ms) in enumerate(zip(t.steps, press, strict=True)):
        overhead = step.commands * cfg.command_s + (cfg.answer_s if i == 0 else 0.0)
        prompt_start = prev + step.lead_s + overhead
        # never during the audio without barge-in, never after the node gave up waiting
        assert prompt_start + min(cfg.type_ahead_min_s, step.prompt_s) <= at_ms / 1000 + 1e-3
        assert at_ms / 1000 <= prompt_start + step.prompt_s + step.timeout_s - cfg.margin_s + 1e-3
        prev = at_ms / 1000


def test_given_many_callers_when_timed_then_some_type_ahead_and_most_press_after_the_prompt(menu) -> None:
    t = walk_route(menu, "10", DURATIONS)
    first = t.steps[0]
    rng = random.Random(3)
    presses = [press_times_ms(t, rng)[0] / 1000 for _ in range(2000)]
    prompt_end = KeyTiming().answer_s + first.commands * KeyTiming().command_s + first.prompt_s
    during = sum(p < prompt_end for p in presses) / len(presses)
    assert 0.15 < during < 0.35


def test_given_a_timeline_when_ivr_time_computed_then_last_key_plus_transfer_prompt(menu) -> None:
    cfg = KeyTiming(command_s=0.0, handover_s=0.5)
    t = walk_route(menu, "111", DURATIONS)
    assert ivr_time_s(t, [1000, 20000, 50000], cfg) == pytest.approx(50.0 + 4.6 + 0.5)
    assert ivr_time_s(walk_route(menu, "111", DURATIONS), [1000, 20000, 60000]) > ivr_time_s(t, [1000, 20000, 50000])


def test_given_the_plan_when_each_caller_timed_then_reproducible_per_seed_and_call(menu) -> None:
    plan = plan_calls(TrafficConfig(seed=5, rate_per_s=1, duration_s=30), dtmf_routes(menu))
    t = walk_route(menu, plan[0].route.keys, DURATIONS)
    assert caller_keys(plan[0], t, 5) == caller_keys(plan[0], t, 5)
    assert caller_keys(plan[0], t, 5) != caller_keys(plan[0], t, 6)


def test_given_wav_and_raw_prompts_when_read_then_seconds_by_name(tmp_path: Path) -> None:
    (tmp_path / "hotline/zh").mkdir(parents=True)
    with wave.open(str(tmp_path / "hotline/zh/welcome.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 12000)
    (tmp_path / "hotline/zh/main_menu.sln16").write_bytes(b"\0" * 64000)
    got = read_prompt_durations(tmp_path, ["hotline/zh/welcome", "hotline/zh/main_menu", "hotline/zh/none"])
    assert got == {"hotline/zh/welcome": 1.5, "hotline/zh/main_menu": 2.0}
