"""Errors of recording and the catalog: one base class, one subclass per failure.

Expected outcomes are values: a header-only or sub-second recording is marked ``skipped`` in the
catalog, not raised. These are for what an operator has to fix.
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class RecordingError(HotlineError):
    """Base class of every error raised by ``recording``."""


class RecordingStartFailed(RecordingError):
    """Asterisk refused or did not answer the ``MixMonitor`` action.

    Attributes:
        linkedid: the call.
        uniqueid: the leg that was to be recorded.
        reason: Asterisk's message or the timeout.
    """

    def __init__(self, linkedid: str, uniqueid: str, reason: str) -> None:
        super().__init__(f"MixMonitor on leg {uniqueid} of call {linkedid} failed: {reason}")
        self.linkedid = linkedid
        self.uniqueid = uniqueid
        self.reason = reason


class RecordingNotClosed(RecordingError, TimeoutError):
    """MixMonitor did not close the file within the allowed time (Asterisk stuck, disk full)."""

    def __init__(self, path: str, timeout_s: float) -> None:
        super().__init__(f"{path}: still being written {timeout_s:.0f}s after the leg ended")
        self.path = path
        self.timeout_s = timeout_s


class CatalogError(RecordingError):
    """Base class of catalog failures."""


class CatalogUnavailable(CatalogError, ConnectionError):
    """The catalog database failed or timed out.

    Attributes:
        operation: what was being done (``put transcript``, ``search`` ...).
    """

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"catalog {operation} failed: {reason}")
        self.operation = operation
        self.reason = reason


class FullTextUnsupported(CatalogError):
    """The SQLite library lacks FTS5 with the trigram tokenizer (needs SQLite >= 3.34).

    Python's ``sqlite3`` module uses the SQLite it was built with (3.40 on Debian 12 and in
    python.org's 3.11 builds); an older one needs a newer Python build.
    """

    def __init__(self, version: str, reason: str) -> None:
        super().__init__(
            f"SQLite {version} cannot build the transcript index (FTS5 trigram needs >= 3.34): {reason}; "
            "use a Python whose sqlite3 module has SQLite >= 3.34"
        )
        self.version = version


class MigrationFailed(CatalogError):
    """``alembic upgrade head`` failed on the catalog database."""
