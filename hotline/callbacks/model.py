"""Plain data of the callbacks core: outbound call jobs, their attempts and outcomes. Pure.

Times are epoch seconds (``_at``) or durations in seconds (``_s``); the AMI ``Timestamp`` clock.

A **job** is one outbound call to make (a voice reminder, a satisfaction follow-up, a department
deadline reminder, or the execution of a keep-my-place callback). It is tried up to
``max_attempts`` times; each try is an **attempt** identified by ``attempt_id`` =
``<job_id>#<n>``, which is also the Originate ``ActionID`` suffix, the channel's ``AccountCode``
and the ``Attempt`` header of the dialplan's ``UserEvent(HotlineReminder)``: every piece of
evidence about an attempt is correlated by it, never by channel name or ``<null>`` uniqueid.

Status machine::

    PENDING --dial--> DIALING --OriginateResponse 4--> IN_CALL --UserEvent / Hangup--> DONE
       ^                 |  \\--Reason 0/1/3/5/8--> PENDING (retry gap) or FAILED (exhausted)
       |                 \\--AMI lost--> UNKNOWN --evidence (CoreShowChannels)--> IN_CALL or PENDING/FAILED
       +------ reschedule (any open status but DIALING/IN_CALL) ; cancel -> CANCELLED
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class JobKind(enum.StrEnum):
    """What the call is for."""

    REMINDER = "reminder"  # play a message (prompts + Say applications)
    SATISFACTION = "satisfaction"  # work order closed: press 1 satisfied, 2 basically, 3 dissatisfied
    DEADLINE = "deadline"  # a department's work order nears (yellow) or passed (red) its due time
    CALLBACK = "callback"  # keep-my-place callback: ring the citizen, connect an agent


class JobStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for next_at
    DIALING = "dialing"  # Originate sent, no OriginateResponse yet
    IN_CALL = "in_call"  # answered, the dialplan plays the message
    UNKNOWN = "unknown"  # the AMI connection dropped while DIALING/IN_CALL: waiting for evidence
    DONE = "done"
    FAILED = "failed"  # attempts exhausted (or a permanent failure)
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        return self in (JobStatus.PENDING, JobStatus.DIALING, JobStatus.IN_CALL, JobStatus.UNKNOWN)

    @property
    def in_flight(self) -> bool:
        """Holds (or may hold) a channel: counts against the concurrency caps."""
        return self in (JobStatus.DIALING, JobStatus.IN_CALL, JobStatus.UNKNOWN)


class Outcome(enum.StrEnum):
    """How one attempt ended."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    HUNG_UP = "hung_up"  # Reason 1: the far end hung up before answer
    NO_INPUT = "no_input"  # answered, but the survey got no valid key
    UNKNOWN = "unknown"  # Originate sent, then AMI lost; no evidence of the call afterwards


#: AMI ``OriginateResponse`` ``Reason`` (Asterisk's AST_CONTROL_* of the outgoing channel)
REASON_OUTCOMES: dict[int, Outcome] = {
    0: Outcome.FAILED,
    1: Outcome.HUNG_UP,
    3: Outcome.NO_ANSWER,
    4: Outcome.ANSWERED,
    5: Outcome.BUSY,
    8: Outcome.CONGESTION,
}

#: satisfaction key -> label (what goes to the work order's ``Satisfaction`` field)
RATINGS: dict[int, str] = {1: "satisfied", 2: "basically_satisfied", 3: "dissatisfied"}
NO_RATING = "no_answer"


