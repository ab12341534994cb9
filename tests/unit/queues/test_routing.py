"""Routing core: policy scenarios (table-driven) and invariants over random event sequences."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.queues.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentReady,
    AgentSkillsChanged,
    AgentStateChanged,
    AnsweredCallEnded,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallQueued,
    CallTransferred,
    OfferFailed,
    WrapUpEnded,
)
from hotline.queues.exceptions import IllegalTransition, InvalidQueueConfig, UnknownQueue
from hotline.queues.model import (
    Agent,
    AgentOrder,
    AgentState,
    AgentStatus,
    ExpansionStep,
    MaxWaitAction,
    QueueConfig,
    WaitingCall,
)
from hotline.queues.routing import (
    CancelOffer,
    OfferCall,
    OfferCallback,
    OverflowCall,
    RoutingSnapshot,
    RoutingState,
    SendToVoicemail,
    check_invariants,
    decide,
    handle,
    naive_pick_agent,
    naive_pick_call,
    next_deadline_at,
    pick_agent_for_call,
    pick_call_for_agent,
    position_and_ewt,
    start_new_day,
)
from tests.unit.queues.sim import LANGS, QUEUE_NAMES, SKILLS, Harness, agent_defs, draw_event, make_queues

S = AgentStatus
LABOUR = QueueConfig(
    "labour",
    frozenset({"labour"}),
    wrap_up_s=10.0,
    min_proficiency=4,
    expansion=(ExpansionStep(10.0, min_proficiency=2), ExpansionStep(30.0, any_in_group=True)),
    group="front",
    ageing_per_s=0.5,
)


def offers(outputs: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(o.linkedid, o.agent_id) for o in outputs if isinstance(o, OfferCall)]


def centre(
    agents: list[Agent], queues: list[QueueConfig] | None = None, order: AgentOrder = AgentOrder.LONGEST_IDLE
) -> RoutingState:
    return RoutingState.create(queues or [LABOUR], agents, order)


def ready_all(state: RoutingState, ids: list[str], start: float = 0.0) -> float:
    """Log in and ready the agents one second apart (so the first is the longest idle)."""
    now = start
    for aid in ids:
        handle(state, AgentLoggedIn(aid, now), now)
        handle(state, AgentReady(aid, now), now)
        now += 1.0
    return now


def feed(state: RoutingState, *events) -> list:  # type: ignore[no-untyped-def, type-arg]
    out: list = []  # type: ignore[type-arg]
    for ev in events:
        decide(state, ev.at, out)
        out += handle(state, ev, ev.at)[1]
        check_invariants(state, ev.at)
    return out


# --- policy scenarios -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "order", "expected"),
    [
        # best proficiency beats longest idle
        ([Agent("a1", {"labour": 4}), Agent("a2", {"labour": 5})], AgentOrder.LONGEST_IDLE, "a2"),
        # equal proficiency: the longest idle (readied first) wins
        ([Agent("a1", {"labour": 5}), Agent("a2", {"labour": 5})], AgentOrder.LONGEST_IDLE, "a1"),
        # below the queue's minimum level: nobody (yet)
        ([Agent("a1", {"labour": 3}), Agent("a2", {"housing": 5})], AgentOrder.LONGEST_IDLE, None),
    ],
)
def test_given_ready_agents_when_call_arrives_then_best_match_is_offered(
    agents: list[Agent], order: AgentOrder, expected: str | None
) -> None:
    state = centre(agents, order=order)
    now = ready_all(state, [a.id for a in agents])
    out = feed(state, CallQueued("L1", "U1", "labour", now))
    assert offers(out) == ([("L1", expected)] if expected else [])


def test_given_fewest_calls_order_when_equal_proficiency_then_agent_with_fewer_calls_today_wins() -> None:
    agents = [Agent("a1", {"labour": 5}), Agent("a2", {"labour": 5})]
    state = RoutingState.restore(
        [LABOUR],
        agents,
        RoutingSnapshot(
            agent_states=(
                AgentState("a1", S.READY, 0.0, idle_since_at=0.0, calls_today=9),
                AgentState("a2", S.READY, 0.0, idle_since_at=50.0, calls_today=2),
            ),
            calls=(),
        ),
        order=AgentOrder.FEWEST_CALLS,
    )
    assert offers(feed(state, CallQueued("L1", "U1", "labour", 60.0))) == [("L1", "a2")]


def test_given_call_needs_cantonese_when_only_mandarin_agent_ready_then_it_waits() -> None:
    state = centre([Agent("a1", {"labour": 5}, frozenset({"zh"})), Agent("a2", {"labour": 4}, frozenset({"yue"}))])
    ready_all(state, ["a1"])
    assert offers(feed(state, CallQueued("L1", "U1", "labour", 5.0, language="yue"))) == []
    assert offers(feed(state, AgentLoggedIn("a2", 6.0), AgentReady("a2", 6.0))) == [("L1", "a2")]


def test_given_only_junior_agent_when_expansion_time_passes_then_call_is_offered_to_them() -> None:
    state = centre([Agent("a1", {"labour": 2})])
    ready_all(state, ["a1"])
    assert offers(feed(state, CallQueued("L1", "U1", "labour", 100.0))) == []
    assert next_deadline_at(state) == 110.0
    assert offers(decide(state, 109.75)[1]) == []
    assert offers(decide(state, 110.0)[1]) == [("L1", "a1")]


def test_given_unskilled_agent_of_the_group_when_group_step_reached_then_they_take_the_call() -> None:
    state = centre([Agent("g1", {"housing": 5}, groups=frozenset({"front"})), Agent("x", {})])
    ready_all(state, ["x", "g1"])
    feed(state, CallQueued("L1", "U1", "labour", 100.0))
    assert offers(decide(state, 129.0)[1]) == []
    assert offers(decide(state, 130.0)[1]) == [("L1", "g1")]


def test_given_two_waiting_calls_when_agent_ready_then_higher_priority_is_served_first() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    feed(state, CallQueued("old", "U1", "labour", 0.0), CallQueued("vip", "U2", "labour", 1.0, priority=3))
    out = feed(state, AgentLoggedIn("a1", 2.0), AgentReady("a1", 2.0))
    assert offers(out) == [("vip", "a1")]


def test_given_ageing_when_low_priority_call_waited_long_then_it_overtakes_a_fresh_high_priority() -> None:
    # ageing 0.5 point/s: after 10 s of extra wait the old call gains 5 > 3 points
    state = centre([Agent("a1", {"labour": 5})])
    feed(state, CallQueued("old", "U1", "labour", 0.0), CallQueued("vip", "U2", "labour", 10.0, priority=3))
    out = feed(state, AgentLoggedIn("a1", 11.0), AgentReady("a1", 11.0))
    assert offers(out) == [("old", "a1")]


def test_given_ring_no_answer_then_agent_is_missed_and_caller_keeps_front_of_line() -> None:
    state = centre([Agent("a1", {"labour": 5}), Agent("a2", {"labour": 5})])
    ready_all(state, ["a1"])
    assert offers(feed(state, CallQueued("first", "U1", "labour", 10.0))) == [("first", "a1")]
    feed(state, CallQueued("second", "U2", "labour", 11.0))
    out = feed(state, OfferFailed("first", "a1", 25.0, "no_answer"))
    assert state.agent_states["a1"].status is S.NOT_READY
    assert state.agent_states["a1"].reason == "missed"
    assert AgentStateChanged("a1", S.NOT_READY, 25.0, "missed") in out
    assert position_and_ewt(state, "first", 25.0).position == 1  # type: ignore[union-attr]
    assert offers(feed(state, AgentLoggedIn("a2", 26.0), AgentReady("a2", 26.0))) == [("first", "a2")]


def test_given_busy_endpoint_when_offer_fails_then_agent_is_unreachable() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0), OfferFailed("L1", "a1", 6.0, "busy"))
    assert state.agent_states["a1"].reason == "unreachable"


def test_given_caller_hangs_up_while_ringing_then_offer_is_cancelled_and_agent_takes_next_call() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0), CallQueued("L2", "U2", "labour", 6.0))
    out = feed(state, CallAbandoned("L1", 8.0))
    assert CancelOffer("L1", "a1") in out
    assert offers(out) == [("L2", "a1")]
    assert state.agent_states["a1"].idle_since_at == 0.0  # kept its place


def test_given_agent_in_wrap_up_when_call_arrives_then_it_waits_until_wrap_up_ends() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0), CallAnswered("L1", "a1", 7.0), AnsweredCallEnded("L1", 67.0))
    assert state.agent_states["a1"].status is S.WRAP_UP
    assert offers(feed(state, CallQueued("L2", "U2", "labour", 70.0))) == []
    assert offers(decide(state, 77.0)[1]) == [("L2", "a1")]
    assert state.recent_aht_s("labour") == 70.0  # 60 s talk + 10 s wrap-up


def test_given_agent_ends_wrap_up_early_then_they_are_offered_the_waiting_call() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0), CallAnswered("L1", "a1", 7.0), AnsweredCallEnded("L1", 20.0))
    feed(state, CallQueued("L2", "U2", "labour", 21.0))
    assert offers(feed(state, WrapUpEnded("a1", 22.0))) == [("L2", "a1")]


def test_given_overflow_rule_when_call_waits_too_long_then_it_moves_and_is_offered_there() -> None:
    general = QueueConfig("general", frozenset({"general"}))
    labour = QueueConfig("labour", frozenset({"labour"}), overflow_queue="general", overflow_after_s=15.0)
    state = centre([Agent("g", {"general": 3})], [labour, general])
    ready_all(state, ["g"])
    feed(state, CallQueued("L1", "U1", "labour", 10.0))
    out = decide(state, 25.0)[1]
    assert OverflowCall("L1", "U1", "labour", "general") in out
    assert offers(out) == [("L1", "g")]


@pytest.mark.parametrize(
    ("action", "expected", "still_queued"),
    [
        (MaxWaitAction.CALLBACK, OfferCallback("L1", "U1", "q"), True),
        (MaxWaitAction.VOICEMAIL, SendToVoicemail("L1", "U1", "q"), False),
    ],
)
def test_given_max_wait_when_reached_then_callback_or_voicemail_is_offered_once(
    action: MaxWaitAction, expected: object, still_queued: bool
) -> None:
    q = QueueConfig("q", frozenset({"x"}), max_wait_s=120.0, max_wait_action=action)
    state = centre([Agent("a1", {"y": 5})], [q])
    feed(state, CallQueued("L1", "U1", "q", 0.0))
    assert expected in decide(state, 120.0)[1]
    assert decide(state, 500.0)[1] == []
    assert ("L1" in state.tracked_calls()) is still_queued
    if still_queued:
        feed(state, CallbackRequested("L1", 130.0))
        assert state.tracked_calls() == {}


def test_given_agent_logged_out_while_ringing_then_call_goes_to_next_agent() -> None:
    state = centre([Agent("a1", {"labour": 5}), Agent("a2", {"labour": 4})])
    ready_all(state, ["a1", "a2"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0))
    out = feed(state, AgentLoggedOut("a1", 6.0))
    assert CancelOffer("L1", "a1") in out
    assert offers(out) == [("L1", "a2")]
    assert state.agent_states["a1"].status is S.LOGGED_OUT


def test_position_and_ewt_follow_the_documented_formula() -> None:
    state = centre([Agent("a1", {"labour": 5}), Agent("a2", {"labour": 2})])
    ready_all(state, ["a1", "a2"])
    feed(state, CallQueued("L1", "U1", "labour", 10.0), CallAnswered("L1", "a1", 12.0))
    feed(state, CallQueued("L2", "U2", "labour", 13.0), CallQueued("L3", "U3", "labour", 14.0))
    # a2 (level 2) is READY but not yet eligible; a1 on call: N = 2 agents, default AHT 180 s
    pos = position_and_ewt(state, "L3", 15.0)
    assert pos is not None
    assert pos.position == 2
    assert pos.ewt_s == pytest.approx(2 * 180.0 / 2)


def test_given_a_shared_serving_cache_when_many_positions_asked_then_same_answers_and_agents_counted_once() -> None:
    state = centre([Agent("a1", {"labour": 5}), Agent("a2", {"labour": 2}), Agent("a3", {"commerce": 3})])
    ready_all(state, ["a1", "a2", "a3"])
    feed(state, CallQueued("L1", "U1", "labour", 10.0), CallAnswered("L1", "a1", 12.0))
    feed(state, CallQueued("L2", "U2", "labour", 13.0), CallQueued("L3", "U3", "labour", 14.0))
    cache: dict[frozenset[str], int] = {}
    for lid in ("L2", "L3"):
        assert position_and_ewt(state, lid, 15.0, cache) == position_and_ewt(state, lid, 15.0)
    assert cache == {frozenset({"labour"}): 2}  # a1 on call + a2 ready; a3 lacks the skill


def test_given_illegal_event_then_error_is_typed_and_state_unchanged() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0), CallAnswered("L1", "a1", 6.0))
    before = state.snapshot()
    with pytest.raises(IllegalTransition) as err:
        handle(state, AgentPaused("a1", "break", 7.0), 7.0)
    assert err.value.linkedid == "L1"
    assert state.snapshot() == before


def test_given_unknown_queue_then_error_is_raised() -> None:
    with pytest.raises(UnknownQueue):
        handle(centre([]), CallQueued("L1", "U1", "nope", 0.0), 0.0)


def test_given_overflow_to_undefined_queue_then_config_is_rejected() -> None:
    with pytest.raises(InvalidQueueConfig):
        centre([], [QueueConfig("a", overflow_queue="b", overflow_after_s=5.0)])


def test_given_stale_events_after_a_race_then_they_are_ignored() -> None:
    state = centre([Agent("a1", {"labour": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0), CallAbandoned("L1", 6.0))
    assert handle(state, OfferFailed("L1", "a1", 7.0), 7.0)[1] == []
    assert handle(state, CallAnswered("L1", "a1", 7.0), 7.0)[1] == []
    assert handle(state, AnsweredCallEnded("L1", 7.0), 7.0)[1] == []
    assert state.agent_states["a1"].status is S.READY


def test_given_snapshot_when_restored_then_decisions_are_identical() -> None:
    queues = make_queues()
    agents = [
        Agent("a1", {"labour": 5}, frozenset({"zh"})),
        Agent("a2", {"housing": 2, "commerce": 4}, frozenset({"zh"})),
    ]
    live = RoutingState.create(queues, agents)
    events = [
        CallQueued("L1", "U1", "labour", 0.0),
        CallQueued("L2", "U2", "housing", 1.0, language="zh"),
        AgentLoggedIn("a2", 2.0),
    ]
    for ev in events:
        handle(live, ev, ev.at)
    restored = RoutingState.restore(queues, agents, live.snapshot())
    tail = [AgentReady("a2", 3.0), AgentLoggedIn("a1", 4.0), AgentReady("a1", 4.0)]
    for now in (3.0, 4.0, 8.0, 30.0):
        assert decide(live, now)[1] == decide(restored, now)[1]
    for ev in tail:
        assert handle(live, ev, ev.at)[1] == handle(restored, ev, ev.at)[1]
    assert live.snapshot() == restored.snapshot()


# --- property tests ----------------------------------------------------------------------------------

TERMINAL = {CallAbandoned: "abandoned", CallbackRequested: "called_back", CallTransferred: "transferred"}


def step(state: RoutingState, ev, now: float, h: Harness) -> None:  # type: ignore[no-untyped-def]
    """Apply one event, check the per-event invariants, update the harness."""
    before = state.snapshot()
    statuses = {aid: s.status for aid, s in state.agent_states.items()}
    tracked_before = state.tracked_calls()
    try:
        _, out = handle(state, ev, now)
    except IllegalTransition:
        assert state.snapshot() == before, "a refused event changed the state"
        return
    if isinstance(ev, CallQueued):
        h.queued.add(ev.linkedid)
    elif type(ev) in TERMINAL and ev.linkedid in tracked_before:
        h.ended[ev.linkedid] = TERMINAL[type(ev)]
    elif isinstance(ev, CallAnswered) and ev.linkedid in tracked_before:
        h.ended[ev.linkedid] = "answered"
    check_outputs(statuses, out, h)


def check_outputs(statuses: dict[str, AgentStatus], out: list, h: Harness) -> None:  # type: ignore[type-arg]
    for o in out:
        if isinstance(o, AgentStateChanged):
            if o.status is S.RESERVED:
                assert statuses[o.agent_id] is S.READY, f"{o.agent_id} offered a call while {statuses[o.agent_id]}"
            statuses[o.agent_id] = o.status
        elif isinstance(o, OfferCall):
            assert statuses[o.agent_id] is S.RESERVED
        elif isinstance(o, SendToVoicemail):
            h.ended[o.linkedid] = "voicemail"


def check_no_call_lost(state: RoutingState, h: Harness) -> None:
    tracked = set(state.tracked_calls())
    assert not tracked & set(h.ended), "a call both ended and still queued"
    assert tracked | set(h.ended) == h.queued, "a call vanished without an outcome"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), agents=agent_defs(), voicemail=st.booleans())
def test_random_event_sequences_keep_every_routing_invariant(
    data: st.DataObject, agents: list[Agent], voicemail: bool
) -> None:
    state = RoutingState.create(make_queues(voicemail), agents)
    h = Harness()
    now = 0.0
    for _ in range(data.draw(st.integers(5, 60))):
        now += data.draw(st.sampled_from((0.0, 0.25, 1.0, 3.0, 12.5)))
        statuses = {aid: s.status for aid, s in state.agent_states.items()}
        check_outputs(statuses, decide(state, now)[1], h)
        check_invariants(state, now)
        ev = draw_event(data.draw, state, now, h)
        if ev is not None:
            step(state, ev, now, h)
        check_invariants(state, now)
        check_no_call_lost(state, h)
        # differential on a hypothetical new caller, against the live indexes
        probe = WaitingCall(
            "probe",
            "p",
            data.draw(st.sampled_from(QUEUE_NAMES)),
            skills=data.draw(st.frozensets(st.sampled_from(SKILLS), max_size=2)),
            language=data.draw(st.one_of(st.none(), st.sampled_from(LANGS))),
            enqueued_at=now - data.draw(st.sampled_from((0.0, 6.0, 11.0, 25.0))),
        )
        assert pick_agent_for_call(state, probe, now) == naive_pick_agent(state, probe, now)
    # drain: every agent works until no call is left; each call ends with an outcome
    for _ in range(40):
        if not state.tracked_calls():
            break
        now += 30.0
        statuses = {aid: s.status for aid, s in state.agent_states.items()}
        check_outputs(statuses, decide(state, now)[1], h)
        for aid in sorted(state.agents):
            stt = state.agent_states[aid]
            ev = {
                S.LOGGED_OUT: AgentLoggedIn(aid, now),
                S.NOT_READY: AgentReady(aid, now),
                S.RESERVED: CallAnswered(stt.linkedid or "", aid, now),
                S.ON_CALL: AnsweredCallEnded(stt.linkedid or "", now),
            }.get(stt.status)
            if ev is not None:
                step(state, ev, now, h)
    for lid in sorted(state.tracked_calls()):  # nobody can serve them (language/skill): they hang up
        step(state, CallAbandoned(lid, now), now, h)
    check_no_call_lost(state, h)
    assert set(h.ended) == h.queued
    decide(state, now + 1000.0)  # wrap-up always ends by itself
    assert not [a for a, s in state.agent_states.items() if s.status is S.WRAP_UP]
    assert set(h.ended.values()) <= {"answered", "abandoned", "transferred", "called_back", "voicemail"}


@st.composite
def random_centre(draw: st.DrawFn) -> tuple[RoutingState, float]:
    """A state restored from a random snapshot: READY agents and waiting calls side by side."""
    agents = draw(agent_defs(2, 10))
    states = []
    for i, a in enumerate(agents):
        status = draw(st.sampled_from((S.READY, S.READY, S.NOT_READY, S.ON_CALL, S.LOGGED_OUT)))
        extra = {"linkedid": f"busy{i}", "queue": "labour"} if status is S.ON_CALL else {}
        states.append(
            AgentState(
                a.id,
                status,
                0.0,
                idle_since_at=draw(st.sampled_from((0.0, 1.0, 2.0))),
                calls_today=draw(st.integers(0, 3)),
                **extra,  # type: ignore[arg-type]
            )
        )
    now = 100.0
    calls = []
    for i in range(draw(st.integers(0, 25))):
        calls.append(
            (
                WaitingCall(
                    f"c{i}",
                    f"u{i}",
                    draw(st.sampled_from(QUEUE_NAMES)),
                    skills=draw(st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(SKILLS), max_size=3))),
                    language=draw(st.one_of(st.none(), st.sampled_from(LANGS))),
                    priority=draw(st.integers(0, 3)),
                    enqueued_at=now - draw(st.sampled_from((0.0, 2.0, 4.0, 6.0, 12.0, 25.0))),
                    seq=i + 1,
                ),
                None,
            )
        )
    order = draw(st.sampled_from(list(AgentOrder)))
    snap = RoutingSnapshot(tuple(states), tuple(calls), seq=len(calls))
    return RoutingState.restore(make_queues(), agents, snap, order=order), now


@settings(max_examples=200, deadline=None)
@given(centre_now=random_centre())
def test_fast_path_picks_the_same_agent_and_call_as_the_naive_scan(centre_now: tuple[RoutingState, float]) -> None:
    state, now = centre_now
    for call in state.waiting_calls():
        assert pick_agent_for_call(state, call, now) == naive_pick_agent(state, call, now), call
    for aid in state.agents:
        assert pick_call_for_agent(state, aid, now) == naive_pick_call(state, aid, now), aid


@st.composite
def busy_centre(draw: st.DrawFn) -> tuple[RoutingState, float, list[WaitingCall]]:
    """A larger restored centre with real-world floats (ageing 0.01/s, ages in fractions of a second).

    Unlike :func:`random_centre` (exact binary fractions), ranks here go through ordinary float
    rounding, many calls share a queue, language and skills but differ in priority and age, and
    expansion steps fall between their ages: what the indexed agent-ready path (oldest call per
    priority, class upper bound) must get exactly as right as the full scan.
    """
    skills = [f"s{i}" for i in range(draw(st.integers(1, 6)))]
    queues = []
    for i in range(draw(st.integers(1, 5))):
        steps = []
        if draw(st.booleans()):
            steps.append(ExpansionStep(draw(st.floats(0, 120)), min_proficiency=draw(st.integers(1, 4))))
        group = draw(st.sampled_from((None, "g0", "g1")))
        if group is not None and draw(st.booleans()):
            steps.append(ExpansionStep(draw(st.floats(0, 200)), any_in_group=True))
        queues.append(
            QueueConfig(
                f"q{i}",
                frozenset(draw(st.lists(st.sampled_from(skills), min_size=0 if i == 0 else 1, max_size=2))),
                min_proficiency=draw(st.integers(1, 5)),
                expansion=tuple(sorted(steps, key=lambda x: x.after_s)),
                group=group,
                ageing_per_s=draw(st.sampled_from((0.0, 0.01, 0.05, 0.3))),
            )
        )
    agents, states = [], []
    now = 1_700_000_000.123
    for i in range(draw(st.integers(1, 25))):
        own = draw(st.dictionaries(st.sampled_from(skills), st.integers(1, 5), min_size=1, max_size=4))
        langs = draw(st.frozensets(st.sampled_from(LANGS), min_size=1, max_size=2))
        groups = draw(st.frozensets(st.sampled_from(("g0", "g1")), max_size=2))
        agents.append(Agent(f"a{i:02d}", own, langs, groups))
        status = draw(st.sampled_from((S.READY, S.READY, S.NOT_READY)))
        idle = now - draw(st.floats(0, 600))
        reason = "break" if status is S.NOT_READY else None
        states.append(AgentState(f"a{i:02d}", status, now - 700.0, idle_since_at=idle,
                                 calls_today=draw(st.integers(0, 5)), reason=reason))
    calls = []
    for i in range(draw(st.integers(0, 80))):
        q = draw(st.sampled_from(queues))
        extra = draw(st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(skills), min_size=1, max_size=3)))
        calls.append((WaitingCall(
            f"c{i:03d}", f"u{i:03d}", q.name, skills=extra,
            language=draw(st.one_of(st.none(), st.sampled_from(LANGS))),
            priority=draw(st.integers(0, 4)),
            enqueued_at=now - draw(st.floats(0, 300)),
            seq=i + 1,
        ), None))
    order = draw(st.sampled_from(list(AgentOrder)))
    state = RoutingState.restore(queues, agents, RoutingSnapshot(tuple(states), tuple(calls), seq=len(calls)), order)
    probes = [
        WaitingCall(f"p{i}", f"pu{i}", q.name, skills=frozenset(draw(st.lists(st.sampled_from(skills), max_size=3))),
                    language=draw(st.one_of(st.none(), st.sampled_from(LANGS))),
                    enqueued_at=now - draw(st.floats(0, 300)))
        for i, q in enumerate(draw(st.lists(st.sampled_from(queues), max_size=8)))
    ]
    return state, now, probes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(centre=busy_centre(), later_s=st.sampled_from((0.0, 0.37, 29.99, 61.5, 250.0)))
def test_given_random_busy_centre_when_deciding_then_indexed_path_equals_full_scan(
    centre: tuple[RoutingState, float, list[WaitingCall]], later_s: float
) -> None:
    state, now, probes = centre
    now += later_s  # decisions are read-only: a later ``now`` crosses expansion steps and ageing
    for aid in state.agents:  # whatever the status: pick_call_for_agent does not look at it
        assert pick_call_for_agent(state, aid, now) == naive_pick_call(state, aid, now), aid
    for call in state.waiting_calls() + probes:
        assert pick_agent_for_call(state, call, now) == naive_pick_agent(state, call, now), call


def test_given_ready_agent_gains_a_skill_then_waiting_call_is_offered_to_them() -> None:
    state = centre([Agent("a1", {"housing": 5})])
    ready_all(state, ["a1"])
    feed(state, CallQueued("L1", "U1", "labour", 5.0))
    out = feed(state, AgentSkillsChanged(Agent("a1", {"housing": 5, "labour": 4}), 6.0))
    assert offers(out) == [("L1", "a1")]


def test_given_new_day_then_fewest_calls_order_restarts_from_zero() -> None:
    agents = [Agent("a1", {"labour": 5}), Agent("a2", {"labour": 5})]
    state = RoutingState.restore(
        [LABOUR],
        agents,
        RoutingSnapshot(
            agent_states=(
                AgentState("a1", S.READY, 0.0, idle_since_at=0.0, calls_today=9),
                AgentState("a2", S.READY, 0.0, idle_since_at=50.0, calls_today=2),
            ),
            calls=(),
        ),
        order=AgentOrder.FEWEST_CALLS,
    )
    start_new_day(state)
    check_invariants(state, 60.0)
    assert offers(feed(state, CallQueued("L1", "U1", "labour", 60.0))) == [("L1", "a1")]  # now longest idle
