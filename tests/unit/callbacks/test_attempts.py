"""Attempt deadlines (pure): an attempt whose OriginateResponse never comes is settled, never stuck."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from hotline.callbacks import agentfirst as af
from hotline.callbacks import attempts as att
from hotline.callbacks.model import Job, JobKind, JobStatus, Message, Outcome
from hotline.callbacks.policy import record_outcome, start_attempt
from hotline.callbacks.settings import CallbacksSettings

RING_S, GRACE_S = 30.0, 10.0


def reminder(started_at: float = 100.0) -> Job:
    j = Job("rem-1", JobKind.REMINDER, "13500135000", created_at=0.0, not_before_at=0.0,
            message=Message(prompts=("hello",)))
    return start_attempt(j, started_at, "act-1")


def agent_first(started_at: float = 100.0) -> Job:
    j = Job("cb-1", JobKind.CALLBACK, "13800138000", created_at=0.0, not_before_at=0.0, urgent=True,
            meta={"request_id": "r1", "queue": "commerce", "mode": af.AGENT_FIRST})
    return af.with_placeholder(start_attempt(j, started_at, "act-2"), "tok")


def test_given_a_dialing_attempt_then_its_deadline_is_the_originate_timeout_plus_the_grace() -> None:
    assert att.deadline_at(reminder(), RING_S, GRACE_S) == 100.0 + RING_S + GRACE_S
    assert att.deadline_at(agent_first(), RING_S, GRACE_S) == 100.0 + af.PLACEHOLDER_TIMEOUT_S + GRACE_S
    answered = replace(reminder(), status=JobStatus.IN_CALL)
    assert att.deadline_at(answered, RING_S, GRACE_S) is None  # its Hangup / UserEvent end it
    assert att.next_deadline_at([reminder(200.0), agent_first(100.0), answered], RING_S, GRACE_S) == 120.0
    assert att.next_deadline_at([answered], RING_S, GRACE_S) is None


def test_given_attempts_when_the_clock_passes_their_deadline_then_only_those_are_overdue() -> None:
    jobs = [reminder(100.0), replace(reminder(130.0), job_id="rem-2")]
    assert att.overdue(jobs, RING_S, GRACE_S, 139.9) == []
    assert [j.job_id for j in att.overdue(jobs, RING_S, GRACE_S, 140.0)] == ["rem-1"]
    assert [j.job_id for j in att.overdue(jobs, RING_S, GRACE_S, 170.0)] == ["rem-1", "rem-2"]


@pytest.mark.parametrize(("live", "expected"), [
    ({}, att.Settlement(Outcome.UNKNOWN)),  # no response, no channel: the unknown rule
    ({"u9": ("other#1", True)}, att.Settlement(Outcome.UNKNOWN)),  # someone else's channel
    ({"u1": ("rem-1#1", True)}, att.Settlement(None, answered_uniqueid="u1")),  # answered: followed
    ({"u1": ("rem-1#1", False)}, att.Settlement(Outcome.UNKNOWN, hang_up="u1")),  # rings past its timeout
])
def test_given_an_overdue_reminder_when_channels_are_listed_then_settled(
        live: dict[str, tuple[str, bool]], expected: att.Settlement) -> None:
    assert att.settle_overdue(reminder(), live) == expected


def test_given_an_overdue_agent_first_attempt_then_its_placeholder_is_hung_up_and_the_attempt_failed() -> None:
    job = agent_first()
    assert att.settle_overdue(job, {"cbaf-tok-1": ("cb-1#1", True)}) == att.Settlement(Outcome.FAILED,
                                                                                       hang_up="cbaf-tok-1")
    assert att.settle_overdue(job, {}) == att.Settlement(Outcome.FAILED)


def test_given_an_unknown_outcome_then_the_slot_is_freed_and_the_job_retried_after_the_unknown_gap() -> None:
    t0 = dt.datetime(2025, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()  # a working Tuesday
    policy = CallbacksSettings(windows=("08:00-22:00",), max_attempts=3).policy()
    due = t0 + RING_S + GRACE_S
    done = record_outcome(reminder(t0), Outcome.UNKNOWN, policy, due)
    assert done.status is JobStatus.PENDING and not done.status.in_flight
    assert done.next_at is not None and done.next_at >= due + policy.gap_s(Outcome.UNKNOWN)
