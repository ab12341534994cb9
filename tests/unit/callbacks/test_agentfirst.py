"""Agent-first keep-my-place callbacks (pure): placeholder Originate, redirect, outcomes, recovery."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.callbacks import agentfirst as af
from hotline.callbacks.model import Job, JobKind, JobStatus, Outcome
from hotline.callbacks.policy import start_attempt


def job(mode: str = "agent_first") -> Job:
    j = Job(job_id="cb-cb-1700.1", kind=JobKind.CALLBACK, number="13800138000", created_at=0.0, not_before_at=0.0,
            urgent=True, trunk="trunk", meta={"request_id": "cb-1700.1", "queue": "commerce", "mode": mode})
    return start_attempt(j, 10.0, "act-1")


def test_given_agent_first_request_when_dialled_then_local_placeholder_into_hold_with_both_uniqueids() -> None:
    j = af.with_placeholder(job(), "abc")
    fields = af.originate_fields(j, trunk="trunk", ring_timeout_s=25, caller_id="12345")
    assert fields["Channel"] == "Local/wait@hotline-cb-agentfirst/n"
    assert (fields["Context"], fields["Exten"], fields["Priority"]) == ("hotline-hold", "s", "1")
    assert (fields["ChannelId"], fields["OtherChannelId"]) == ("cbaf-abc-1", "cbaf-abc-2")
    assert fields["Account"] == j.attempt_id == "cb-cb-1700.1#1"
    assert fields["Variable"]["HL_RING_S"] == "25" and fields["Variable"]["HL_TRUNK"] == "trunk"
    assert j.meta["stage"] == af.AGENT_WAIT


def test_given_citizen_first_or_reminder_then_not_agent_first() -> None:
    assert af.is_agent_first(job())
    assert not af.is_agent_first(job("citizen_first"))
    assert not af.is_agent_first(replace(job(), kind=JobKind.REMINDER))


def test_given_no_placeholder_when_originate_or_redirect_then_value_error() -> None:
    with pytest.raises(ValueError):
        af.originate_fields(job(), trunk="trunk", ring_timeout_s=30, caller_id="12345")
    with pytest.raises(ValueError):
        af.redirect_fields(job())


def test_given_agent_answered_then_second_half_redirected_by_uniqueid_to_dial_the_number() -> None:
    j = af.with_placeholder(job(), "abc")
    assert af.redirect_fields(j) == {"Channel": "cbaf-abc-2", "Context": "hotline-cb-agentfirst",
                                     "Exten": "13800138000", "Priority": "1"}


@pytest.mark.parametrize(("status", "cause", "outcome"), [
    ("ANSWER", None, Outcome.ANSWERED),
    ("BUSY", None, Outcome.BUSY),
    ("NOANSWER", None, Outcome.NO_ANSWER),
    ("CANCEL", None, Outcome.NO_ANSWER),  # the agent hung up while the citizen rang
    ("CONGESTION", None, Outcome.CONGESTION),
    ("CHANUNAVAIL", None, Outcome.FAILED),
    ("CHANUNAVAIL", 17, Outcome.BUSY),
    ("", None, Outcome.FAILED),
])
def test_given_citizen_dial_end_then_outcome_as_citizen_first(status: str, cause: int | None,
                                                             outcome: Outcome) -> None:
    assert af.citizen_outcome(status, cause) is outcome


def test_given_lost_attempt_with_citizen_leg_up_then_answered_and_nothing_hung_up() -> None:
    j = af.with_stage(af.with_placeholder(job(), "abc"), af.DIALLING)
    live = {"cbaf-abc-1": (j.attempt_id, True), "cbaf-abc-2": (j.attempt_id, True), "pjsip-9": (j.attempt_id, True)}
    assert af.resolve_lost(j, live) == (Outcome.ANSWERED, None)


def test_given_lost_attempt_still_waiting_for_agent_then_placeholder_hung_up_and_failed() -> None:
    j = af.with_placeholder(job(), "abc")
    live = {"cbaf-abc-1": (j.attempt_id, True), "cbaf-abc-2": (j.attempt_id, True), "other": ("x", True)}
    assert af.resolve_lost(j, live) == (Outcome.FAILED, "cbaf-abc-1")


def test_given_lost_attempt_whose_channels_are_gone_then_failed_without_hangup() -> None:
    j = replace(af.with_placeholder(job(), "abc"), status=JobStatus.UNKNOWN)
    assert af.resolve_lost(j, {"other": ("x", True)}) == (Outcome.FAILED, None)
