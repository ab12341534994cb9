"""Routing state in Redis (redis.asyncio): the snapshot survives a restart of the service.

One Redis key holds one JSON document (:func:`hotline.queues.codec.snapshot_to_json`): every agent's
state, every waiting or ringing call with its position data, and the adapter's per-call record
(caller uniqueid and number, agent leg, pending Originate). One ``SET`` replaces it whole, so a
reader never sees half a state.

Saving is *coalesced*, not per event: :class:`SnapshotSaver` keeps at most one write in flight;
changes made while it writes are picked up by the next write, which serialises the state as it
is *then*. Under a burst the store lags the live state by one Redis round trip plus one
serialisation (a few ms on the lab), and never falls further behind. If Redis is down the saver
logs once per outage, retries with capped backoff, and routing carries on from memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hotline.kernel.background import BackgroundTask
from hotline.queues.codec import snapshot_from_json
from hotline.queues.exceptions import QueuesError
from hotline.queues.routing import RoutingSnapshot

__all__ = ["RoutingStore", "RoutingStoreError", "SnapshotSaver"]

log = logging.getLogger("hotline.routing.store")


class RoutingStoreError(QueuesError):
    """Redis could not be read or written (down, timed out, or refused). ``key`` says which key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"routing store {key}: {message}")


class RoutingStore:
    """Reads and writes the routing snapshot under one key.

    Args:
        redis: a ``redis.asyncio.Redis`` client (``decode_responses`` either way).
        key: the snapshot key (``RoutingSettings.redis_key``).
        timeout_s: bound of every Redis call.
    """

    def __init__(self, redis: Redis, key: str, timeout_s: float = 2.0) -> None:
        self.redis = redis
        self.key = key
        self.timeout_s = timeout_s

    async def load(self) -> tuple[RoutingSnapshot, dict[str, Any]] | None:
        """The saved ``(snapshot, extra)``, or None when nothing was saved.

        Raises:
            RoutingStoreError: Redis unreachable or timed out.
            CodecError: the key holds something that is not a routing snapshot.
        """
        try:
            raw = await asyncio.wait_for(self.redis.get(self.key), self.timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RoutingStoreError(self.key, f"cannot read: {type(exc).__name__}: {exc}") from exc
        if raw is None:
            return None
        return snapshot_from_json(raw)

    async def save(self, text: str) -> None:
        """Replace the snapshot with ``text`` (one ``SET``).

        Raises:
            RoutingStoreError: Redis unreachable or timed out.
        """
        try:
            await asyncio.wait_for(self.redis.set(self.key, text), self.timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RoutingStoreError(self.key, f"cannot write: {type(exc).__name__}: {exc}") from exc

    async def clear(self) -> None:
        """Delete the snapshot (tests, or an operator starting a fresh day)."""
        try:
            await asyncio.wait_for(self.redis.delete(self.key), self.timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            raise RoutingStoreError(self.key, f"cannot delete: {exc}") from exc


class SnapshotSaver:
    """Background task writing the latest snapshot after changes (coalesced, one write in flight).

    Args:
        store: where to write.
        render: returns the JSON text of the state *now* (called on the event loop, at write time).
        retry_min_s, retry_max_s: backoff bounds while Redis fails.
    """

    def __init__(self, store: RoutingStore, render: Callable[[], str], retry_min_s: float = 0.2,
                 retry_max_s: float = 5.0) -> None:
        self.store = store
        self.render = render
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.saves = 0
        self.failures = 0
        self._dirty = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._bg = BackgroundTask("routing-snapshot-saver")

    def mark_dirty(self) -> None:
        """The state changed: write it soon (non-blocking)."""
        self._dirty.set()
        self._idle.clear()

    def start(self) -> None:
        self._bg.start(self._run)

    async def flush(self, timeout: float) -> bool:
        """Wait until the latest change is written; False if still dirty after ``timeout`` s."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def stop(self, timeout: float = 3.0) -> None:
        """Write what is pending (at most ``timeout`` s), then stop the task."""
        await self.flush(timeout)
        await self._bg.stop()

    async def _run(self) -> None:
        backoff = self.retry_min_s
        failing = False
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.store.save(self.render())
            except RoutingStoreError as exc:
                self.failures += 1
                if not failing:
                    log.warning("%s (routing continues from memory; retrying)", exc)
                failing = True
                self._dirty.set()
                await asyncio.sleep(backoff)  # bounded retry pause, not a wait for a condition
                backoff = min(backoff * 2, self.retry_max_s)
                continue
            if failing:
                log.info("routing store %s writable again", self.store.key)
            failing = False
            backoff = self.retry_min_s
            self.saves += 1
            if not self._dirty.is_set():
                self._idle.set()
