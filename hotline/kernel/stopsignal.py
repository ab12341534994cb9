"""Stop a long-running command on SIGTERM or SIGINT by setting an event (the workers' ``serve()``)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: asyncio.Event | None = None) -> Iterator[asyncio.Event]:
    """The event that stops the caller: ``stop`` if given, else a new one set by SIGTERM or SIGINT.

    With no ``stop``, the handlers are installed on the running loop for the ``with`` block and
    removed after it (so a library caller passing its own event gets no signal handling).
    Needs a running loop in the main thread when ``stop`` is None.
    """
    if stop is not None:
        yield stop
        return
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, event.set)
    try:
        yield event
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
