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
    "NotFound", "RequestError", "Unavailable", "UsersFileError", "WebError", "status_of",
]

#: an API failure (the kernel's request error categories, re-exported for the web layer)
WebError = RequestError

#: the one mapping from request error categories to HTTP statuses (most specific class first)
HTTP_STATUS: tuple[tuple[type[RequestError], int], ...] = (
    (InvalidRequest, 400),
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
