"""Wallboard push: one snapshot built per change, fanned out to every WebSocket client.

The floor calls :meth:`WallboardHub.changed` synchronously after each change; the hub builds the
board at most once per ``min_interval_s`` (changes in between are coalesced into the next
snapshot) and a heartbeat rebuilds it every ``heartbeat_s`` (waits grow without events). Each
client has its own sender task holding only the latest frame, so a slow browser gets fewer frames
and never delays the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("hotline.web.hub")


class _Client:
    __slots__ = ("frame", "ready", "task", "ws")

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.ready = asyncio.Event()
        self.frame = ""
        self.task: asyncio.Task[None] | None = None


class WallboardHub:
    """Fan-out of wallboard snapshots.

    Args:
        build: returns the current snapshot (plain JSON-ready dict); cheap, synchronous.
        min_interval_s: at most one snapshot per this many seconds.
        heartbeat_s: rebuild at least this often.
    """

    def __init__(self, build: Callable[[], dict[str, Any]], min_interval_s: float = 0.05,
                 heartbeat_s: float = 2.0) -> None:
        self.build = build
        self.min_interval_s = min_interval_s
        self.heartbeat_s = heartbeat_s
        self._clients: set[_Client] = set()
        self._pending: asyncio.TimerHandle | asyncio.Handle | None = None
        self._last_push = 0.0
        self.frames_built = 0
        self.last_frame = ""

    @property
    def clients(self) -> int:
        return len(self._clients)

    def frame(self) -> str:
        """A fresh snapshot as JSON text."""
        return json.dumps(self.build(), ensure_ascii=False, separators=(",", ":"))

    def changed(self) -> None:
        """Something on the floor changed: push soon (coalesced)."""
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # replay before the loop runs
            return
        wait = self._last_push + self.min_interval_s - time.monotonic()
        self._pending = loop.call_later(wait, self._push) if wait > 0 else loop.call_soon(self._push)

    def _push(self) -> None:
        self._pending = None
        self._last_push = time.monotonic()
        try:
            frame = json.dumps(self.build(), ensure_ascii=False, separators=(",", ":"))
        except Exception:  # a bug in the board must not stop the pushes
            log.exception("cannot build the wallboard snapshot")
            return
        self.frames_built += 1
        self.last_frame = frame
        for c in self._clients:
            c.frame = frame
            c.ready.set()

    async def heartbeat(self) -> None:
        """Rebuild every ``heartbeat_s`` (run as a background task)."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if self._clients:
                self.changed()

    async def serve(self, ws: web.WebSocketResponse) -> None:
        """Serve one prepared WebSocket until it closes: current snapshot first, then each change."""
        client = _Client(ws)
        client.frame = self.frame()
        client.ready.set()
        client.task = asyncio.create_task(self._sender(client), name="wallboard-sender")
        self._clients.add(client)
        try:
            async for _msg in ws:  # the board only listens; reading notices the close
                pass
        finally:
            self._clients.discard(client)
            client.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await client.task

    async def _sender(self, client: _Client) -> None:
        while True:
            await client.ready.wait()
            client.ready.clear()
            try:
                await client.ws.send_str(client.frame)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        """Close every client (app shutdown)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        for c in list(self._clients):
            with contextlib.suppress(Exception):
                await c.ws.close(code=1001, message=b"server shutdown")
