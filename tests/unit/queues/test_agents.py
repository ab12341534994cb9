"""The agent state machine: legal transitions and the ones it refuses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hotline.queues import agents as sm
from hotline.queues.exceptions import IllegalTransition
from hotline.queues.model import AgentState, AgentStatus

S = AgentStatus


def at(status: AgentStatus, **kw: object) -> AgentState:
    base = {"linkedid": "L1", "queue": "q"} if status in (S.RESERVED, S.ON_CALL, S.WRAP_UP) else {}
    base.update(kw)
    return AgentState("a1", status, state_since_at=10.0, idle_since_at=5.0, **base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "step", "status", "reason"),
    [
        (S.LOGGED_OUT, lambda s: sm.login(s, 100.0), S.NOT_READY, "after_login"),
        (S.NOT_READY, lambda s: sm.ready(s, 100.0), S.READY, None),
        (S.WRAP_UP, lambda s: sm.ready(s, 100.0), S.READY, None),
        (S.READY, lambda s: sm.pause(s, "lunch", 100.0), S.NOT_READY, "lunch"),
        (S.WRAP_UP, lambda s: sm.pause(s, "break", 100.0), S.NOT_READY, "break"),
        (S.READY, lambda s: sm.reserve(s, "L2", "q", 100.0), S.RESERVED, None),
        (S.RESERVED, lambda s: sm.ring_no_answer(s, 100.0), S.NOT_READY, "missed"),
        (S.RESERVED, lambda s: sm.offer_cancelled(s, 100.0), S.READY, None),
        (S.RESERVED, lambda s: sm.answered(s, "L1", 100.0), S.ON_CALL, None),
        (S.ON_CALL, lambda s: sm.hung_up(s, 30.0, 100.0), S.WRAP_UP, None),
        (S.WRAP_UP, lambda s: sm.wrap_up_expired(s, 100.0), S.READY, None),
        (S.READY, lambda s: sm.logout(s, 100.0), S.LOGGED_OUT, None),
        (S.NOT_READY, lambda s: sm.logout(s, 100.0), S.LOGGED_OUT, None),
    ],
)
def test_given_status_when_legal_transition_then_new_status_and_time_in_state_restarts(
    start: AgentStatus, step: Callable[[AgentState], AgentState], status: AgentStatus, reason: str | None
) -> None:
    new = step(at(start, wrap_up_until_at=90.0) if start is S.WRAP_UP else at(start))
    assert new.status is status
    assert new.reason == reason
    assert new.state_since_at == 100.0
    assert new.time_in_state_s(130.0) == 30.0


@pytest.mark.parametrize(
    ("start", "step"),
    [
        (S.LOGGED_OUT, lambda s: sm.ready(s, 1.0)),
        (S.READY, lambda s: sm.login(s, 1.0)),
        (S.NOT_READY, lambda s: sm.reserve(s, "L2", "q", 1.0)),
        (S.WRAP_UP, lambda s: sm.reserve(s, "L2", "q", 1.0)),
        (S.RESERVED, lambda s: sm.reserve(s, "L2", "q", 1.0)),
        (S.ON_CALL, lambda s: sm.reserve(s, "L2", "q", 1.0)),
        (S.READY, lambda s: sm.answered(s, "L1", 1.0)),
        (S.RESERVED, lambda s: sm.answered(s, "OTHER", 1.0)),
        (S.ON_CALL, lambda s: sm.pause(s, "break", 1.0)),
        (S.ON_CALL, lambda s: sm.logout(s, 1.0)),
        (S.RESERVED, lambda s: sm.logout(s, 1.0)),
        (S.READY, lambda s: sm.hung_up(s, 10.0, 1.0)),
        (S.READY, lambda s: sm.ring_no_answer(s, 1.0)),
    ],
)
def test_given_status_when_illegal_transition_then_illegal_transition_is_raised(
    start: AgentStatus, step: Callable[[AgentState], AgentState]
) -> None:
    with pytest.raises(IllegalTransition) as err:
        step(at(start))
    assert err.value.agent_id == "a1"
    assert err.value.from_status == start.value


def test_given_wrap_up_timer_running_when_expiry_is_claimed_early_then_it_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        sm.wrap_up_expired(at(S.WRAP_UP, wrap_up_until_at=200.0), 150.0)


def test_given_wrap_up_when_hung_up_then_timer_is_now_plus_queue_wrap_up() -> None:
    assert sm.hung_up(at(S.ON_CALL), 45.0, 100.0).wrap_up_until_at == 145.0


def test_given_offer_withdrawn_then_agent_keeps_idle_position_but_ready_resets_it() -> None:
    assert sm.offer_cancelled(at(S.RESERVED), 100.0).idle_since_at == 5.0
    assert sm.ready(at(S.NOT_READY), 100.0).idle_since_at == 100.0


def test_answered_counts_calls_today_and_new_day_resets_it() -> None:
    on_call = sm.answered(at(S.RESERVED, calls_today=4), "L1", 100.0)
    assert on_call.calls_today == 5
    assert sm.new_day(on_call).calls_today == 0


def test_ready_when_already_ready_is_a_no_op() -> None:
    st = at(S.READY)
    assert sm.ready(st, 100.0) is st
