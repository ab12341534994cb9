"""The audit log of supervisor and agent actions: who did what to whom, when (JSON lines).

One line per action, e.g.::

    {"at": 1767225600.12, "user": "zhang.wei", "role": "supervisor", "action": "pause",
     "target": "agent:1272", "details": {"reason": "coaching"}, "outcome": "ok"}

``outcome`` is ``ok`` or the error id of a refused action (refusals are audited too).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hotline.web.jsonl import JsonlWriter, read_jsonl


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited action. ``at`` is epoch seconds (server clock)."""

    at: float
    user: str
    role: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    outcome: str = "ok"


class AuditLog:
    """Appends entries to the file (on a thread) and keeps the last ``keep`` in memory for the API.

    Args:
        path: the JSON-lines file; None keeps entries in memory only (tests, demo).
        keep: how many recent entries ``recent()`` can return.
    """

    def __init__(self, path: Path | None, keep: int = 1000) -> None:
        self._writer = JsonlWriter(path) if path is not None else None
        self._recent: deque[AuditEntry] = deque(maxlen=keep)
        self.path = path

    def load_recent(self) -> None:
        """Fill the in-memory window from the file (blocking: run in a thread at start)."""
        if self.path is None:
            return
        for obj in read_jsonl(self.path):
            try:
                self._recent.append(AuditEntry(**obj))
            except TypeError:
                continue

    def record(self, entry: AuditEntry) -> None:
        """Append one entry (never blocks the event loop)."""
        self._recent.append(entry)
        if self._writer is not None:
            self._writer.append(asdict(entry))

    def recent(self, limit: int = 100) -> list[AuditEntry]:
        """The newest ``limit`` entries, newest first."""
        return list(reversed(self._recent))[:limit]

    def close(self) -> None:
        """Flush and close (blocking: run in a thread)."""
        if self._writer is not None:
            self._writer.close()

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()
