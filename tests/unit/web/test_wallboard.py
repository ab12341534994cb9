"""The wallboard snapshot: numbers from the metrics core, labelled SL, skills coverage, Erlang C."""

from __future__ import annotations

from hotline.queues.events import AgentStateChanged, CallAbandoned, CallAnswered, CallQueued
from hotline.queues.metrics import MetricsConfig, MetricsState
from hotline.queues.model import AgentStatus
from hotline.web.providers import AgentRow, QueueRow, SlaCard, WaitingRow
from hotline.web.wallboard import build_board, sl_label

T0 = 1_767_232_800.0  # 2026-01-01 10:00 Asia/Shanghai
S = AgentStatus


def _metrics() -> MetricsState:
    m = MetricsState(MetricsConfig(queue_skills={"commerce": frozenset({"commerce"})}))
    m.apply(CallQueued("a", "a", "commerce", T0))
    m.apply(CallAnswered("a", "1272", T0 + 10))  # within 20 s
    m.apply(CallQueued("b", "b", "commerce", T0 + 60))
    m.apply(CallAnswered("b", "1272", T0 + 100))  # 40 s: late
    m.apply(CallQueued("c", "c", "commerce", T0 + 120))
    m.apply(CallAbandoned("c", T0 + 150))
    m.apply(CallQueued("d", "d", "commerce", T0 + 200))  # still waiting
    return m


def _board(**kw: object) -> dict:
    queues = [QueueRow("commerce", ("commerce",), 20.0)]
    agents = [AgentRow("1272", S.READY, None, T0 + 100, {"commerce": 3}),
              AgentRow("1273", S.NOT_READY, "lunch", T0 + 50, {"commerce": 2, "general": 3}),
              AgentRow("1274", S.LOGGED_OUT, None, T0, {"general": 1})]
    waiting = [WaitingRow("d", "commerce", ("commerce",), T0 + 200)]
    return build_board(_metrics(), queues, agents, waiting, {}, T0 + 260, **kw)  # type: ignore[arg-type]


def test_given_day_of_calls_when_board_built_then_queue_row_has_sl2_asa_and_abandon_rate() -> None:
    q = _board()["queues"][0]
    assert (q["offered"], q["answered"], q["abandoned"], q["waiting"]) == (4, 2, 1, 1)
    assert q["longest_wait_s"] == 60.0
    assert q["sl_ratio"] == round(1 / 3, 3)  # SL2 = A_T / (A + Ab)
    assert q["service_levels"]["SL1"] == 0.5
    assert q["asa_s"] == 25.0
    assert q["abandon_ratio"] == 0.25
    assert q["sl_below_target"] is True


def test_given_sl2_when_labelled_then_label_states_the_formula_and_threshold() -> None:
    assert _board()["sl_label"] == "SL2: answered within 20 s / (answered + abandoned)"
    assert sl_label("SL1", 30) == "SL1: answered within 30 s / answered"


def test_given_agents_when_board_built_then_grid_excludes_logged_out_and_keeps_pause_reason() -> None:
    b = _board()
    assert [(a["agent_id"], a["status"], a["reason"]) for a in b["agents"]] == [
        ("1272", "ready", None), ("1273", "not_ready", "lunch")]
    assert b["agents"][1]["time_in_state_s"] == 210.0
    assert b["agent_counts"]["logged_out"] == 1


def test_given_waiting_call_when_board_built_then_skill_coverage_counts_waiting_vs_ready() -> None:
    skills = {s["skill"]: s for s in _board()["skills"]}
    assert (skills["commerce"]["waiting"], skills["commerce"]["ready"], skills["commerce"]["logged_in"]) == (1, 1, 2)
    assert skills["general"]["ready"] == 0


def test_given_interval_with_calls_when_board_built_then_erlang_needed_and_future_intervals_empty() -> None:
    b = _board()
    rows = {r["label"]: r for r in b["intervals"]}
    assert len(b["intervals"]) == 96
    assert rows["10:00"]["offered"] == 4 and rows["10:00"]["agents_needed"] >= 1
    assert rows["10:15"]["offered"] is None
    assert rows["09:45"]["agents_needed"] == 0


def test_given_no_sla_provider_then_panel_says_not_configured_else_cards_listed() -> None:
    assert _board()["sla"] == {"configured": False, "cards": []}
    card = SlaCard("RT#12", "noise complaint", "environment", T0 + 600, "yellow")
    assert _board(sla_cards=[card])["sla"]["cards"][0]["level"] == "yellow"


def test_given_agent_facts_when_staffing_read_from_the_metrics_then_logged_in_seconds_split_per_interval() -> None:
    m = MetricsState()
    m.apply(AgentStateChanged("1272", S.NOT_READY, T0 + 600))
    m.apply(AgentStateChanged("1272", S.READY, T0 + 700))
    m.apply(AgentStateChanged("1272", S.LOGGED_OUT, T0 + 1000))
    m.apply(AgentStateChanged("1273", S.READY, T0 + 1700))  # still logged in: counted up to now
    assert m.staffing(T0 + 2000) == {T0: 300.0, T0 + 900: 200.0, T0 + 1800: 200.0}


def test_given_an_ivr_abandon_then_the_board_counts_the_call_with_its_node() -> None:
    from hotline.queues.events import IvrEnded, IvrEntered

    m = _metrics()
    m.apply(IvrEntered("z", "z", T0 + 5))
    m.apply(IvrEnded("z", "z", "abandoned", "main", ("language", "main"), "caller_hung_up", T0 + 9))
    b = build_board(m, [QueueRow("commerce", ("commerce",), 20.0)], [], [], {}, T0 + 260)
    c = b["calls"]
    counts = (c["offered_hotline"], c["reached_ivr"], c["abandoned_ivr"], c["offered_queue"], c["direct"])
    assert counts == (5, 1, 1, 4, 4)
    assert c["abandoned_ivr_by_node"] == [{"key": "main", "calls": 1}]
    assert c["balanced"] is True
    assert b["totals"]["offered"] == 4  # offers to queues: the IVR abandon never reached one


def test_given_offers_to_a_queue_not_configured_then_it_still_has_a_row_and_rows_add_up() -> None:
    m = _metrics()
    m.apply(CallQueued("x", "x", "retired_queue", T0 + 30))
    b = build_board(m, [QueueRow("commerce", ("commerce",), 20.0)], [], [], {}, T0 + 260)
    assert [q["name"] for q in b["queues"]] == ["commerce", "retired_queue"]
    assert sum(q["offered"] for q in b["queues"]) == b["totals"]["offered"] == 5
