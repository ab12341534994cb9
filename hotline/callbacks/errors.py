"""Errors of the callbacks package, under the service-wide ``HotlineError``.

Expected outcomes (a busy line, a rejected number in an import, a duplicate request) are values,
not exceptions; these are for requests an operator or API caller must correct.
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class CallbacksError(HotlineError):
    """Base class of every error raised by ``callbacks``."""


class InvalidNumber(CallbacksError, ValueError):
    """A phone number is not a mainland mobile or landline number. ``reason`` says why."""

    def __init__(self, raw: str, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"invalid number {raw!r}: {reason}")


class UnknownJob(CallbacksError, KeyError):
    """No reminder job (or callback request) with this id."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no such job: {job_id}")

    def __str__(self) -> str:
        return f"no such job: {self.job_id}"


class JobClosed(CallbacksError):
    """The job is already finished or cancelled: it cannot be cancelled or rescheduled."""

    def __init__(self, job_id: str, status: str) -> None:
        self.job_id = job_id
        self.status = status
        super().__init__(f"job {job_id} is already {status}")


class InvalidSchedule(CallbacksError, ValueError):
    """A calling window, retry gap or cap is malformed."""


class StoreUnavailable(CallbacksError, ConnectionError):
    """Redis did not answer (down, or slower than the timeout)."""
