"""One background task between a component's ``start()`` and ``stop()``, and the periodic sweep loop.

Every service component that runs a loop owns a :class:`BackgroundTask` (composition, not a base
class: each component keeps its own ``start``/``stop`` and says what it does around them, e.g. load
state first, flush last)::

    self._bg = BackgroundTask("sla-monitor")
    async def start(self): self._bg.start(self._run)
    async def stop(self): await self._bg.stop()

The task's loop watches ``self._bg.stopping`` (or is cancelled); :func:`periodically` is the loop
of the components that sweep something every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("hotline.kernel.background")


class BackgroundTask:
    """One named asyncio task, started once and stopped by ``stopping`` then cancellation.

    Args:
        name: the task's name (``asyncio.Task.get_name()``, in logs).
    Attributes:
        stopping: set by :meth:`stop` (cleared by :meth:`start`): a loop checks it to end on its own.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        """True between :meth:`start` and the end of :meth:`stop` (also if the task already ended)."""
        return self._task is not None

    def start(self, run: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Run ``run()`` as the task unless it is already started (returns at once; needs a running loop).

        Returns:
            True if started now, False if it was already started.
        """
        if self._task is not None:
            return False
        self.stopping.clear()
        self._task = asyncio.create_task(run(), name=self.name)
        self._task.add_done_callback(self._ended)
        return True

    async def stop(self, grace_s: float = 0.0, cancel_wait_s: float = 5.0) -> None:
        """Set :attr:`stopping`, give the task ``grace_s`` seconds to end on its own, then cancel it
        and wait for it (at most ``cancel_wait_s`` seconds). Idempotent; never raises the task's error
        (that was logged when the task ended).

        Args:
            grace_s: seconds to let the loop see ``stopping`` and return (e.g. let a blocking Redis
                command return instead of cancelling the client inside it); 0 cancels at once.
            cancel_wait_s: bound on waiting for the cancelled task; a task still running after it
                is logged and left behind.
        """
        self.stopping.set()
        task = self._task
        if task is None:
            return
        if grace_s > 0 and not task.done():
            await asyncio.wait({task}, timeout=grace_s)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=cancel_wait_s)
            if not task.done():
                log.error("background task %s did not end within %.1f s of being cancelled", self.name, cancel_wait_s)
        self._task = None

    def _ended(self, task: asyncio.Task[None]) -> None:
        """The task boundary: a task that ended with an error is logged (with its traceback) at once."""
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task %s ended with an error", self.name, exc_info=exc)


async def periodically(
    tick: Callable[[], Awaitable[object]],
    interval_s: float,
    stopping: asyncio.Event,
    *,
    what: str,
    expected: tuple[type[BaseException], ...] = (),
    warning: str | None = None,
    delay_first: bool = False,
    logger: logging.Logger = log,
) -> None:
    """Call ``tick()`` every ``interval_s`` seconds until ``stopping`` is set (the sweep loop).

    The wait between ticks ends early when ``stopping`` is set. An ``expected`` error (a backend
    outage the next tick may not meet) is logged as a warning (``warning % exc``); any
    other error is logged with its traceback (this is a task boundary: one failed sweep must not
    end the loop) and the loop carries on.

    Args:
        tick: the sweep (an async callable; its result is ignored).
        interval_s: seconds from the end of one tick to the start of the next.
        stopping: the event that ends the loop (``BackgroundTask.stopping``).
        what: the loop's name in log lines (``"SLA monitor"``).
        expected: the errors a tick may raise in normal operation.
        warning: the %-format of an expected error's warning (one ``%s``: the error); default
            ``"<what>: %s"``.
        delay_first: wait ``interval_s`` before the first tick (a watcher whose first load was done
            by ``start()``).
        logger: the component's logger.
    """
    warning = warning or f"{what}: %s"
    wait_first = delay_first
    while not stopping.is_set():
        if wait_first and await _stopped_within(stopping, interval_s):
            return
        wait_first = True
        try:
            await tick()
        except expected as exc:
            logger.warning(warning, exc)
        except Exception:  # the task boundary: log, and sweep again next time
            logger.exception("%s failed; next try in %.1f s", what, interval_s)


async def _stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``stopping``; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await stopping.wait()
    except TimeoutError:
        return stopping.is_set()
    return True
