"""Routing core: every offer has a deadline; a lost offer (no OriginateResponse, leg gone, AMI lost)
releases the agent (READY, not "missed") and puts the caller back at the front. No I/O."""

from __future__ import annotations

import pytest

from hotline.queues.dispatch_rules import ANSWERED, RINGING, ringing_offer_verdict
from hotline.queues.events import (
    AgentLoggedIn,
    AgentReady,
    AgentStateChanged,
    CallAnswered,
    CallQueued,
    OfferFailed,
)
from hotline.queues.model import Agent, AgentState, AgentStatus, QueueConfig, WaitingCall
from hotline.queues.routing import (
    LEG_END_GRACE_S,
    LOST,
    CancelOffer,
    OfferCall,
    RoutingSnapshot,
    RoutingState,
    check_invariants,
    decide,
    handle,
    next_deadline_at,
    offer_leg_ended,
    position_and_ewt,
    resume,
    suspend,
)
from hotline.telephony.calls import Leg

S = AgentStatus
RING_S = 15.0
GRACE_S = 5.0
LINE = QueueConfig("line", frozenset({"line"}), wrap_up_s=10.0, ring_timeout_s=RING_S)


def centre(*ids: str) -> RoutingState:
    """Agents ``ids`` (proficiency 5 down to 1, in that order), all READY, readied one second apart
    from t=0 (the first is the best and the longest idle)."""
    agents = [Agent(aid, {"line": max(1, 5 - i)}) for i, aid in enumerate(ids)]
    state = RoutingState.create([LINE], agents, offer_grace_s=GRACE_S)
    for i, aid in enumerate(ids):
        handle(state, AgentLoggedIn(aid, float(i)), float(i))
        handle(state, AgentReady(aid, float(i)), float(i))
    return state


def offers(out: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(o.linkedid, o.agent_id) for o in out if isinstance(o, OfferCall)]


def tick(state: RoutingState, now: float) -> list:  # type: ignore[type-arg]
    _, out = decide(state, now)
    check_invariants(state, now)
    return out


def test_given_an_offer_when_no_originate_response_by_the_deadline_then_lost_agent_ready_and_caller_to_next() -> None:
    state = centre("a", "b")  # b is ready too, less proficient
    _, out = handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    assert offers(out) == [("L1", "a")]
    deadline = 10.0 + RING_S + GRACE_S
    assert next_deadline_at(state) == deadline

    assert tick(state, deadline - 0.1) == []  # still within the ring timeout + grace
    out = tick(state, deadline)

    assert out[0] == OfferFailed("L1", "a", deadline, LOST)  # the fact for the event log
    assert CancelOffer("L1", "a") in out  # hang the leg up, drop a late OriginateResponse
    assert offers(out) == [("L1", "b")]  # the caller goes to another ready agent first
    a = state.agent_states["a"]
    assert (a.status, a.reason, a.idle_since_at) == (S.READY, None, 0.0)  # not "missed"; idle time kept
    assert AgentStateChanged("a", S.READY, deadline) in out


def test_given_the_only_agent_when_the_offer_is_lost_then_the_caller_keeps_the_front_and_is_offered_again() -> None:
    state = centre("a")
    handle(state, CallQueued("first", "U1", "line", 10.0), 10.0)
    handle(state, CallQueued("second", "U2", "line", 11.0), 11.0)
    assert position_and_ewt(state, "second", 11.0).position == 1  # type: ignore[union-attr]

    deadline = 10.0 + RING_S + GRACE_S
    out = tick(state, deadline)

    assert offers(out) == [("first", "a")]  # not "second": the first caller kept their place
    assert "first" in state.tracked_calls()  # never counted as abandoned: still queued
    assert [o for o in out if isinstance(o, OfferFailed)] == [OfferFailed("first", "a", deadline, LOST)]


def test_given_a_response_in_time_when_the_deadline_passes_then_nothing_happens() -> None:
    state = centre("a")
    handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    handle(state, CallAnswered("L1", "a", 12.0), 12.0)
    assert tick(state, 10.0 + RING_S + GRACE_S) == []
    assert state.agent_states["a"].status is S.ON_CALL


@pytest.mark.parametrize(("reason", "status", "agent_reason"), [
    ("no_answer", S.NOT_READY, "missed"),  # the OriginateResponse after the Hangup still says why
    ("busy", S.NOT_READY, "unreachable"),
    # the adapter's own verdict (AMI error, leg gone at a resync): released, then offered this caller
    # again at once (nobody else is free)
    (LOST, S.RESERVED, None),
])
def test_given_the_agent_leg_ended_when_the_response_follows_within_the_grace_then_it_decides(
        reason: str, status: AgentStatus, agent_reason: str | None) -> None:
    state = centre("a")
    handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    offer_leg_ended(state, "L1", "a", 20.0)
    handle(state, OfferFailed("L1", "a", 20.5, reason), 20.5)
    a = state.agent_states["a"]
    assert (a.status, a.reason) == (status, agent_reason)
    assert [o for o in tick(state, 20.0 + LEG_END_GRACE_S) if isinstance(o, OfferFailed)] == []  # settled


