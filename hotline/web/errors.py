"""Errors of the web layer and the one mapping of request errors to HTTP statuses.

An API error answers ``{"error_id": ..., "message": ..., "details": {...}}`` with the status :func:`status_of` gives
(see ``ErrorBody`` in :mod:`hotline.web.schemas`).
"""

from __future__ import annotations

from hotline.kernel.errors import ProblemsError
from hotline.kernel.requests import (
    Conflict,
    CsrfRejected,
    Forbidden,
    InvalidRequest,
    NotAuthenticated,
    NotConfigured,
    NotFound,
    RequestError,
    Unavailable,
)

__all__ = [
    "HTTP_STATUS", "Conflict", "CsrfRejected", "Forbidden", "InvalidRequest", "NotAuthenticated", "NotConfigured",
    "NotFound", "RequestError", "TooManyAttempts", "Unavailable", "UsersFileError", "WebError", "status_of",
]

#: an API failure (the kernel's request error categories, re-exported for the web layer)
WebError = RequestError


class TooManyAttempts(NotAuthenticated):
    """Too many failed logins for this user name or client address (429); ``details.retry_after_s``."""

    error_id = "too-many-attempts"


#: the one mapping from request error categories to HTTP statuses (most specific class first)
HTTP_STATUS: tuple[tuple[type[RequestError], int], ...] = (
    (InvalidRequest, 400),
    (TooManyAttempts, 429),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (NotConfigured, 503),
    (Unavailable, 503),
)


def status_of(exc: RequestError) -> int:
    """The HTTP status of a request error (500 for a category not in :data:`HTTP_STATUS`)."""
    return next((status for cls, status in HTTP_STATUS if isinstance(exc, cls)), 500)


class UsersFileError(ProblemsError):
    """The users file is invalid; ``problems`` lists every problem (file, user, key, message)."""

    headline = "invalid users file"
