"""What the outbox does after a delivery attempt: the retry policy, and the stream entry format. Pure.

Decisions (:func:`decide`), for one outbox entry after its sink raised ``exc``:

* ``exc`` says the sink is unreachable (:func:`is_outage`: a ``ConnectionError`` such as
  :class:`hotline.ticketing.errors.TicketingUnavailable` with no HTTP status or 502/503/504, an MQTT broker
  that is not connected, a timeout): **pause** the sink for ``backoff_s(outage count)`` and try the
  same entry again. Outages never spend the entry's attempts, so an outage of any length delays
  delivery and never dead-letters anything;
* otherwise ``exc.retryable`` (HTTP 500, a work order whose ticket is not there yet): **retry**
  after ``backoff_s(attempts)``, until ``max_attempts`` failed attempts, then **dead**;
* not retryable (4xx, fields RT would not store, unknown kind, any other exception): **dead**
  at once, with the error.

Backoff: ``min(cap_s, base_s * 2 ** (n - 1))`` seconds for the n-th failure (n >= 1), times a
jitter factor in [1 - jitter, 1] supplied by the caller (so this stays deterministic).

Entry format: every field of a Redis Stream entry is a string; ``payload`` is JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.ticketing.connector import OutboxEvent

#: Key prefix of the outbox streams.
DEFAULT_PREFIX = "hotline:outbox:"

#: HTTP statuses that mean "the service behind the proxy is down", not "this request failed".
OUTAGE_STATUSES = frozenset({502, 503, 504})


class Verdict(StrEnum):
    """What to do with an entry whose delivery failed."""

    PAUSE = "pause"  # the sink is down: wait, retry the same entry, attempts not spent
    RETRY = "retry"  # this entry failed but may succeed later
    DEAD = "dead"  # give up: move to the dead-letter stream with the error


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry limits.

    Attributes:
        max_attempts: failed attempts (outages excluded) after which an entry is dead-lettered.
        base_s: first backoff, seconds.
        cap_s: longest backoff, seconds.
        jitter: 0-1, the share of a backoff that may be randomly shaved off.
    """

    max_attempts: int = 8
    base_s: float = 0.5
    cap_s: float = 60.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s <= 0 or self.cap_s < self.base_s or not 0 <= self.jitter < 1:
            raise ValueError(f"bad retry policy: {self}")


def backoff_s(failures: int, policy: RetryPolicy, random_01: float = 1.0) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure (>= 1).

    Args:
        failures: 1 for the first failure.
        policy: base, cap and jitter.
        random_01: a number in [0, 1] (``random.random()``); 1.0 means no jitter.
    """
    n = max(1, failures)
    raw = min(policy.cap_s, policy.base_s * 2.0 ** min(n - 1, 62))
    return raw * (1.0 - policy.jitter * (1.0 - random_01))


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` shows the sink is unreachable rather than this event being at fault."""
    if isinstance(exc, TimeoutError):
        return True
    if isinstance(exc, ConnectionError):
        status = getattr(exc, "status", None)
        return status is None or status in OUTAGE_STATUSES
    return False


def decide(exc: BaseException, attempts: int, policy: RetryPolicy) -> Verdict:
    """The verdict after a failed attempt.

    Args:
        exc: what the sink raised.
        attempts: failed attempts of this entry so far, this one included (outages excluded).
        policy: ``max_attempts``.
    """
    if is_outage(exc):
        return Verdict.PAUSE
    if getattr(exc, "retryable", False) and attempts < policy.max_attempts:
        return Verdict.RETRY
    return Verdict.DEAD


def describe(exc: BaseException) -> str:
    """``"TypeName: message"`` (at most 1000 characters) for the dead-letter record and logs."""
    return f"{type(exc).__name__}: {exc}"[:1000]


# --- stream entries ------------------------------------------------------------------------------
EVENT_FIELDS = ("event_id", "kind", "linkedid", "payload", "created_at")


class BadEntry(ValueError):
    """A stream entry that is not an outbox event (written by something else, or corrupted)."""


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def to_fields(event: OutboxEvent) -> dict[str, str]:
    """An event as Redis Stream entry fields."""
    return {
        "event_id": event.event_id,
        "kind": event.kind,
        "linkedid": event.linkedid,
        "payload": json.dumps(dict(event.payload), ensure_ascii=False, separators=(",", ":")),
        "created_at": repr(float(event.created_at)),
    }


def decode_fields(fields: Mapping[Any, Any] | None) -> dict[str, str]:
    """Entry fields (bytes or str keys/values from redis-py) as ``{str: str}`` (None, a deleted entry: ``{}``)."""
    return {_s(k): _s(v) for k, v in (fields or {}).items()}


def from_fields(fields: Mapping[Any, Any] | None) -> OutboxEvent:
    """The event stored in an entry.

    Raises:
        BadEntry: a field is missing, the payload is not a JSON object, or the time is not a number.
    """
    f = decode_fields(fields)
    missing = [k for k in EVENT_FIELDS if k not in f]
    if missing:
        raise BadEntry(f"outbox entry lacks {', '.join(missing)}")
    try:
        payload = json.loads(f["payload"])
        created_at = float(f["created_at"])
    except ValueError as exc:
        raise BadEntry(f"outbox entry {f['event_id']!r}: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadEntry(f"outbox entry {f['event_id']!r}: payload is not a JSON object")
    return OutboxEvent(f["event_id"], f["kind"], f["linkedid"], payload, created_at)


def entry_time_s(entry_id: str) -> float:
    """Epoch seconds encoded in a Redis Stream id (``"1759284000123-0"`` -> 1759284000.123)."""
    return int(entry_id.split("-", 1)[0]) / 1000.0


def sinks_for(kind: str, routes: Mapping[str, tuple[str, ...] | list[str]]) -> list[str]:
    """The sinks that take an event kind, in ``routes`` order.

    Args:
        kind: e.g. ``"work_order.created"``.
        routes: ``{sink: kind prefixes}``; ``"work_order."`` matches every work-order kind,
            ``"*"`` matches everything.
    """
    return [sink for sink, prefixes in routes.items() if any(p == "*" or kind.startswith(p) for p in prefixes)]
