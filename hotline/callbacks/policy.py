"""Reminder scheduling policy (pure): when a job may ring, what an outcome means, what to dial now.

Entry points (no I/O, no asyncio; ``now`` is epoch seconds, always passed in)::

    at = next_allowed_at(policy, t, urgent=False)      # earliest allowed instant >= t
    job = schedule(job, policy, now)                   # new / rescheduled job: next_at set
    plan = plan_dials(jobs, policy, now)               # what to dial now (caps), what to move
    job = start_attempt(job, now, action_id)           # PENDING -> DIALING
    job = record_outcome(job, outcome, policy, now)    # DIALING/IN_CALL/UNKNOWN -> PENDING/DONE/FAILED
    job = answered(job, uniqueid, now)                 # OriginateResponse Reason 4 -> IN_CALL
    job = connection_lost(job)                         # AMI dropped -> UNKNOWN
    job = resolve_unknown(job, live_uniqueid, policy, now)
    job = cancel(job, now, reason) ; job = reschedule(job, at, policy, now)
    outcome = outcome_for_response(reason, dial_status, hangup_cause)  # OriginateResponse (+ DialEnd/Hangup)

Calling windows are local times in ``policy.tz`` (Asia/Shanghai); a window whose end is not after
its start crosses midnight (``21:30-01:00``) and **belongs to the local date it starts on**: the
holiday rule is checked on that date (so 00:30 on a holiday morning is allowed when the window
opened the evening before on a working day, and 00:30 on the morning after a holiday is not).
Statutory holidays (``policy.calendar.day_kind(...) == "holiday"``, the service's one
:class:`hotline.kernel.calendar.WorkingCalendar`) have no window unless the job is urgent; rest days (weekends)
follow ``policy.rest_days``. A year with no official holiday data follows the statutory holidays
computed by law (no make-up working days), or the weekday rule without the ``holidays`` package
(provisional, logged once by the calendar): a retry is never refused for its year.

Retry gaps by outcome: after a failed attempt the next one is due at
``next_allowed_at(now + retry_gaps_s[outcome])``. After ``max_attempts`` attempts (the job's own
or the policy's), the job is FAILED. ``ANSWERED`` ends the job (a survey needs a rating: an answer
with no valid key is ``NO_INPUT`` and is retried).

**The unknown rule** (an Originate sent, then the AMI connection dropped before its
``OriginateResponse``): the job is never re-sent blindly. It goes to UNKNOWN and counts against
the caps. On reconnect the adapter lists channels (``CoreShowChannels``) and looks for the
attempt's ``AccountCode``: a live channel means the call is going on (IN_CALL when it is up,
DIALING while it still rings), re-attached by its uniqueid (its ``Hangup`` ends the attempt, and
the dialplan's ``UserEvent`` still carries the attempt id). The same rule covers a restart of the
service: in-flight jobs found in Redis at start are UNKNOWN until this evidence is read. No channel means the call
either never rang or already ended: the attempt is spent with outcome ``UNKNOWN`` and the job is
retried only after ``retry_gaps_s[UNKNOWN]`` (default 30 min), never at once. A job that was
IN_CALL (answered) when the connection dropped and has no channel afterwards is DONE for a plain
reminder (it was answered, the message played at least in part) and NO_INPUT for a survey whose
rating never arrived.

Caps: at most ``max_concurrent`` in-flight jobs (DIALING, IN_CALL, UNKNOWN) overall and
``trunk_caps.get(trunk, max_concurrent_per_trunk)`` per trunk. Due jobs beyond a cap wait for the
next plan (urgent first, then by ``next_at``, then ``job_id``: deterministic).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from hotline.callbacks.errors import InvalidSchedule, JobClosed
from hotline.callbacks.model import REASON_OUTCOMES, AttemptRecord, Job, JobKind, JobStatus, Outcome
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar

_MAX_SCAN_DAYS = 400


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """Local times when calls may ring: ``start`` inclusive, ``end`` exclusive; crosses midnight
    when ``end <= start`` (``end == start`` is the whole day)."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> CallingWindow:
        """``"08:30-21:00"`` or ``"21:30-01:00"``.

        Raises:
            InvalidSchedule: not ``HH:MM-HH:MM``.
        """
        try:
            a, b = text.split("-")
            return cls(dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip()))
        except ValueError:
            raise InvalidSchedule(f"calling window {text!r} is not HH:MM-HH:MM") from None

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_GAPS_S: Mapping[Outcome, float] = {
    Outcome.BUSY: 10 * 60.0,
    Outcome.NO_ANSWER: 30 * 60.0,
    Outcome.CONGESTION: 5 * 60.0,
    Outcome.FAILED: 15 * 60.0,
    Outcome.HUNG_UP: 30 * 60.0,
    Outcome.NO_INPUT: 60 * 60.0,
    Outcome.UNKNOWN: 30 * 60.0,
}


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """How reminder calls are scheduled.

    Attributes:
        tz: IANA zone of the calling windows.
        windows: allowed local times (any of them); at least one.
        rest_days: whether weekends / rest days have windows (holidays never, unless urgent).
        max_attempts: attempts per job (a job's own ``max_attempts`` wins).
        retry_gaps_s: seconds before the next attempt, per failed outcome.
        max_concurrent: in-flight jobs overall.
        max_concurrent_per_trunk: in-flight jobs per trunk unless ``trunk_caps`` names it.
        trunk_caps: per-trunk caps.
        calendar: the service's working calendar (``ivr.calendar``).
    """

    tz: str = "Asia/Shanghai"
    windows: tuple[CallingWindow, ...] = (CallingWindow(dt.time(8, 30), dt.time(21, 0)),)
    rest_days: bool = True
    max_attempts: int = 3
    retry_gaps_s: Mapping[Outcome, float] = field(default_factory=lambda: dict(DEFAULT_GAPS_S))
    max_concurrent: int = 10
    max_concurrent_per_trunk: int = 10
    trunk_caps: Mapping[str, int] = field(default_factory=dict)
    calendar: WorkingCalendar = DEFAULT_CALENDAR

    def __post_init__(self) -> None:
        if not self.windows:
            raise InvalidSchedule("at least one calling window is needed")
        if self.max_attempts < 1 or self.max_concurrent < 1 or self.max_concurrent_per_trunk < 1:
            raise InvalidSchedule("max_attempts and concurrency caps must be >= 1")
        if any(c < 0 for c in self.trunk_caps.values()):
            raise InvalidSchedule("a trunk cap must be >= 0")
        if any(g < 0 or math.isnan(g) for g in self.retry_gaps_s.values()):
            raise InvalidSchedule("retry gaps must be >= 0 seconds")
        ZoneInfo(self.tz)  # raises ZoneInfoNotFoundError (a ValueError/KeyError) for a bad zone

    def gap_s(self, outcome: Outcome) -> float:
        return float(self.retry_gaps_s.get(outcome, DEFAULT_GAPS_S.get(outcome, 1800.0)))

    def trunk_cap(self, trunk: str) -> int:
        return int(self.trunk_caps.get(trunk, self.max_concurrent_per_trunk))


