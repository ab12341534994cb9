"""Invariants of the IVR state machine under arbitrary caller behaviour and adapter results."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.ivr.announcements import Announcement
from hotline.ivr.interpreter import (
    CallerHungUp,
    CallFacts,
    CommandFailed,
    DigitsReceived,
    HandOverToQueue,
    Hangup,
    LookupResult,
    PlaybackFinished,
    Result,
    SayDigits,
    Timeout,
    start,
    step,
)
from hotline.ivr.menus import Menu

from .conftest import CLOSED, HOLIDAY, OPEN, at

KEYS = "0123456789*#ABCDx "

results = st.one_of(
    st.builds(DigitsReceived, st.text(alphabet=KEYS, max_size=25)),
    st.builds(DigitsReceived, st.text(max_size=5)),  # anything at all, even non-ASCII
    st.just(Timeout()),
    st.builds(PlaybackFinished, st.none() | st.sampled_from(list("0123456789*#"))),
    st.builds(CommandFailed, st.sampled_from([0, 510, 511, 520]), st.text(max_size=10)),
    st.builds(
        LookupResult, st.text(alphabet="0123456789", max_size=12), st.booleans(), st.none() | st.text(max_size=12)
    ),
)
rare_hangup = st.one_of(results, st.just(CallerHungUp()))
facts = st.builds(
    CallFacts,
    caller=st.just("13800000000"),
    open_work_orders=st.lists(st.text(alphabet="0123456789", min_size=1, max_size=12), max_size=2).map(tuple),
    announcements=st.just(
        (Announcement("a", "hotline/{lang}/hot/housing_fund_july", at(2025, 1, 1, 0), at(2027, 1, 1, 0), ("*",)),)
    ),
    language=st.none() | st.sampled_from(["zh", "yue", "en", "fr"]),
)
instants = st.sampled_from([OPEN, CLOSED, HOLIDAY, at(2025, 10, 11, 9), at(2030, 6, 1, 12)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(rare_hangup, max_size=60), call=facts, now=instants)
def test_given_any_result_sequence_when_stepping_then_never_raises_and_ends_in_hand_over_or_hang_up(
    menu: Menu, sequence: list[Result], call: CallFacts, now: float
) -> None:
    state, commands = start(menu, call, now)
    fed = 0
    # The caller's sequence, then a silent caller (timeouts) until the session ends.
    stream = [*sequence, *([Timeout()] * (menu.defaults.max_steps + 1))]
    for result in stream:
        if state.done:
            break
        assert commands, f"no command to execute at {state.node}"
        assert all(not isinstance(c, HandOverToQueue | Hangup) for c in commands)
        state, commands = step(menu, state, result, now)
        fed += 1
        assert state.path and state.path[-1] == state.node
        assert all(node in menu.nodes for node in state.path)
        for c in commands:
            if isinstance(c, SayDigits):
                assert c.digits.isdigit()
    assert state.done, f"still running after {fed} results at {state.node}"
    assert fed <= menu.defaults.max_steps
    if state.outcome == "caller_hung_up":
        assert commands == ()
    else:
        assert isinstance(commands[-1], HandOverToQueue | Hangup)
        if isinstance(commands[-1], HandOverToQueue):
            assert commands[-1].ivr_path == state.path
            assert commands[-1].language in menu.languages
    assert step(menu, state, Timeout(), now) == (state, ())
