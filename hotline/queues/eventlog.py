"""The routing event log: every routing input event and every fact the core emitted, replayable.

Each record is one JSON object (:func:`hotline.queues.codec.encode_event`) framed like the AMI event log
(``b"%.6f %d\\n" % (at, len) + json + b"\\n"``, :mod:`hotline.telephony.eventlog`), so a record cut short
by a crash ends the replay instead of corrupting it. Writes happen on the AMI log's writer thread
class (the event loop only enqueues bytes). :func:`read_events` gives the events back in order for
:func:`hotline.queues.metrics.replay`; ``since_at`` skips older records (e.g. before local midnight).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from hotline.queues.codec import CodecError, decode_event, encode_event
from hotline.telephony.eventlog import EventLogWriter, LogReadResult, iter_records

__all__ = ["RoutingEventLog", "read_events"]


class RoutingEventLog:
    """Appends routing events to ``path`` from a background thread.

    Raises:
        OSError: at construction, if the file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._writer = EventLogWriter(self.path)

    def append(self, event: object) -> None:
        """Queue one event (non-blocking). ``event.at`` (epoch s) is the record time."""
        data = json.dumps(encode_event(event), ensure_ascii=False, separators=(",", ":")).encode()
        self._writer.append(float(getattr(event, "at", 0.0)), data)

    @property
    def written(self) -> int:
        return self._writer.written

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event appended so far is written (blocking: call it from a thread)."""
        return self._writer.flush(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued and close (blocking: call it from a thread)."""
        self._writer.close(timeout)


def read_events(path: str | os.PathLike[str], since_at: float | None = None,
                result: LogReadResult | None = None) -> Iterator[object]:
    """Replay the log as routing events, in order (blocking file read: run it in a thread).

    Args:
        since_at: skip records older than this (epoch s).
        result: filled with the record count and whether the tail was truncated.
    Yields:
        Events of :mod:`hotline.queues.events`; an undecodable record is skipped (it is counted in
        ``result.records`` but not yielded).
    """
    p = Path(path)
    if not p.exists():
        return
    for at, raw in iter_records(p.read_bytes(), result):
        if since_at is not None and at < since_at:
            continue
        try:
            yield decode_event(json.loads(raw))
        except (CodecError, ValueError):
            continue