def outcome_for_reason(reason: int) -> Outcome:
    """``OriginateResponse`` ``Reason`` -> outcome: 0 failed, 1 hung up, 3 no answer, 4 answered,
    5 busy, 8 congestion; any other code is ``FAILED``."""
    return REASON_OUTCOMES.get(reason, Outcome.FAILED)


#: AMI ``DialEnd`` ``DialStatus`` of the originated channel -> outcome
DIAL_STATUS_OUTCOMES: dict[str, Outcome] = {
    "BUSY": Outcome.BUSY, "NOANSWER": Outcome.NO_ANSWER, "CANCEL": Outcome.NO_ANSWER,
    "CONGESTION": Outcome.CONGESTION, "CHANUNAVAIL": Outcome.FAILED,
}
#: AMI ``Hangup`` ``Cause`` (Q.850) of the originated channel -> outcome
HANGUP_CAUSE_OUTCOMES: dict[int, Outcome] = {
    17: Outcome.BUSY, 18: Outcome.NO_ANSWER, 19: Outcome.NO_ANSWER, 21: Outcome.FAILED,
    34: Outcome.CONGESTION, 38: Outcome.CONGESTION, 42: Outcome.CONGESTION,
}


def outcome_for_response(reason: int, dial_status: str = "", hangup_cause: int | None = None) -> Outcome:
    """The outcome of an attempt from its ``OriginateResponse`` and the evidence seen before it.

    Asterisk 22 answers a SIP 486 Busy with ``Reason: 0`` (not 5) and ``Uniqueid: <unknown>``;
    the busy is visible only in the ``DialEnd`` (``DialStatus: BUSY``) and ``Hangup``
    (``Cause: 17``) of the originated channel, which arrive *before* the OriginateResponse and carry
    the attempt id as ``DestAccountCode`` / ``AccountCode``. So a generic 0 (failed) or 1 (hung up)
    is refined by ``dial_status``, then by ``hangup_cause``; the other reasons are taken as they are.

    Args:
        reason: ``OriginateResponse`` ``Reason``.
        dial_status: ``DialEnd`` ``DialStatus`` for the attempt, or "".
        hangup_cause: ``Hangup`` ``Cause`` of the attempt's channel, or None.
    """
    outcome = outcome_for_reason(reason)
    if outcome not in (Outcome.FAILED, Outcome.HUNG_UP):
        return outcome
    if dial_status in DIAL_STATUS_OUTCOMES:
        return DIAL_STATUS_OUTCOMES[dial_status]
    if hangup_cause is not None and hangup_cause in HANGUP_CAUSE_OUTCOMES:
        return HANGUP_CAUSE_OUTCOMES[hangup_cause]
    return outcome