def test_given_the_agent_leg_ended_without_any_response_then_the_offer_is_lost_after_the_grace() -> None:
    state = centre("a", "b")
    handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    offer_leg_ended(state, "L1", "a", 12.0)
    assert next_deadline_at(state) == 12.0 + LEG_END_GRACE_S
    assert tick(state, 12.0 + LEG_END_GRACE_S - 0.1) == []
    out = tick(state, 12.0 + LEG_END_GRACE_S)
    assert OfferFailed("L1", "a", 12.0 + LEG_END_GRACE_S, LOST) in out
    assert offers(out) == [("L1", "b")]
    assert state.agent_states["a"].status is S.READY


def test_given_a_stale_leg_end_then_it_is_ignored() -> None:
    state = centre("a")
    handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    handle(state, CallAnswered("L1", "a", 11.0), 11.0)
    offer_leg_ended(state, "L1", "a", 12.0)
    offer_leg_ended(state, "nobody", "a", 12.0)
    assert tick(state, 12.0 + LEG_END_GRACE_S) == []


def test_given_ami_lost_when_the_deadline_passes_then_the_offer_is_held_until_resume_and_no_offer_is_made() -> None:
    state = centre("a", "b")
    handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    suspend(state)
    _, out = handle(state, CallQueued("L2", "U2", "line", 11.0), 11.0)
    assert offers(out) == []  # b is ready, but nothing can be originated
    deadline = 10.0 + RING_S + GRACE_S
    assert tick(state, deadline) == []  # nobody can tell whether a answered: a stays reserved
    assert state.agent_states["a"].status is S.RESERVED
    assert next_deadline_at(state) is None or next_deadline_at(state) > deadline  # no busy loop

    _, out = resume(state, 40.0)
    check_invariants(state, 40.0)
    assert offers(out) == [("L2", "b")]  # waiting calls routed again
    assert next_deadline_at(state) == 40.0 + GRACE_S  # the held offer is re-armed
    out = tick(state, 40.0 + GRACE_S)
    assert OfferFailed("L1", "a", 40.0 + GRACE_S, LOST) in out
    assert offers(out) == [("L1", "a")]  # nobody else free: the same agent, again
    assert state.agent_states["a"].status is S.RESERVED


def test_given_ami_lost_when_the_reconnect_finds_the_leg_gone_then_lost_and_routed_only_after_resume() -> None:
    state = centre("a", "b")
    handle(state, CallQueued("L1", "U1", "line", 10.0), 10.0)
    suspend(state)
    _, out = handle(state, OfferFailed("L1", "a", 30.0, LOST), 30.0)  # the adapter's reconciliation
    assert offers(out) == []
    assert state.agent_states["a"].status is S.READY
    assert state.tracked_calls() == {"L1": None}
    _, out = resume(state, 31.0)
    assert offers(out) == [("L1", "a")]  # best agent, the caller first in line
    check_invariants(state, 31.0)


def test_given_a_restored_ringing_offer_then_its_deadline_counts_from_the_reservation() -> None:
    call = WaitingCall("L1", "U1", "line", frozenset(), None, 0, 10.0, queue_entered_at=10.0, seq=1)
    snap = RoutingSnapshot(agent_states=(AgentState("a", S.RESERVED, 12.0, idle_since_at=1.0, linkedid="L1",
                                                    queue="line"),), calls=((call, "a"),), seq=1)
    state = RoutingState.restore([LINE], [Agent("a", {"line": 5})], snap, offer_grace_s=GRACE_S)
    check_invariants(state, 12.0)
    assert next_deadline_at(state) == 12.0 + RING_S + GRACE_S
    out = tick(state, 12.0 + RING_S + GRACE_S)
    assert OfferFailed("L1", "a", 12.0 + RING_S + GRACE_S, LOST) in out


def _leg(state: str, ended_at: float | None = None) -> Leg:
    return Leg("hlq-1", "L1", "PJSIP/1001-00000001", 10.0, state=state, ended_at=ended_at)


@pytest.mark.parametrize(("leg", "verdict"), [
    (None, LOST),  # never shown by Asterisk: the Originate never rang, or the leg ended unseen
    (_leg("Ringing", ended_at=20.0), LOST),  # ended (or found gone at the resync) without a response
    (_leg("Up"), ANSWERED),  # the agent answered while we were not listening: Bridge() runs
    (_leg("Ringing"), RINGING),  # its OriginateResponse will come (or the deadline)
])
def test_given_a_ringing_offer_when_its_agent_leg_is_seen_at_a_resync_then_the_verdict(
        leg: Leg | None, verdict: str) -> None:
    assert ringing_offer_verdict(leg) == verdict
