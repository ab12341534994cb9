"""Transcription jobs and their outcomes as plain data (pure: no Redis, no clock reads).

A job is one closed recording to transcribe. It travels as the fields of a Redis Stream entry
(``job_id``, ``path``, ``linkedid``, ``enqueued_at``); its outcome (a transcript, a skip or a
failure) is stored once per ``job_id`` by a :class:`hotline.speech.store.TranscriptSink`.

The default ``job_id`` is derived from the linkedid and the path, so enqueuing the same
recording twice (a recording watcher restarted, say) still yields one transcript. Pass an
explicit ``job_id`` to transcribe a recording again (with a new model, for instance).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hotline.speech.transcript import Transcript

#: Default Redis keys; one deployment may run several pipelines with other names.
DEFAULT_STREAM = "hotline:speech:jobs"
DEFAULT_GROUP = "transcribers"
DEFAULT_RESULTS_HASH = "hotline:speech:transcripts"
DEFAULT_RESULTS_STREAM = "hotline:speech:transcripts:events"

Status = Literal["done", "skipped", "failed"]


class InvalidJob(ValueError):
    """A stream entry lacks the fields of a job (written by something else, or corrupted)."""


@dataclass(frozen=True, slots=True)
class TranscriptionJob:
    """One recording to transcribe.

    Attributes:
        job_id: the idempotency key: one stored outcome per job id.
        path: the closed WAV file, as the workers see it (shared storage).
        linkedid: the call (Asterisk ``Linkedid``), for the catalog and logs.
        enqueued_at: epoch seconds.
        legs: mono WAV files to decode instead of ``path``'s channels, one per speaker (caller,
            agent), each at its own rate: a call whose legs were recorded at different rates
            (G.711 citizen ``wav``, G.722 agent ``wav16``). Empty: decode ``path``.
    """

    job_id: str
    path: str
    linkedid: str
    enqueued_at: float
    legs: tuple[str, ...] = ()

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields (strings); ``legs`` joined by newlines, only when there are legs."""
        fields = {
            "job_id": self.job_id,
            "path": self.path,
            "linkedid": self.linkedid,
            "enqueued_at": repr(self.enqueued_at),
        }
        if self.legs:
            fields["legs"] = "\n".join(self.legs)
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[bytes | str, bytes | str]) -> TranscriptionJob:
        """Parse stream entry fields (bytes or str keys and values, as redis-py returns them).

        Raises:
            InvalidJob: a field is missing or ``enqueued_at`` is not a number.
        """
        f = {_s(k): _s(v) for k, v in fields.items()}
        try:
            legs = tuple(p for p in f.get("legs", "").split("\n") if p)
            return cls(f["job_id"], f["path"], f.get("linkedid", ""), float(f.get("enqueued_at", "0")), legs)
        except (KeyError, ValueError) as exc:
            raise InvalidJob(f"not a transcription job: {f!r} ({exc})") from exc


def job_id_for(path: str, linkedid: str) -> str:
    """A stable job id for a recording of a call (24 hex digits of SHA-256 of linkedid and path)."""
    return hashlib.sha256(f"{linkedid}\0{path}".encode()).hexdigest()[:24]


def new_job(
    path: str, linkedid: str, now: float, job_id: str | None = None, legs: tuple[str, ...] = ()
) -> TranscriptionJob:
    """Build a job.

    Args:
        path: the closed recording.
        linkedid: the call.
        now: epoch seconds (the caller's clock).
        job_id: explicit id; default :func:`job_id_for` (same recording, same id).
        legs: mono leg files to decode each at its own rate (see :class:`TranscriptionJob`).
    """
    return TranscriptionJob(job_id or job_id_for(path, linkedid), path, linkedid, now, tuple(legs))


@dataclass(frozen=True, slots=True)
class Delivery:
    """A job as handed to one worker by the stream.

    Attributes:
        entry_id: the stream entry id (``1700000000000-0``), needed to XACK.
        job: the job, or None when the entry could not be parsed.
        times_delivered: how often the group delivered it (1 on first read; reclaims add one).
        error: why the entry could not be parsed.
    """

    entry_id: str
    job: TranscriptionJob | None
    times_delivered: int = 1
    error: str | None = None


def should_give_up(times_delivered: int, max_deliveries: int) -> bool:
    """True when a job was delivered more often than allowed (its decoder keeps dying)."""
    return times_delivered > max_deliveries


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What became of a job: stored once per ``job_id``.

    Attributes:
        job_id: the job.
        linkedid: the call.
        path: the recording.
        status: ``done`` (transcribed, maybe ``no_speech``), ``skipped`` (header-only or too
            short) or ``failed`` (unreadable file, decoder died too often).
        worker: the consumer name that produced it.
        finished_at: epoch seconds.
        transcript: the transcript (None when failed).
        error: the failure message (None unless failed).
        attempts: deliveries it took.
    """

    job_id: str
    linkedid: str
    path: str
    status: Status
    worker: str
    finished_at: float
    transcript: Transcript | None = None
    error: str | None = None
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "linkedid": self.linkedid,
            "path": self.path,
            "status": self.status,
            "worker": self.worker,
            "finished_at": self.finished_at,
            "attempts": self.attempts,
            "error": self.error,
            "transcript": self.transcript.to_dict() if self.transcript else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> JobOutcome:
        t = d.get("transcript")
        return cls(
            job_id=str(d["job_id"]),
            linkedid=str(d.get("linkedid", "")),
            path=str(d.get("path", "")),
            status=d["status"],
            worker=str(d.get("worker", "")),
            finished_at=float(d.get("finished_at", 0.0)),
            transcript=Transcript.from_dict(t) if t else None,
            error=d.get("error"),
            attempts=int(d.get("attempts", 1)),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> JobOutcome:
        return cls.from_dict(json.loads(text))


def outcome_for(
    job: TranscriptionJob, transcript: Transcript, *, worker: str, now: float, attempts: int = 1
) -> JobOutcome:
    """The outcome of a decoded (or skipped) recording."""
    status: Status = "skipped" if transcript.skipped else "done"
    return JobOutcome(job.job_id, job.linkedid, job.path, status, worker, now, transcript, None, attempts)


def failed_outcome(
    job: TranscriptionJob, error: str, *, worker: str, now: float, attempts: int = 1
) -> JobOutcome:
    """The outcome of a job that cannot succeed (unreadable file, decoder dying every time)."""
    return JobOutcome(job.job_id, job.linkedid, job.path, "failed", worker, now, None, error, attempts)


def _s(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v
