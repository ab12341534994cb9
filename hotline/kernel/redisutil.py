"""Redis plumbing shared by every Redis adapter (speech jobs, outbox, routing store, IVR, callbacks).

One way to connect (timeouts always set) and one way to make a call with a deadline that
turns library errors into the adapter's own typed error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

T = TypeVar("T")


def connect(url: str, call_timeout_s: float = 5.0, block_ms: int = 0, decode_responses: bool = False) -> Redis:
    """A redis.asyncio client whose every socket operation is bounded.

    Args:
        url: ``redis://host:port/db``.
        call_timeout_s: connect timeout and per-call budget, seconds.
        block_ms: the longest ``BLOCK`` (XREADGROUP ...) the caller will use, milliseconds;
            added to the socket timeout so a blocking read is not cut short.
        decode_responses: return ``str`` instead of ``bytes``.
    """
    return Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_connect_timeout=call_timeout_s,
        socket_timeout=call_timeout_s + block_ms / 1000.0,
        health_check_interval=30,
    )


async def bounded(operation: str, awaitable: Awaitable[T], timeout_s: float,
                  error: Callable[[str, str], Exception]) -> T:
    """Await a Redis call for at most ``timeout_s`` seconds.

    Args:
        operation: what is being done, for the error message (``"XADD outbox"``).
        error: builds the adapter's typed error from ``(operation, reason)``.
    Raises:
        whatever ``error`` builds: on timeout, ``RedisError`` or ``OSError``.
    """
    try:
        async with asyncio.timeout(timeout_s):
            return await awaitable
    except TimeoutError as exc:
        raise error(operation, f"no answer within {timeout_s:.1f}s") from exc
    except (RedisError, OSError) as exc:
        raise error(operation, str(exc) or type(exc).__name__) from exc
