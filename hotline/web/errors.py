"""Errors of the web layer: one class per failure, each with its HTTP metadata.

An API error answers ``{"error_id": ..., "message": ..., "details": {...}}`` with ``status_code``
(see ``ErrorBody`` in :mod:`hotline.web.schemas`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from hotline.kernel.errors import HotlineError


class WebError(HotlineError):
    """Base class: an API failure with an HTTP status, a stable id and details for the client."""

    status_code: ClassVar[int] = 500
    error_id: ClassVar[str] = "internal-error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        return {"error_id": self.error_id, "message": self.message, "details": self.details}


class InvalidRequest(WebError, ValueError):
    status_code = 400
    error_id = "invalid-request"


class NotAuthenticated(WebError, PermissionError):
    status_code = 401
    error_id = "not-authenticated"


class Forbidden(WebError, PermissionError):
    status_code = 403
    error_id = "forbidden"


class CsrfRejected(Forbidden):
    error_id = "csrf-rejected"


class NotFound(WebError, LookupError):
    status_code = 404
    error_id = "not-found"


class Conflict(WebError):
    """The request is valid but not now (e.g. pausing an agent who is on a call)."""

    status_code = 409
    error_id = "conflict"


class NotConfigured(WebError):
    """No provider is wired for this capability (callbacks, reminders, announcements ...)."""

    status_code = 503
    error_id = "not-configured"


class Unavailable(WebError, ConnectionError):
    """A backend (AMI) did not answer in time or is disconnected."""

    status_code = 503
    error_id = "unavailable"


class UsersFileError(HotlineError, ValueError):
    """The users file is invalid; ``problems`` lists every problem (file, user, key, message)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid users file:\n  " + "\n  ".join(problems))