def _day_allowed(policy: SchedulePolicy, day: dt.date, urgent: bool) -> bool:
    kind = policy.calendar.day_kind(day)
    if kind == "holiday":
        return urgent
    if kind == "rest":
        return policy.rest_days or urgent
    return True


def next_allowed_at(policy: SchedulePolicy, at: float, urgent: bool = False) -> float:
    """The earliest instant ``>= at`` inside a calling window on an allowed day.

    Args:
        at: epoch seconds.
        urgent: statutory holidays (and rest days) are allowed.
    Returns:
        Epoch seconds (``at`` itself when it is allowed).
    Raises:
        InvalidSchedule: no allowed instant in the next 400 days (never for a calendar year: an
            uncovered year follows a provisional tier).
    """
    zone = ZoneInfo(policy.tz)
    local = dt.datetime.fromtimestamp(at, zone)
    first = local.date() - dt.timedelta(days=1)  # a window opened yesterday may still be open
    for offset in range(_MAX_SCAN_DAYS):
        day = first + dt.timedelta(days=offset)
        best: float | None = None
        if _day_allowed(policy, day, urgent):
            for w in policy.windows:
                start = dt.datetime.combine(day, w.start, zone).timestamp()
                end_day = day + dt.timedelta(days=1) if w.crosses_midnight else day
                end = dt.datetime.combine(end_day, w.end, zone).timestamp()
                if end > at:
                    cand = max(start, at)
                    best = cand if best is None else min(best, cand)
        if best is not None:
            return best
    raise InvalidSchedule(f"no calling window in the {_MAX_SCAN_DAYS} days after {local.isoformat()}")


def is_allowed(policy: SchedulePolicy, at: float, urgent: bool = False) -> bool:
    """Whether a call may ring at ``at`` (epoch s)."""
    return next_allowed_at(policy, at, urgent) == at


def max_attempts(job: Job, policy: SchedulePolicy) -> int:
    return job.max_attempts if job.max_attempts is not None else policy.max_attempts


def schedule(job: Job, policy: SchedulePolicy, now: float) -> Job:
    """Set ``next_at`` of a PENDING job: the first allowed instant after ``not_before_at`` and ``now``."""
    if job.status is not JobStatus.PENDING:
        return job
    return replace(job, next_at=next_allowed_at(policy, max(now, job.not_before_at), job.urgent))


@dataclass(frozen=True, slots=True)
class DialPlan:
    """What to do at one tick.

    Attributes:
        dial: jobs to Originate now, in order (caps applied).
        move: ``(job_id, new next_at)`` for due jobs whose time is no longer allowed (the dialler was
            down through the window, a holiday began): they move to the next window.
        held: due jobs left for later by a cap.
    """

    dial: tuple[Job, ...] = ()
    move: tuple[tuple[str, float], ...] = ()
    held: tuple[str, ...] = ()


def plan_dials(jobs: Iterable[Job], policy: SchedulePolicy, now: float) -> DialPlan:
    """Pick the due PENDING jobs to dial now, within the global and per-trunk caps.

    Args:
        jobs: every open job (in-flight ones count against the caps).
        now: epoch seconds.
    """
    jobs = list(jobs)
    in_flight = [j for j in jobs if j.status.in_flight]
    total = len(in_flight)
    per_trunk = Counter(j.trunk for j in in_flight)
    due = sorted(
        (j for j in jobs if j.status is JobStatus.PENDING and j.next_at is not None and j.next_at <= now),
        key=lambda j: (not j.urgent, j.next_at, j.job_id),
    )
    dial: list[Job] = []
    move: list[tuple[str, float]] = []
    held: list[str] = []
    for job in due:
        allowed = next_allowed_at(policy, now, job.urgent)
        if allowed > now:
            move.append((job.job_id, allowed))
            continue
        if total >= policy.max_concurrent or per_trunk[job.trunk] >= policy.trunk_cap(job.trunk):
            held.append(job.job_id)
            continue
        dial.append(job)
        total += 1
        per_trunk[job.trunk] += 1
    return DialPlan(tuple(dial), tuple(move), tuple(held))


