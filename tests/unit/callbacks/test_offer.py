"""The callback offer decisions (pure): who is offered, what keys and keyed-in numbers mean."""

from __future__ import annotations

import pytest

from hotline.callbacks.offer import (
    AcceptCallback,
    AskNumber,
    KeepWaiting,
    OfferSession,
    may_offer,
    offers_due,
    on_key,
    on_number,
)
from hotline.queues.model import WaitingCall


def call(lid: str, at: float, seq: int = 0) -> WaitingCall:
    return WaitingCall(linkedid=lid, uniqueid=f"u-{lid}", queue="commerce", enqueued_at=at, seq=seq)


def session(number: str = "13912345678", **kw: object) -> OfferSession:
    return OfferSession("L1", "u-L1", number, "ewt", 1000.0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ewt", "threshold", "offered"),
    [
        (299.0, 300.0, False),  # below the threshold: keeps waiting unasked
        (300.0, 300.0, True),  # at the threshold
        (900.0, 300.0, True),
        (None, 300.0, True),  # no agent staffed for the skills: EWT is infinite
        (900.0, None, False),  # EWT offers switched off
    ],
)
def test_given_ewt_and_threshold_when_checking_then_offered_only_at_or_above_it(
        ewt: float | None, threshold: float | None, offered: bool) -> None:
    due = offers_due([call("L1", 10.0)], lambda _lid: ewt, offer_ewt_s=threshold, offered=(), in_offer=())
    assert (due == ["L1"]) is offered


def test_given_calls_already_offered_running_or_called_back_when_checking_then_they_are_skipped() -> None:
    waiting = [call("L3", 3.0, 3), call("L1", 1.0, 1), call("L2", 2.0, 2), call("L4", 4.0, 4)]
    due = offers_due(waiting, lambda _lid: 1000.0, offer_ewt_s=60.0, offered={"L2"}, in_offer={"L3"},
                     excluded={"L4"})
    assert due == ["L1"]


def test_given_several_calls_over_threshold_when_checking_then_offered_in_arrival_order() -> None:
    waiting = [call("B", 5.0, 2), call("A", 5.0, 1), call("C", 1.0, 3)]
    assert offers_due(waiting, lambda _lid: 1000.0, offer_ewt_s=0.0, offered=(), in_offer=()) == ["C", "A", "B"]


@pytest.mark.parametrize(
    ("linkedid", "waiting", "in_offer", "excluded", "ok"),
    [
        ("L1", {"L1"}, set(), set(), True),
        ("L1", set(), set(), set(), False),  # ringing an agent or gone
        ("L1", {"L1"}, {"L1"}, set(), False),  # an offer already runs
        ("L1", {"L1"}, set(), {"L1"}, False),  # a citizen being called back
    ],
)
def test_given_call_state_when_demanding_an_offer_then_allowed_only_for_a_waiting_call(
        linkedid: str, waiting: set[str], in_offer: set[str], excluded: set[str], ok: bool) -> None:
    assert may_offer(linkedid, waiting, in_offer, excluded) is ok


def test_given_valid_calling_number_when_caller_presses_1_then_callback_to_that_number() -> None:
    _, decision = on_key(session("+86 139-1234-5678"), "1")
    assert decision == AcceptCallback("13912345678")


@pytest.mark.parametrize("number", ["", "anonymous", "12345", "1001"])
def test_given_invalid_or_withheld_calling_number_when_caller_presses_1_then_asked_to_key_one_in(number: str) -> None:
    s, decision = on_key(session(number), "1")
    assert isinstance(decision, AskNumber) and not decision.invalid and decision.reason
    assert s.step == "number"


def test_given_offer_when_caller_presses_2_then_asked_for_another_number() -> None:
    s, decision = on_key(session(), "2")
    assert decision == AskNumber() and s.step == "number"


@pytest.mark.parametrize(("key", "reason"), [("", "timeout"), ("3", "key 3"), ("*", "key *"), ("#", "key #")])
def test_given_offer_when_caller_presses_other_key_or_nothing_then_keeps_waiting(key: str, reason: str) -> None:
    _, decision = on_key(session(), key)
    assert decision == KeepWaiting(reason)


@pytest.mark.parametrize(("digits", "number"), [("13800138000", "13800138000"), ("075722345678", "075722345678"),
                                                ("01062345678", "01062345678")])
def test_given_valid_keyed_in_number_when_entered_then_callback_to_it(digits: str, number: str) -> None:
    _, decision = on_number(session(step="number"), digits)
    assert decision == AcceptCallback(number)


def test_given_invalid_keyed_in_number_when_entered_then_reprompted_once_then_kept_waiting() -> None:
    s, first = on_number(session(step="number"), "12345")
    assert isinstance(first, AskNumber) and first.invalid and "short service number" in first.reason
    s, second = on_number(s, "1380013800")
    assert isinstance(second, KeepWaiting) and "invalid number twice" in second.reason
    assert s.invalid_numbers == 2


def test_given_invalid_then_valid_number_when_entered_then_callback_to_the_valid_one() -> None:
    s, _ = on_number(session(step="number"), "")
    _, decision = on_number(s, "13800138000")
    assert decision == AcceptCallback("13800138000")


def test_given_three_tries_allowed_when_two_invalid_numbers_then_asked_a_third_time() -> None:
    s, _ = on_number(session(step="number"), "1", max_invalid_numbers=3)
    _, decision = on_number(s, "2", max_invalid_numbers=3)
    assert isinstance(decision, AskNumber) and decision.invalid
