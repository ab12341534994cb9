"""One background task between ``start()`` and ``stop()``: the shape of many service components."""

from __future__ import annotations

import asyncio
import contextlib


class BackgroundTask:
    """Mixin: ``start()`` runs ``self._run()`` as one task, ``stop()`` sets ``self._stop`` and cancels it.

    The class sets ``_stop: asyncio.Event`` and ``_task: asyncio.Task | None = None`` in its
    ``__init__`` and names the task with ``task_name``. Both calls are idempotent.
    """

    task_name = "background"
    _stop: asyncio.Event
    _task: asyncio.Task[None] | None

    async def _run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Start the task (returns at once)."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """Ask the task to stop, cancel it and wait for it to end."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
