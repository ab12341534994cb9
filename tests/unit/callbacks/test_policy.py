"""Reminder scheduling policy, table-driven, no event loop: windows across midnight, statutory
holidays, retry gaps by outcome, attempts, caps, the unknown rule, outcome mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from hotline.callbacks import policy as pol
from hotline.callbacks.errors import JobClosed
from hotline.callbacks.model import Job, JobKind, JobStatus, Outcome
from hotline.callbacks.policy import CallingWindow, SchedulePolicy
from hotline.kernel.calendar import ChineseCalendarSource, WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> float:
    return dt.datetime(y, mo, d, h, mi, tzinfo=SH).timestamp()


DAY = SchedulePolicy(windows=(CallingWindow.parse("08:30-21:00"),))
NIGHT = SchedulePolicy(windows=(CallingWindow.parse("21:30-01:00"),))
NO_WEEKENDS = SchedulePolicy(windows=(CallingWindow.parse("08:30-21:00"),), rest_days=False)
SPLIT = SchedulePolicy(windows=(CallingWindow.parse("09:00-12:00"), CallingWindow.parse("14:00-18:00")))


@pytest.mark.parametrize(("policy", "when", "urgent", "expected", "why"), [
    (DAY, at(2025, 9, 30, 10), False, at(2025, 9, 30, 10), "inside the window"),
    (DAY, at(2025, 9, 30, 7), False, at(2025, 9, 30, 8, 30), "before the window: its start"),
    (DAY, at(2025, 9, 30, 21), False, at(2025, 10, 9, 8, 30), "end is exclusive; Oct 1-8 are National Day"),
    (DAY, at(2025, 9, 30, 21), True, at(2025, 10, 1, 8, 30), "urgent calls ring on holidays"),
    (DAY, at(2025, 10, 3, 12), False, at(2025, 10, 9, 8, 30), "holiday: next working day"),
    (DAY, at(2025, 10, 11, 12), False, at(2025, 10, 11, 12), "make-up Saturday is a working day"),
    (DAY, at(2025, 9, 27, 12), False, at(2025, 9, 27, 12), "a plain Saturday, rest days allowed"),
    (NO_WEEKENDS, at(2025, 9, 27, 12), False, at(2025, 9, 28, 8, 30), "rest days off: Sun Sep 28 is a make-up day"),
    (NO_WEEKENDS, at(2025, 9, 27, 12), True, at(2025, 9, 27, 12), "rest days off, but urgent"),
    (NIGHT, at(2025, 9, 30, 23), False, at(2025, 9, 30, 23), "crossing midnight: evening part"),
    (NIGHT, at(2025, 9, 29, 0, 30), False, at(2025, 9, 29, 0, 30), "after midnight: Sunday's window (rest day)"),
    (NIGHT, at(2025, 9, 30, 0, 59), False, at(2025, 9, 30, 0, 59), "after midnight, still Monday's window"),
    (NIGHT, at(2025, 9, 30, 1, 0), False, at(2025, 9, 30, 21, 30), "window closed at 01:00"),
    (NIGHT, at(2025, 10, 1, 0, 30), False, at(2025, 10, 1, 0, 30), "Oct 1 00:30 belongs to Sep 30 (working)"),
    (NIGHT, at(2025, 10, 2, 0, 30), False, at(2025, 10, 9, 21, 30),
     "Oct 2 00:30 belongs to Oct 1 (holiday); Oct 1-8 are holidays, so Oct 9 21:30"),
    (NIGHT, at(2025, 10, 9, 0, 30), False, at(2025, 10, 9, 21, 30), "Oct 9 00:30 belongs to Oct 8 (holiday)"),
    (NIGHT, at(2025, 10, 9, 0, 30), True, at(2025, 10, 9, 0, 30), "urgent: the holiday window is open"),
    (SPLIT, at(2025, 9, 30, 12, 30), False, at(2025, 9, 30, 14), "between two windows: the later one"),
])
def test_given_window_and_calendar_when_next_allowed_then_expected(policy: SchedulePolicy, when: float, urgent: bool,
                                                                   expected: float, why: str) -> None:
    assert pol.next_allowed_at(policy, when, urgent) == expected, why


def _job(**kw: object) -> Job:
    base = {"job_id": "j1", "kind": JobKind.REMINDER, "number": "13800138000",
            "created_at": at(2025, 9, 30, 10), "not_before_at": at(2025, 9, 30, 10)}
    base.update(kw)
    return Job(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("outcome", "gap_s"), [
    (Outcome.BUSY, 600), (Outcome.NO_ANSWER, 1800), (Outcome.CONGESTION, 300), (Outcome.FAILED, 900),
    (Outcome.UNKNOWN, 1800), (Outcome.NO_INPUT, 3600),
])
def test_given_failed_attempt_when_recorded_then_next_at_is_the_outcome_gap(outcome: Outcome, gap_s: float) -> None:
    now = at(2025, 9, 30, 10)
    job = pol.start_attempt(pol.schedule(_job(), DAY, now), now, "a1")
    after = pol.record_outcome(job, outcome, DAY, now + 20)
    assert after.status is JobStatus.PENDING
    assert after.next_at == now + 20 + gap_s
    assert after.history[-1].outcome is outcome


def test_given_gap_ending_after_window_when_recorded_then_next_window() -> None:
    now = at(2025, 9, 29, 20, 50)  # Monday 20:50, busy gap 10 min -> 21:00 is closed
    job = pol.start_attempt(pol.schedule(_job(not_before_at=now, created_at=now), DAY, now), now, "a1")
    assert pol.record_outcome(job, Outcome.BUSY, DAY, now).next_at == at(2025, 9, 30, 8, 30)


def test_given_last_attempt_when_it_fails_then_job_failed() -> None:
    now = at(2025, 9, 30, 10)
    job = _job(max_attempts=2)
    for n in range(2):
        job = pol.record_outcome(pol.start_attempt(pol.schedule(job, DAY, now), now, f"a{n}"), Outcome.BUSY, DAY, now)
        now = job.next_at or now
    assert job.status is JobStatus.FAILED and job.attempts == 2


def test_given_survey_answered_without_key_then_no_input_and_retried() -> None:
    now = at(2025, 9, 30, 10)
    job = pol.start_attempt(pol.schedule(_job(kind=JobKind.SATISFACTION), DAY, now), now, "a1")
    job = pol.answered(job, "u1", now)
    after = pol.record_outcome(job, Outcome.ANSWERED, DAY, now + 30)
    assert after.status is JobStatus.PENDING and after.last_outcome is Outcome.NO_INPUT
    rated = pol.record_outcome(job, Outcome.ANSWERED, DAY, now + 30, rating=2)
    assert rated.status is JobStatus.DONE and rated.rating == 2


@pytest.mark.parametrize(("reason", "dial_status", "cause", "outcome"), [
    (0, "", None, Outcome.FAILED), (1, "", None, Outcome.HUNG_UP), (3, "", None, Outcome.NO_ANSWER),
    (4, "", None, Outcome.ANSWERED), (5, "", None, Outcome.BUSY), (8, "", None, Outcome.CONGESTION),
    (0, "BUSY", 17, Outcome.BUSY), (0, "", 17, Outcome.BUSY), (0, "CONGESTION", None, Outcome.CONGESTION),
    (0, "CHANUNAVAIL", None, Outcome.FAILED), (1, "", 19, Outcome.NO_ANSWER), (4, "BUSY", 17, Outcome.ANSWERED),
    (42, "", None, Outcome.FAILED),
])
def test_given_originate_response_when_mapped_then_outcome(reason: int, dial_status: str, cause: int | None,
                                                           outcome: Outcome) -> None:
    assert pol.outcome_for_response(reason, dial_status, cause) is outcome


def test_given_due_jobs_when_planned_then_global_and_trunk_caps_hold() -> None:
    now = at(2025, 9, 30, 10)
    policy = SchedulePolicy(max_concurrent=3, max_concurrent_per_trunk=2, trunk_caps={"cheap": 1})
    busy = pol.start_attempt(pol.schedule(_job(job_id="inflight", trunk="trunk"), policy, now), now, "x")
    due = [pol.schedule(_job(job_id=f"d{i}", trunk=t), policy, now)
           for i, t in enumerate(["trunk", "trunk", "cheap", "cheap"])]
    plan = pol.plan_dials([busy, *due], policy, now)
    assert [j.job_id for j in plan.dial] == ["d0", "d2"]  # trunk: 1 in flight + d0 = 2; cheap: cap 1
    assert set(plan.held) == {"d1", "d3"}


def test_given_urgent_and_plain_due_when_capped_then_urgent_first() -> None:
    now = at(2025, 9, 30, 10)
    policy = SchedulePolicy(max_concurrent=1)
    plain = pol.schedule(_job(job_id="a", not_before_at=now - 60), policy, now - 60)
    urgent = pol.schedule(_job(job_id="b", urgent=True), policy, now)
    assert [j.job_id for j in pol.plan_dials([plain, urgent], policy, now).dial] == ["b"]


def test_given_job_due_while_window_closed_when_planned_then_moved_not_dialled() -> None:
    due_at = at(2025, 9, 30, 20)
    job = pol.schedule(_job(not_before_at=due_at), DAY, due_at)
    plan = pol.plan_dials([job], DAY, at(2025, 9, 30, 22))  # the dialler was down through 21:00
    assert plan.dial == () and plan.move == (("j1", at(2025, 10, 9, 8, 30)),)


@pytest.mark.parametrize(("was", "live", "up", "status", "outcome"), [
    (JobStatus.DIALING, "u9", True, JobStatus.IN_CALL, None),
    (JobStatus.DIALING, "u9", False, JobStatus.DIALING, None),
    (JobStatus.DIALING, None, False, JobStatus.PENDING, Outcome.UNKNOWN),
    (JobStatus.IN_CALL, None, False, JobStatus.DONE, Outcome.ANSWERED),
])
def test_given_ami_lost_mid_attempt_when_evidence_found_then_never_resent_at_once(
        was: JobStatus, live: str | None, up: bool, status: JobStatus, outcome: Outcome | None) -> None:
    now = at(2025, 9, 30, 10)
    job = pol.start_attempt(pol.schedule(_job(), DAY, now), now, "a1")
    if was is JobStatus.IN_CALL:
        job = pol.answered(job, "u1", now)
    lost = pol.connection_lost(job)
    assert lost.status is JobStatus.UNKNOWN
    assert pol.plan_dials([lost], DAY, now + 1).dial == ()  # counts as in flight, never re-dialled
    after = pol.resolve_unknown(lost, live, DAY, now + 5, live_up=up)
    assert after.status is status
    assert after.last_outcome is outcome
    if status is JobStatus.PENDING:
        assert after.next_at == now + 5 + 1800  # the unknown gap, not now


def test_given_open_job_when_cancelled_or_rescheduled_then_closed_jobs_refuse() -> None:
    now = at(2025, 9, 30, 10)
    job = pol.schedule(_job(), DAY, now)
    moved = pol.reschedule(job, at(2025, 10, 3, 9), DAY, now)
    assert moved.next_at == at(2025, 10, 9, 8, 30)  # Oct 3 is a holiday
    cancelled = pol.cancel(moved, now)
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(JobClosed):
        pol.cancel(cancelled, now)
    with pytest.raises(JobClosed):
        pol.reschedule(cancelled, now, DAY, now)


def test_given_retry_in_a_year_no_calendar_knows_when_recorded_then_next_window_by_provisional_calendar() -> None:
    now = at(2031, 3, 7, 20, 55)  # Friday 20:55 in a year with no official holiday data
    job = pol.start_attempt(pol.schedule(_job(created_at=now, not_before_at=now), NO_WEEKENDS, now), now, "a1")
    after = pol.record_outcome(job, Outcome.BUSY, NO_WEEKENDS, now)  # never raises for the year
    assert after.status is JobStatus.PENDING
    assert after.next_at == at(2031, 3, 10, 8, 30)  # Monday (no statutory holiday near)
    # 2027 provisional: 元旦 (Friday Jan 1) by law, the weekend joined to it, so Monday
    assert pol.next_allowed_at(DAY, at(2027, 1, 1, 9)) == at(2027, 1, 4, 8, 30)
    weekdays_only = replace(DAY, calendar=WorkingCalendar([ChineseCalendarSource()]))  # no holidays package
    assert pol.next_allowed_at(weekdays_only, at(2027, 1, 1, 9)) == at(2027, 1, 1, 9)  # weekday rule: a Friday
