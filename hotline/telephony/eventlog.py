"""Append-only AMI event log: every raw frame with its receive time, replayable.

Record format (bytes, one record after another)::

    b"%.6f %d\\n" % (received_at, len(raw))  +  raw  +  b"\\n"

``raw`` is the frame exactly as Asterisk sent it (without the blank line), so replaying
the log through :func:`hotline.telephony.frames.parse_message` gives the very messages the live
pump saw, whatever their encoding. A record cut short by a crash is reported by
:func:`read_log` as the end of the log (``truncated=True``), never as garbage.

Writes happen on a dedicated thread (:class:`EventLogWriter`): the event loop only puts
bytes on a queue, so file I/O never blocks the pump.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hotline.telephony.frames import AmiMessage, parse_message

_STOP = object()


def encode_record(received_at: float, raw: bytes) -> bytes:
    """One log record for one frame."""
    return b"%.6f %d\n" % (received_at, len(raw)) + raw + b"\n"


@dataclass
class LogReadResult:
    """What :func:`read_log` found: ``records`` read and whether the tail was truncated."""

    records: int = 0
    truncated: bool = False


def iter_records(data: bytes, result: LogReadResult | None = None) -> Iterator[tuple[float, bytes]]:
    """Yield ``(received_at, raw)`` from the bytes of a log file."""
    pos, size = 0, len(data)
    while pos < size:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        try:
            ts, length = data[pos:nl].split(b" ")
            at, n = float(ts), int(length)
        except ValueError:
            if result is not None:
                result.truncated = True
            return
        end = nl + 1 + n
        if end + 1 > size:
            break
        yield at, data[nl + 1:end]
        if result is not None:
            result.records += 1
        pos = end + 1
    if pos < size and result is not None:
        result.truncated = True


def read_log(path: str | os.PathLike[str], fallback_encoding: str = "gb18030",
             result: LogReadResult | None = None) -> Iterator[AmiMessage]:
    """Replay a log file as AMI messages (with ``received_at`` restored), in order."""
    data = Path(path).read_bytes()
    for at, raw in iter_records(data, result):
        if raw.startswith(b"Asterisk Call Manager/"):
            continue
        yield parse_message(raw, at, fallback_encoding)


class EventLogWriter:
    """Appends records to a file from a background thread.

    Args:
        path: the log file; parent folders are created. Opened in append mode.
        fsync_every: records between ``fsync`` calls (0: never fsync, only flush).
    Raises:
        OSError: at construction, if the file cannot be opened.
    """

    def __init__(self, path: str | os.PathLike[str], fsync_every: int = 0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "ab")
        self._q: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._fsync_every = fsync_every
        self.written = 0
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="ami-event-log", daemon=True)
        self._thread.start()

    def append(self, received_at: float, raw: bytes) -> None:
        """Queue one frame for writing (non-blocking; safe from the event loop)."""
        self._q.put(encode_record(received_at, raw))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued before this call is written (blocking: call it from a thread).

        Returns:
            False if that took longer than ``timeout`` seconds.
        """
        done = threading.Event()
        self._q.put(done)
        return done.wait(timeout)

    def _run(self) -> None:
        fh = self._fh
        pending = 0
        while True:
            item = self._q.get()
            batch = [item]
            while True:  # drain what is queued: one write per burst
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            stop = any(b is _STOP for b in batch)
            flushed = [b for b in batch if isinstance(b, threading.Event)]
            data = b"".join(b for b in batch if isinstance(b, bytes))
            try:
                if data:
                    fh.write(data)
                    fh.flush()
                    n = len(batch) - (1 if stop else 0) - len(flushed)
                    self.written += n
                    pending += n
                    if self._fsync_every and pending >= self._fsync_every:
                        os.fsync(fh.fileno())
                        pending = 0
            except OSError as exc:  # disk full etc.: keep the error for the operator
                self.error = exc
            for event in flushed:
                event.set()
            if stop:
                return

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then close the file (waits at most ``timeout`` seconds)."""
        self._q.put(_STOP)
        self._thread.join(timeout)
        self._fh.close()
