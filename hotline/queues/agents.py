"""The agent state machine (pure): the one owner of an agent's availability.

Every function takes an :class:`~hotline.queues.model.AgentState` and ``now`` (epoch seconds) and returns
a new ``AgentState``; nothing is mutated. A transition the machine forbids raises
:class:`~hotline.queues.exceptions.IllegalTransition` (it is a programming or event-ordering error, and
the event pump logs it with the linkedid); expected outcomes are never exceptions.

Transitions (``*`` = any status listed)::

    LOGGED_OUT --login--> NOT_READY("after_login")
    READY | NOT_READY | WRAP_UP --logout--> LOGGED_OUT
    NOT_READY | WRAP_UP --ready--> READY            (READY --ready--> READY is a no-op)
    READY | NOT_READY | WRAP_UP --pause(reason)--> NOT_READY(reason)
    READY --reserve(call)--> RESERVED               (phone ringing, one call only)
    RESERVED --offer_cancelled--> READY             (caller hung up while ringing, or the offer was
                                                     lost: no answer nor failure reported; idle time kept)
    RESERVED --ring_no_answer--> NOT_READY("missed")
    RESERVED --answered--> ON_CALL                  (calls_today + 1)
    ON_CALL --hung_up--> WRAP_UP(until now + wrap_up_s)
    WRAP_UP --wrap_up_expired (now >= until)--> READY

``idle_since_at`` is set to ``now`` whenever the agent becomes free by its own doing (login,
ready, end of wrap-up) and kept when an offer is withdrawn, so an agent whose caller abandoned
keeps their place in the longest-idle order.
"""

from __future__ import annotations

from dataclasses import replace

from hotline.queues.exceptions import IllegalTransition
from hotline.queues.model import AgentState, AgentStatus, NotReadyReason

__all__ = [
    "answered",
    "hung_up",
    "logged_out_state",
    "login",
    "logout",
    "new_day",
    "offer_cancelled",
    "pause",
    "ready",
    "reserve",
    "ring_no_answer",
    "wrap_up_expired",
]

S = AgentStatus


def _require(state: AgentState, action: str, allowed: tuple[AgentStatus, ...], linkedid: str | None = None) -> None:
    if state.status not in allowed:
        raise IllegalTransition(state.agent_id, state.status.value, action, linkedid or state.linkedid)


def _enter(state: AgentState, status: AgentStatus, now: float, **changes: object) -> AgentState:
    base: dict[str, object] = {"reason": None, "linkedid": None, "queue": None, "wrap_up_until_at": None}
    base.update(changes)
    return replace(state, status=status, state_since_at=now, **base)  # type: ignore[arg-type]


def logged_out_state(agent_id: str, now: float = 0.0) -> AgentState:
    """The initial state of a configured agent: LOGGED_OUT since ``now``."""
    return AgentState(agent_id=agent_id, status=S.LOGGED_OUT, state_since_at=now, idle_since_at=now)


def login(state: AgentState, now: float) -> AgentState:
    """LOGGED_OUT -> NOT_READY("after_login"); the agent then presses ready.

    Raises:
        IllegalTransition: the agent is already logged in.
    """
    _require(state, "login", (S.LOGGED_OUT,))
    return _enter(state, S.NOT_READY, now, reason=NotReadyReason.AFTER_LOGIN.value, idle_since_at=now)


def logout(state: AgentState, now: float) -> AgentState:
    """READY, NOT_READY or WRAP_UP -> LOGGED_OUT.

    Raises:
        IllegalTransition: the agent is ringing or on a call (finish or withdraw the call first).
    """
    _require(state, "logout", (S.READY, S.NOT_READY, S.WRAP_UP))
    return _enter(state, S.LOGGED_OUT, now)


def ready(state: AgentState, now: float) -> AgentState:
    """NOT_READY or WRAP_UP (ends wrap-up early) -> READY; READY stays unchanged.

    Raises:
        IllegalTransition: logged out, ringing or on a call.
    """
    if state.status is S.READY:
        return state
    _require(state, "ready", (S.NOT_READY, S.WRAP_UP))
    return _enter(state, S.READY, now, idle_since_at=now)


def pause(state: AgentState, reason: str, now: float) -> AgentState:
    """READY, WRAP_UP or NOT_READY -> NOT_READY(reason) (a new reason restarts time in state).

    Raises:
        IllegalTransition: logged out, ringing or on a call.
    """
    _require(state, "pause", (S.READY, S.WRAP_UP, S.NOT_READY))
    return _enter(state, S.NOT_READY, now, reason=reason)


def reserve(state: AgentState, linkedid: str, queue: str, now: float) -> AgentState:
    """READY -> RESERVED for call ``linkedid`` (the adapter rings the agent).

    Raises:
        IllegalTransition: the agent is not READY (never two calls, never a paused agent).
    """
    _require(state, "reserve", (S.READY,), linkedid)
    return _enter(state, S.RESERVED, now, linkedid=linkedid, queue=queue)


def offer_cancelled(state: AgentState, now: float) -> AgentState:
    """RESERVED -> READY when the caller hung up while the agent rang, or the offer was ``lost``
    (a technical failure, not the agent's); ``idle_since_at`` is kept.

    Raises:
        IllegalTransition: the agent is not RESERVED.
    """
    _require(state, "offer_cancelled", (S.RESERVED,))
    return _enter(state, S.READY, now)


def ring_no_answer(state: AgentState, now: float, reason: str = NotReadyReason.MISSED.value) -> AgentState:
    """RESERVED -> NOT_READY(reason): ``missed`` on timeout, ``unreachable`` for busy/unregistered.

    Raises:
        IllegalTransition: the agent is not RESERVED.
    """
    _require(state, "ring_no_answer", (S.RESERVED,))
    return _enter(state, S.NOT_READY, now, reason=reason)


def answered(state: AgentState, linkedid: str, now: float) -> AgentState:
    """RESERVED for ``linkedid`` -> ON_CALL; ``calls_today`` + 1.

    Raises:
        IllegalTransition: not RESERVED, or reserved for another call.
    """
    _require(state, "answered", (S.RESERVED,), linkedid)
    if state.linkedid != linkedid:
        raise IllegalTransition(state.agent_id, state.status.value, "answered", linkedid)
    return _enter(state, S.ON_CALL, now, linkedid=linkedid, queue=state.queue, calls_today=state.calls_today + 1)


def hung_up(state: AgentState, wrap_up_s: float, now: float) -> AgentState:
    """ON_CALL -> WRAP_UP until ``now + wrap_up_s`` (the queue's wrap-up timer).

    Raises:
        IllegalTransition: the agent is not ON_CALL.
    """
    _require(state, "hung_up", (S.ON_CALL,))
    return _enter(state, S.WRAP_UP, now, linkedid=state.linkedid, queue=state.queue, wrap_up_until_at=now + wrap_up_s)


def wrap_up_expired(state: AgentState, now: float) -> AgentState:
    """WRAP_UP -> READY once ``now >= wrap_up_until_at``.

    Raises:
        IllegalTransition: not in WRAP_UP, or the timer has not run out yet.
    """
    _require(state, "wrap_up_expired", (S.WRAP_UP,))
    if state.wrap_up_until_at is not None and now < state.wrap_up_until_at:
        raise IllegalTransition(state.agent_id, state.status.value, "wrap_up_expired (timer running)")
    return _enter(state, S.READY, now, idle_since_at=now)


def new_day(state: AgentState) -> AgentState:
    """Reset ``calls_today`` (call at local midnight; status untouched)."""
    return replace(state, calls_today=0)
