"""Why a request (an API call, a command) cannot be served: one category per failure.

Domains raise these (an unknown callback id is :class:`NotFound`, Redis down is
:class:`Unavailable`); the web layer maps each category to its HTTP status in one place
(:data:`hotline.web.errors.HTTP_STATUS`), so no domain knows about HTTP.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hotline.kernel.errors import HotlineError


class RequestError(HotlineError):
    """Base class: a request that cannot be served, with a stable id and details for the client."""

    error_id: ClassVar[str] = "internal-error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        return {"error_id": self.error_id, "message": self.message, "details": self.details}


class InvalidRequest(RequestError, ValueError):
    error_id = "invalid-request"


class NotAuthenticated(RequestError, PermissionError):
    error_id = "not-authenticated"


class Forbidden(RequestError, PermissionError):
    error_id = "forbidden"


class CsrfRejected(Forbidden):
    error_id = "csrf-rejected"


class NotFound(RequestError, LookupError):
    error_id = "not-found"


class Conflict(RequestError):
    """The request is valid but not now (e.g. pausing an agent who is on a call)."""

    error_id = "conflict"


class NotConfigured(RequestError):
    """No provider is wired for this capability (callbacks, reminders, announcements ...)."""

    error_id = "not-configured"


class Unavailable(RequestError, ConnectionError):
    """A backend (AMI) did not answer in time or is disconnected."""

    error_id = "unavailable"
