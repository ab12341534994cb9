"""Typed subscription lists: how one component tells others that something happened.

A publisher owns a :class:`Subscribers` (synchronous subscribers, called in place: e.g. on the routing
worker, so they must not block) or an :class:`AsyncSubscribers` (awaited one after the other, each
within a time budget). Subscribers are called in the order they subscribed; each call is isolated:
an exception in one is logged (naming the item: its ``linkedid`` when it has one) and the others are still
called. The composition root (:mod:`hotline.app.wiring`) makes the subscriptions; nobody assigns a
single callable to someone else's attribute, so a second subscriber never silently replaces the first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["AlreadyConnected", "AsyncSubscribers", "Subscribers", "connect_once"]

T = TypeVar("T")

log = logging.getLogger("hotline.subscribers")


def _no_key(_item: object) -> str:
    return ""


class Subscribers(Generic[T]):
    """An ordered list of synchronous subscribers of one kind of item.

    Args:
        name: what is published (``"routing answered"``), for the log.
        key: names the item in the log line of a failing subscriber, e.g. ``lambda e: f"linkedid={e.linkedid}"``.
    """

    def __init__(self, name: str, key: Callable[[T], str] = _no_key) -> None:
        self.name = name
        self._key = key
        self._fns: list[Callable[[T], object]] = []
        self.failures = 0

    def subscribe(self, fn: Callable[[T], object]) -> None:
        """Add ``fn``; it is called with each published item after the earlier subscribers."""
        self._fns.append(fn)

    def __len__(self) -> int:
        return len(self._fns)

    def __iter__(self) -> Iterator[Callable[[T], object]]:
        """The subscribers, in call order (read-only view for checks and tests)."""
        return iter(tuple(self._fns))

    def publish(self, item: T) -> None:
        """Call every subscriber with ``item``, in order. Never raises (failures are logged and counted)."""
        for fn in self._fns:
            try:
                fn(item)
            except Exception:  # one subscriber must not stop the others, nor the publisher
                self.failures += 1
                log.exception("%s subscriber %r failed (%s)", self.name, fn, self._key(item))


class AsyncSubscribers(Generic[T]):
    """An ordered list of subscribers that may be coroutine functions, awaited one after the other.

    Args:
        name: what is published, for the log.
        timeout_s: budget of one subscriber call, seconds (a late one is cancelled and logged).
        key: names the item in the log line of a failing subscriber (``"event_id=..."``).
    """

    def __init__(self, name: str, timeout_s: float, key: Callable[[T], str] = _no_key) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self._key = key
        self._fns: list[Callable[[T], Awaitable[object] | object]] = []
        self.failures = 0

    def subscribe(self, fn: Callable[[T], Awaitable[object] | object]) -> None:
        """Add ``fn`` (sync or async); it is called with each published item after the earlier ones."""
        self._fns.append(fn)

    def __len__(self) -> int:
        return len(self._fns)

    def __iter__(self) -> Iterator[Callable[[T], Awaitable[object] | object]]:
        """The subscribers, in call order (read-only view for checks and tests)."""
        return iter(tuple(self._fns))

    async def publish(self, item: T) -> None:
        """Call (and await) every subscriber with ``item``, in order, each within ``timeout_s``.
        Never raises except ``CancelledError`` (failures and timeouts are logged and counted)."""
        for fn in self._fns:
            try:
                async with asyncio.timeout(self.timeout_s):
                    result = fn(item)
                    if inspect.isawaitable(result):
                        await result
            except Exception:  # TimeoutError included: the next subscriber still runs
                self.failures += 1
                log.exception("%s subscriber %r failed (%s)", self.name, fn, self._key(item))


class AlreadyConnected(RuntimeError):
    """A one-time late binding (``connect(...)``) was made a second time."""


def connect_once(current: object | None, what: str) -> None:
    """Raise :class:`AlreadyConnected` if ``current`` is already set (for explicit one-time ``connect`` calls
    that break a true construction cycle)."""
    if current is not None:
        raise AlreadyConnected(f"{what} is already connected")