def start_attempt(job: Job, now: float, action_id: str) -> Job:
    """PENDING -> DIALING: one more attempt, ``attempt_id = <job_id>#<n>``.

    Raises:
        JobClosed: the job is not PENDING.
    """
    if job.status is not JobStatus.PENDING:
        raise JobClosed(job.job_id, job.status.value)
    n = job.attempts + 1
    return replace(job, status=JobStatus.DIALING, attempts=n, attempt_id=f"{job.job_id}#{n}",
                   action_id=action_id, attempt_started_at=now, uniqueid=None, next_at=None)


def answered(job: Job, uniqueid: str | None, now: float) -> Job:
    """DIALING/UNKNOWN -> IN_CALL (``OriginateResponse`` Reason 4, or a live channel found)."""
    del now
    if job.status not in (JobStatus.DIALING, JobStatus.UNKNOWN):
        return job
    return replace(job, status=JobStatus.IN_CALL, uniqueid=uniqueid)


def record_outcome(job: Job, outcome: Outcome, policy: SchedulePolicy, now: float, rating: int | None = None) -> Job:
    """Close the current attempt: DONE, FAILED (attempts exhausted) or PENDING at the retry gap.

    ``ANSWERED`` closes a job, except a satisfaction survey without a ``rating`` (then ``NO_INPUT``).
    Stale calls (the job is not in flight) return the job unchanged.
    """
    if not job.status.in_flight:
        return job
    if outcome is Outcome.ANSWERED and job.kind is JobKind.SATISFACTION and rating is None:
        outcome = Outcome.NO_INPUT
    started = job.attempt_started_at if job.attempt_started_at is not None else now
    history = (*job.history, AttemptRecord(job.attempts, started, now, outcome, rating))
    job = replace(job, history=history, last_outcome=outcome, uniqueid=None)  # the attempt, closed
    if outcome is Outcome.ANSWERED:
        return replace(job, status=JobStatus.DONE, rating=rating, next_at=None)
    if job.attempts >= max_attempts(job, policy):
        return replace(job, status=JobStatus.FAILED, next_at=None, reason=f"{job.attempts} attempts, last {outcome}")
    next_at = next_allowed_at(policy, max(now + policy.gap_s(outcome), job.not_before_at), job.urgent)
    return replace(job, status=JobStatus.PENDING, next_at=next_at)


def connection_lost(job: Job) -> Job:
    """AMI dropped: an in-flight attempt becomes UNKNOWN (never re-sent blindly)."""
    if job.status not in (JobStatus.DIALING, JobStatus.IN_CALL):
        return job
    return replace(job, status=JobStatus.UNKNOWN, reason="answered" if job.status is JobStatus.IN_CALL else "")


def resolve_unknown(job: Job, live_uniqueid: str | None, policy: SchedulePolicy, now: float,
                    live_up: bool = True) -> Job:
    """Apply the evidence found after a reconnect or a restart (see the module docstring).

    Args:
        live_uniqueid: the uniqueid of a live channel whose AccountCode is the attempt id, or None.
        live_up: that channel is answered (``ChannelStateDesc: Up``); False while it still rings.
    Returns:
        IN_CALL (live and up), DIALING re-attached to the ringing channel (its Hangup ends the
        attempt), or the attempt closed as described in the module docstring.
    """
    if job.status is not JobStatus.UNKNOWN:
        return job
    if live_uniqueid is not None:
        if live_up:
            return replace(answered(job, live_uniqueid, now), reason="")
        return replace(job, status=JobStatus.DIALING, uniqueid=live_uniqueid, reason="")
    was_answered = job.reason == "answered"
    job = replace(job, reason="")
    if was_answered:
        return record_outcome(job, Outcome.ANSWERED, policy, now)  # a survey becomes NO_INPUT
    return record_outcome(job, Outcome.UNKNOWN, policy, now)


def cancel(job: Job, now: float, reason: str = "cancelled") -> Job:
    """Cancel an open job (an in-flight call is left to finish; its outcome is then ignored).

    Raises:
        JobClosed: the job is DONE, FAILED or CANCELLED already.
    """
    del now
    if not job.status.open:
        raise JobClosed(job.job_id, job.status.value)
    return replace(job, status=JobStatus.CANCELLED, next_at=None, reason=reason)


def reschedule(job: Job, at: float, policy: SchedulePolicy, now: float, *, reset_attempts: bool = False) -> Job:
    """Move a job to ``at`` (or the next allowed instant after it); reopens FAILED jobs too.

    Raises:
        JobClosed: the job is DONE or CANCELLED, or a call is in flight.
    """
    if job.status in (JobStatus.DONE, JobStatus.CANCELLED) or job.status.in_flight:
        raise JobClosed(job.job_id, job.status.value)
    attempts = 0 if reset_attempts or job.status is JobStatus.FAILED else job.attempts
    moved = replace(job, status=JobStatus.PENDING, not_before_at=at, attempts=attempts, reason="")
    return schedule(moved, policy, now)
