"""Bounded waiting: every wait in the tests ends, and says what it waited for."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hotline.kernel.netutil import free_port

__all__ = ["WaitTimeout", "free_port", "until", "wait_port"]

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A bounded wait ran out; the message says what was awaited and the last value seen."""


async def until(
    probe: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Wait until ``probe()`` returns a truthy value and return it.

    Args:
        probe: sync or async callable; exceptions it raises count as "not yet".
        timeout: seconds before giving up.
        interval: seconds between probes (used only where no event can be awaited).
        what: description used in the failure message.
    Raises:
        WaitTimeout: the probe never became truthy within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
            if asyncio.iscoroutine(value) or isinstance(value, Awaitable):
                value = await value  # type: ignore[assignment]
            last = value
            if value:
                return value  # type: ignore[return-value]
        except Exception as exc:  # a probe that fails is "not yet"
            last = exc
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(interval)


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    """Block until a TCP port accepts connections. Raises WaitTimeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"port {host}:{port} not accepting after {timeout}s: {exc}") from exc
            time.sleep(0.05)