@dataclass(frozen=True, slots=True)
class Message:
    """What an answered call hears, in order: prompts, then the Say items, then (survey) the question.

    Attributes:
        prompts: sound files without extension (``hotline/zh/reminder_intro``), ``Playback`` order.
        say_digits: read digit by digit with ``SayDigits`` (a work-order number).
        say_number: read as a number with ``SayNumber``.
        say_time_at: epoch s read with ``SayUnixTime`` in the hotline's time zone (a due date).
        closing: prompts after the Say items (``goodbye``).
        survey_prompt: for satisfaction jobs, the question read by ``Read`` (one digit).
    """

    prompts: tuple[str, ...] = ()
    say_digits: str = ""
    say_number: int | None = None
    say_time_at: float | None = None
    closing: tuple[str, ...] = ()
    survey_prompt: str = ""


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One finished attempt (kept in the job's history)."""

    n: int
    started_at: float
    ended_at: float
    outcome: Outcome
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One outbound call to make, with its retry state.

    Attributes:
        job_id: idempotent id (``sat-<work order>``, ``due-<work order>-red``, ``csv-<hash>``,
            ``cb-<request>``): adding a job whose id exists is a no-op.
        number: national digits (see :mod:`hotline.callbacks.numbers`).
        trunk: PJSIP endpoint the call goes out on (``PJSIP/<number>@<trunk>``), and the key of the
            per-trunk cap.
        not_before_at: earliest epoch s to call (the schedule asked for).
        next_at: when the next attempt is due (inside a calling window), None when closed.
        urgent: may call on statutory holidays (red cards, explicit operator request).
        max_attempts: overrides the policy's when set.
        attempt_id: the current/last attempt (``<job_id>#<n>``).
        action_id: the Originate ActionID of the current attempt.
        uniqueid: the answered channel of the current attempt (from OriginateResponse), or None.
        rating: survey key 1-3 once given.
        meta: free data for the owner (work_order_id, department, queue, request_id ...).
    """

    job_id: str
    kind: JobKind
    number: str
    created_at: float
    not_before_at: float
    message: Message = Message()
    trunk: str = "trunk"
    urgent: bool = False
    max_attempts: int | None = None
    status: JobStatus = JobStatus.PENDING
    next_at: float | None = None
    attempts: int = 0
    attempt_id: str = ""
    action_id: str = ""
    attempt_started_at: float | None = None
    uniqueid: str | None = None
    last_outcome: Outcome | None = None
    rating: int | None = None
    reason: str = ""
    history: tuple[AttemptRecord, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.job_id)


def job_to_dict(job: Job) -> dict[str, Any]:
    """JSON-ready dict of a job (the Redis record and the API body)."""
    return {
        "job_id": job.job_id,
        "kind": job.kind.value,
        "number": job.number,
        "created_at": job.created_at,
        "not_before_at": job.not_before_at,
        "message": {
            "prompts": list(job.message.prompts),
            "say_digits": job.message.say_digits,
            "say_number": job.message.say_number,
            "say_time_at": job.message.say_time_at,
            "closing": list(job.message.closing),
            "survey_prompt": job.message.survey_prompt,
        },
        "trunk": job.trunk,
        "urgent": job.urgent,
        "max_attempts": job.max_attempts,
        "status": job.status.value,
        "next_at": job.next_at,
        "attempts": job.attempts,
        "attempt_id": job.attempt_id,
        "action_id": job.action_id,
        "attempt_started_at": job.attempt_started_at,
        "uniqueid": job.uniqueid,
        "last_outcome": job.last_outcome.value if job.last_outcome else None,
        "rating": job.rating,
        "reason": job.reason,
        "history": [
            {"n": a.n, "started_at": a.started_at, "ended_at": a.ended_at, "outcome": a.outcome.value,
             "rating": a.rating}
            for a in job.history
        ],
        "meta": dict(job.meta),
    }


def job_from_dict(data: dict[str, Any]) -> Job:
    """Inverse of :func:`job_to_dict`.

    Raises:
        KeyError, ValueError: a malformed record.
    """
    msg = data.get("message") or {}
    return Job(
        job_id=data["job_id"],
        kind=JobKind(data["kind"]),
        number=data["number"],
        created_at=float(data["created_at"]),
        not_before_at=float(data["not_before_at"]),
        message=Message(
            prompts=tuple(msg.get("prompts", ())),
            say_digits=msg.get("say_digits", ""),
            say_number=msg.get("say_number"),
            say_time_at=msg.get("say_time_at"),
            closing=tuple(msg.get("closing", ())),
            survey_prompt=msg.get("survey_prompt", ""),
        ),
        trunk=data.get("trunk", "trunk"),
        urgent=bool(data.get("urgent", False)),
        max_attempts=data.get("max_attempts"),
        status=JobStatus(data.get("status", "pending")),
        next_at=data.get("next_at"),
        attempts=int(data.get("attempts", 0)),
        attempt_id=data.get("attempt_id", ""),
        action_id=data.get("action_id", ""),
        attempt_started_at=data.get("attempt_started_at"),
        uniqueid=data.get("uniqueid"),
        last_outcome=Outcome(data["last_outcome"]) if data.get("last_outcome") else None,
        rating=data.get("rating"),
        reason=data.get("reason", ""),
        history=tuple(
            AttemptRecord(int(a["n"]), float(a["started_at"]), float(a["ended_at"]), Outcome(a["outcome"]),
                          a.get("rating"))
            for a in data.get("history", ())
        ),
        meta=dict(data.get("meta") or {}),
    )
