"""Statistics core: hand-computed definitions, calendar windows, and live == replay == oracle."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.queues.events import (
    AgentStateChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallOverflowed,
    CallQueued,
    CallSentToVoicemail,
    CallTransferred,
    OfferFailed,
)
from hotline.queues.exceptions import IllegalTransition, InvalidQueueConfig
from hotline.queues.metrics import MetricsConfig, MetricsState, Outcome, ServiceLevel, replay
from hotline.queues.model import Agent, AgentStatus, QueueConfig
from hotline.queues.routing import RoutingState, decide, handle
from tests.unit.queues.sim import Harness, agent_defs, draw_event, make_queues

S = AgentStatus
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 30)
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=TZ).timestamp()  # 10:00 local
CFG = MetricsConfig(service_level_s=20.0, short_abandon_s=5.0)


def queued(lid: str, at: float, queue: str = "labour", skills: frozenset[str] = frozenset({"labour"})) -> CallQueued:
    return CallQueued(lid, "u-" + lid, queue, at, skills=skills)


def day_mix() -> list[object]:
    """Six calls at 10:00 with known waits (T = 20 s, T_short = 5 s)."""
    return [
        queued("ans10", T0),
        queued("ans30", T0),
        queued("abn3", T0),
        queued("abn25", T0),
        queued("cb40", T0),
        queued("wait", T0),
        CallAnswered("ans10", "a1", T0 + 10),
        CallAbandoned("abn3", T0 + 3),
        CallAbandoned("abn25", T0 + 25),
        CallAnswered("ans30", "a2", T0 + 30),
        CallbackRequested("cb40", T0 + 40),
        CallAbandoned("cb40", T0 + 41),  # hangs up after accepting the callback: not an abandon
    ]


def test_counters_of_a_known_mix_match_hand_counts() -> None:
    c = replay(day_mix(), CFG).daily(DAY, "labour")
    assert (c.offered, c.answered, c.answered_within_t) == (6, 2, 1)
    assert (c.abandoned, c.abandoned_within_t, c.short_abandoned, c.callbacks) == (2, 1, 1, 1)
    assert c.asa_s == pytest.approx((10 + 30) / 2)
    assert c.abandon_ratio == pytest.approx(2 / 6)
    assert c.abandon_excl_short_ratio == pytest.approx(1 / 5)


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        (ServiceLevel.SL1, 1 / 2),  # A_T / A
        (ServiceLevel.SL2, 1 / 4),  # A_T / (A + Ab)
        (ServiceLevel.SL3, 1 / 3),  # A_T / (A + Ab - Ab_short)
        (ServiceLevel.SL4, 2 / 6),  # (A_T + Ab_T) / O
    ],
)
def test_service_level_variants_follow_their_documented_denominators(variant: ServiceLevel, expected: float) -> None:
    assert replay(day_mix(), CFG).daily(DAY, "labour").service_level(variant) == pytest.approx(expected)


def test_given_no_calls_then_ratios_are_none_not_zero() -> None:
    c = MetricsState(CFG).daily(DAY, "labour")
    assert c.service_level(ServiceLevel.SL1) is None
    assert c.asa_s is None and c.aht_s is None and c.abandon_ratio is None


def test_aht_is_talk_plus_hold_plus_wrap_up_counted_when_wrap_up_ends() -> None:
    m = replay(
        [
            queued("L1", T0),
            AgentStateChanged("a1", S.RESERVED, T0 + 1, linkedid="L1", queue="labour"),
            CallAnswered("L1", "a1", T0 + 5),
            AgentStateChanged("a1", S.ON_CALL, T0 + 5, linkedid="L1", queue="labour"),
            AnsweredCallEnded("L1", T0 + 105, hold_s=20.0),
            AgentStateChanged("a1", S.WRAP_UP, T0 + 105, linkedid="L1", queue="labour"),
        ],
        CFG,
    )
    assert m.daily(DAY, "labour").aht_s is None  # still wrapping up
    m.apply(AgentStateChanged("a1", S.READY, T0 + 120))
    c = m.daily(DAY, "labour")
    assert (c.handled, c.talk_s, c.hold_s, c.wrap_up_s) == (1, 80.0, 20.0, 15.0)
    assert c.aht_s == 115.0


def test_given_overflow_then_source_counts_overflowed_and_target_a_new_offer_with_original_wait() -> None:
    m = replay(
        [queued("L1", T0), CallOverflowed("L1", "labour", "general", T0 + 15), CallAnswered("L1", "a1", T0 + 25)],
        CFG,
    )
    src, dst = m.daily(DAY, "labour"), m.daily(DAY, "general")
    assert (src.offered, src.overflowed, src.answered) == (1, 1, 0)
    assert (dst.offered, dst.answered, dst.answered_within_t) == (1, 1, 0)  # waited 25 s > T
    assert dst.asa_s == 25.0


@pytest.mark.parametrize(
    ("events", "outcome_field"),
    [
        ([CallSentToVoicemail("L1", "labour", T0 + 60)], "voicemails"),
        ([CallTransferred("L1", T0 + 9)], "transferred"),
        ([CallbackRequested("L1", T0 + 9), CallAbandoned("L1", T0 + 10)], "callbacks"),
        ([CallAbandoned("L1", T0 + 9), CallbackRequested("L1", T0 + 10)], "abandoned"),
    ],
)
def test_each_offer_ends_in_exactly_one_outcome(events: list[object], outcome_field: str) -> None:
    c = replay([queued("L1", T0), *events], CFG).daily(DAY, "labour")
    outcomes = {
        f: getattr(c, f) for f in ("answered", "abandoned", "callbacks", "voicemails", "overflowed", "transferred")
    }
    assert outcomes == {f: int(f == outcome_field) for f in outcomes}


def test_ring_no_answer_is_counted_as_missed_offer_and_caller_keeps_waiting() -> None:
    m = replay([queued("L1", T0), OfferFailed("L1", "a1", T0 + 15)], CFG)
    assert m.daily(DAY, "labour").missed_offers == 1
    assert m.live(T0 + 20).waiting == {"labour": 1}


def test_calls_either_side_of_local_midnight_fall_on_different_days() -> None:
    midnight = datetime(2026, 12, 1, 0, 0, tzinfo=TZ).timestamp()
    m = replay([queued("late", midnight - 10), queued("early", midnight + 10)], CFG)
    assert m.daily(DAY, "labour").offered == 1
    assert m.daily(date(2026, 12, 1), "labour").offered == 1
    # in UTC both are on 2026-11-30 (16:00 UTC): the window really is local
    assert datetime.fromtimestamp(midnight + 10, ZoneInfo("UTC")).date() == DAY


def test_interval_series_has_96_quarter_hours_and_attributes_by_queue_entry() -> None:
    m = replay([queued("L1", T0 + 7 * 60), CallAnswered("L1", "a1", T0 + 16 * 60)], CFG)
    rows = m.intervals(DAY, "labour")
    assert len(rows) == 96
    by_start = {at: c for at, c in rows}
    assert by_start[T0].offered == 1 and by_start[T0].answered == 1  # answered in the next interval
    assert by_start[T0 + 900].offered == 0
    assert sum(c.offered for _, c in m.intervals(DAY)) == 1


def test_agent_time_is_split_at_midnight_and_occupancy_follows_the_formula() -> None:
    midnight = datetime(2026, 12, 1, 0, 0, tzinfo=TZ).timestamp()
    m = replay(
        [
            AgentStateChanged("a1", S.READY, midnight - 100),
            AgentStateChanged("a1", S.ON_CALL, midnight + 20, linkedid="L1"),
            AgentStateChanged("a1", S.WRAP_UP, midnight + 80, linkedid="L1"),
            AgentStateChanged("a1", S.READY, midnight + 100),
            AgentStateChanged("a1", S.NOT_READY, midnight + 200, reason="lunch"),
        ],
        CFG,
    )
    assert m.agent_state_time_s(DAY) == {S.READY: 100.0}
    assert m.agent_state_time_s(date(2026, 12, 1)) == {S.READY: 120.0, S.ON_CALL: 60.0, S.WRAP_UP: 20.0}
    assert m.occupancy_ratio(date(2026, 12, 1)) == pytest.approx(80 / 200)  # lunch is not staffed time
    view = m.live(midnight + 260)
    assert view.agents_by_status[S.NOT_READY] == 1
    assert view.agents[0].reason == "lunch" and view.agents[0].time_in_state_s == 60.0


def test_live_view_shows_waiting_and_longest_wait_per_queue() -> None:
    m = replay([queued("L1", T0), queued("L2", T0 + 30), queued("L3", T0, queue="housing")], CFG)
    view = m.live(T0 + 45)
    assert view.waiting == {"housing": 1, "labour": 2}
    assert view.longest_wait_s == {"housing": 45.0, "labour": 45.0}


def test_per_skill_counts_use_call_skills_or_the_queue_skills() -> None:
    cfg = MetricsConfig(queue_skills={"labour": frozenset({"labour"})})
    m = replay([queued("L1", T0, skills=frozenset()), queued("L2", T0, skills=frozenset({"labour", "en"}))], cfg)
    assert m.daily_by_skill(DAY, "labour").offered == 2
    assert m.daily_by_skill(DAY, "en").offered == 1


@pytest.mark.parametrize("kwargs", [{"interval_s": 7}, {"timezone": "Mars/Olympus"}])
def test_bad_metrics_config_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidQueueConfig):
        MetricsConfig(**kwargs)  # type: ignore[arg-type]


# --- property: live == replay == restart == an independent recomputation ----------------------

MIDNIGHT = datetime(2026, 12, 1, 0, 0, tzinfo=TZ).timestamp()


def simulate(data: st.DataObject, agents: list[Agent]) -> tuple[list[object], float]:
    """Drive the routing core with random events; return the log (inputs + facts) and the end time."""
    state = RoutingState.create(make_queues(data.draw(st.booleans())), agents)
    h = Harness()
    now = MIDNIGHT - 200.0  # the run crosses local midnight
    log: list[object] = []
    for _ in range(data.draw(st.integers(5, 60))):
        now += data.draw(st.sampled_from((0.0, 0.25, 1.0, 3.0, 12.5)))
        log += [o for o in decide(state, now)[1] if _is_fact(o)]
        ev = draw_event(data.draw, state, now, h)
        if ev is None:
            continue
        try:
            _, out = handle(state, ev, now)
        except IllegalTransition:
            continue
        log.append(ev)
        log += [o for o in out if _is_fact(o)]
    return log, now


def _is_fact(o: object) -> bool:
    return isinstance(o, AgentStateChanged | CallOverflowed | CallSentToVoicemail)


def oracle_outcomes(log: list[object], cfg: MetricsConfig) -> dict[tuple[date, str], dict[str, int]]:
    """Independent recount of offers and outcomes per (local day, queue) from per-call timelines."""
    timelines: dict[str, list[object]] = defaultdict(list)
    for ev in log:
        lid = getattr(ev, "linkedid", None)
        if lid is not None and not isinstance(ev, AgentStateChanged):
            timelines[lid].append(ev)
    tz = ZoneInfo(cfg.timezone)
    out: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for evs in timelines.values():
        first = next((e for e in evs if isinstance(e, CallQueued)), None)
        if first is None:
            continue
        stays: list[tuple[str, float, Outcome | None, float]] = []  # queue, entered, outcome, at
        queue, entered, outcome = first.queue, first.at, None
        for e in evs[evs.index(first) + 1 :]:
            if outcome is not None:
                break
            if isinstance(e, CallOverflowed):
                stays.append((queue, entered, Outcome.OVERFLOWED, e.at))
                queue, entered = e.to_queue, e.at
            elif isinstance(e, CallAnswered):
                outcome, end_at = Outcome.ANSWERED, e.at
            elif isinstance(e, CallAbandoned):
                outcome, end_at = Outcome.ABANDONED, e.at
            elif isinstance(e, CallbackRequested):
                outcome, end_at = Outcome.CALLBACK, e.at
            elif isinstance(e, CallSentToVoicemail):
                outcome, end_at = Outcome.VOICEMAIL, e.at
            elif isinstance(e, CallTransferred):
                outcome, end_at = Outcome.TRANSFERRED, e.at
        stays.append((queue, entered, outcome, end_at if outcome else 0.0))
        for q, at, oc, end in stays:
            row = out[(datetime.fromtimestamp(at, tz).date(), q)]
            row["offered"] += 1
            if oc is not None:
                row[oc.value] += 1
            if oc is Outcome.ANSWERED and end - first.at <= cfg.service_level_s:
                row["answered_within_t"] += 1
    return out


FIELD = {
    "answered": "answered",
    "abandoned": "abandoned",
    "callback": "callbacks",
    "voicemail": "voicemails",
    "overflowed": "overflowed",
    "transferred": "transferred",
    "offered": "offered",
    "answered_within_t": "answered_within_t",
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), agents=agent_defs())
def test_metrics_recomputed_from_the_log_equal_the_live_ones(data: st.DataObject, agents: list[Agent]) -> None:
    log, end = simulate(data, agents)
    cfg = MetricsConfig()
    live = MetricsState(cfg)
    for ev in log:
        live.apply(ev)
    assert replay(log, cfg).report(end) == live.report(end)
    # a restart at any point: replay the log so far, then carry on live
    cut = data.draw(st.integers(0, len(log)))
    restarted = replay(log[:cut], cfg)
    for ev in log[cut:]:
        restarted.apply(ev)
    assert restarted.report(end) == live.report(end)
    # an independent recount agrees on offers and outcomes per local day and queue
    expected = oracle_outcomes(log, cfg)
    days = {d for d, _ in expected}
    for (d, q), row in expected.items():
        c = live.daily(d, q)
        assert {k: getattr(c, FIELD[k]) for k in row} == dict(row), (d, q)
    # conservation: every offer is settled once or still waiting
    view = live.live(end)
    for d in days:
        for q in live.queues_seen(d):
            c = live.daily(d, q)
            settled = c.answered + c.abandoned + c.callbacks + c.voicemails + c.overflowed + c.transferred
            assert settled <= c.offered
    total_waiting = sum(view.waiting.values())
    total = sum(
        live.daily(d, q).offered
        - (lambda c: c.answered + c.abandoned + c.callbacks + c.voicemails + c.overflowed + c.transferred)(
            live.daily(d, q)
        )
        for d in days
        for q in live.queues_seen(d)
    )
    assert total == total_waiting


@pytest.mark.parametrize(
    ("event", "field", "expected"),
    [
        (CallAnswered("L1", "a1", T0 + 20.0), "answered_within_t", 1),  # wait == T counts as met
        (CallAnswered("L1", "a1", T0 + 20.25), "answered_within_t", 0),
        (CallAbandoned("L1", T0 + 20.0), "abandoned_within_t", 1),
        (CallAbandoned("L1", T0 + 4.75), "short_abandoned", 1),
        (CallAbandoned("L1", T0 + 5.0), "short_abandoned", 0),  # wait == T_short is not short
    ],
)
def test_thresholds_at_their_boundaries(event: object, field: str, expected: int) -> None:
    assert getattr(replay([queued("L1", T0), event], CFG).daily(DAY, "labour"), field) == expected


def test_metrics_config_from_queues_takes_per_queue_thresholds() -> None:
    cfg = MetricsConfig.from_queues([QueueConfig("vip", frozenset({"x"}), service_level_s=10.0, short_abandon_s=3.0)])
    c = replay([queued("L1", T0, queue="vip", skills=frozenset()), CallAnswered("L1", "a1", T0 + 15)], cfg)
    assert c.daily(DAY, "vip").answered_within_t == 0
    assert c.daily_by_skill(DAY, "x").answered == 1


def test_forget_before_drops_only_older_days() -> None:
    midnight = datetime(2026, 12, 1, 0, 0, tzinfo=TZ).timestamp()
    m = replay([queued("late", midnight - 10), queued("early", midnight + 10)], CFG)
    m.forget_before(date(2026, 12, 1))
    assert m.daily(DAY, "labour").offered == 0
    assert m.daily(date(2026, 12, 1), "labour").offered == 1
    assert sum(c.offered for _, c in m.intervals(date(2026, 12, 1))) == 1
