"""Append-only JSON-lines files written on their own thread (never file I/O on the event loop).

Used by the audit log (:mod:`hotline.web.audit`) and the stand-alone floor's event log (:mod:`hotline.web.floor`).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_STOP = object()


class JsonlWriter:
    """Appends one JSON object per line, in call order, from a background thread.

    Args:
        path: the file (parent folders created); opened in append mode, line-buffered.
    Raises:
        OSError: the file cannot be opened (at construction, so a bad path fails the start).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("a", encoding="utf-8")
        self._q: queue.Queue[object] = queue.Queue()
        self._flushed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"jsonl:{path.name}", daemon=True)
        self._thread.start()
        self.written = 0
        self.errors = 0

    def append(self, record: dict[str, Any]) -> None:
        """Queue ``record`` (JSON-serialisable, non-ASCII kept) for writing; never blocks."""
        self._q.put(json.dumps(record, ensure_ascii=False, separators=(",", ":")))

    def _run(self) -> None:
        while True:
            item = self._q.get()
            if item is _STOP:
                self._fh.flush()
                self._q.task_done()
                return
            try:
                self._fh.write(f"{item}\n")
                if self._q.empty():
                    self._fh.flush()
                self.written += 1
            except OSError:
                self.errors += 1
            finally:
                self._q.task_done()

    def flush(self) -> None:
        """Block until everything queued so far is on disk (call from a thread)."""
        self._q.join()
        self._fh.flush()

    def close(self) -> None:
        """Write what is queued and close the file (blocking; call from a thread)."""
        if self._thread.is_alive():
            self._q.put(_STOP)
            self._thread.join(timeout=10)
        self._fh.close()


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield each object of a JSON-lines file; a torn last line (crash mid-write) is skipped.

    Blocking: call from a thread. A missing file yields nothing.
    """
    try:
        fh = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return
    with fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                yield obj
