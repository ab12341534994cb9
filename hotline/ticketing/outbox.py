"""The durable outbox: every event bound for a sink is XADDed to a Redis Stream before anything else.

Keys, for a sink named ``rt`` and the default prefix ``hotline:outbox:``::

    hotline:outbox:rt            stream of pending events; consumer group "rt" (one group per sink)
    hotline:outbox:rt:dead       dead-letter stream: the event's fields + error, error_type,
                                 attempts, dead_at, entry_id (the original entry)
    hotline:outbox:rt:retries    hash: entry id -> {"attempts", "error", "at"} while it is failing
    hotline:outbox:rt:delivered  counter: entries delivered (INCR in the XACK transaction)

Flow:

* :meth:`RedisOutbox.enqueue` XADDs the event to the stream of every sink its kind is routed to,
  in one MULTI/EXEC (with any extra commands the caller adds, e.g. the work-order index write);
* one :class:`SinkWorker` per sink reads its group (XREADGROUP), calls ``connector.deliver``
  (with a timeout) and XACKs only after it returned. Failures follow
  :func:`hotline.ticketing.delivery.decide`: an outage pauses the sink with capped exponential backoff
  (never dead-letters), a retryable error is retried up to ``max_attempts``, anything else goes
  to the dead-letter stream with the last error, XACKed in the same transaction;
* after a restart the worker first re-reads its own pending entries (XREADGROUP from ``0``),
  and every ``claim_every_s`` takes over entries another (dead) consumer left pending longer than
  ``claim_idle_ms`` (XAUTOCLAIM). Delivery is therefore at-least-once; connectors are idempotent
  on ``event_id``, which is never regenerated (replays keep it too);
* one sink's entries are delivered in stream order, one at a time (a work order's ticket is
  created before its transcript comment is posted).

:class:`OutboxWriter` is the non-blocking front door for the AMI pump: ``submit`` appends to an
in-memory buffer and returns; a task XADDs in order, retrying while Redis is down (the buffer is
bounded: past ``max_buffer`` the oldest events are dropped and counted in ``dropped``).

Every Redis call runs under ``asyncio.timeout``; failures come out as
:class:`hotline.ticketing.errors.OutboxUnavailable`. Needs Redis >= 7 (XAUTOCLAIM).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from hotline.kernel import redisutil
from hotline.kernel.background import BackgroundTask
from hotline.ticketing.connector import Connector, OutboxEvent
from hotline.ticketing.delivery import (
    DEFAULT_PREFIX,
    BadEntry,
    RetryPolicy,
    Verdict,
    backoff_s,
    decide,
    decode_fields,
    describe,
    entry_time_s,
    from_fields,
    sinks_for,
    to_fields,
)
from hotline.ticketing.errors import DeadEntryNotFound, OutboxUnavailable

log = logging.getLogger("hotline.outbox")

T = TypeVar("T")

#: Seconds allowed for one Redis call (an XREADGROUP gets its BLOCK time on top).
CALL_TIMEOUT_S = 5.0

PipelineStep = Callable[[Pipeline], Any]


def connect(url: str, *, call_timeout_s: float = CALL_TIMEOUT_S, block_ms: int = 2000) -> Redis:
    """A redis.asyncio client (str replies) whose socket timeout outlasts an XREADGROUP ``BLOCK``."""
    return redisutil.connect(url, call_timeout_s, block_ms, decode_responses=True)


async def redis_call(operation: str, awaitable: Awaitable[T], timeout_s: float) -> T:
    return await redisutil.bounded(operation, awaitable, timeout_s, OutboxUnavailable)


@dataclass(frozen=True, slots=True)
class SinkStatus:
    """One sink's backlog (``hotline outbox status``).

    Attributes:
        sink: the sink name.
        length: entries in the stream (delivered ones too, until trimmed).
        lag: entries not yet read by the group (None when Redis < 7 cannot say).
        pending: entries read and not yet acknowledged (in delivery, or failing).
        dead: entries in the dead-letter stream.
        oldest_pending_s: age of the oldest pending entry, seconds (None when none).
        consumers: consumer names of the group.
        delivered: entries delivered and acknowledged, ever (the ``:delivered`` counter).
    """

    sink: str
    length: int
    lag: int | None
    pending: int
    dead: int
    oldest_pending_s: float | None
    consumers: tuple[str, ...]
    delivered: int = 0


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An entry read but not acknowledged: being delivered, or failing."""

    entry_id: str
    event: OutboxEvent | None
    consumer: str
    idle_ms: int
    times_delivered: int
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DeadEntry:
    """An entry given up on, with the error that made the outbox give up."""

    dead_id: str
    entry_id: str
    event: OutboxEvent | None
    error: str
    error_type: str
    attempts: int
    dead_at: float
    fields: Mapping[str, str]


class RedisOutbox:
    """Streams, groups and dead letters of every sink.

    Args:
        redis: a client from :func:`connect` (``decode_responses=True``).
        routes: ``{sink: kind prefixes}`` (see :func:`hotline.ticketing.delivery.sinks_for`).
        prefix: key prefix.
        call_timeout_s: budget of one Redis call, seconds.
        maxlen: approximate cap on each sink stream (acknowledged entries are the oldest; None: no cap).
    """

    def __init__(
        self,
        redis: Redis,
        routes: Mapping[str, Sequence[str]],
        *,
        prefix: str = DEFAULT_PREFIX,
        call_timeout_s: float = CALL_TIMEOUT_S,
        maxlen: int | None = 1_000_000,
    ) -> None:
        self.redis = redis
        self.routes = {sink: tuple(prefixes) for sink, prefixes in routes.items()}
        self.prefix = prefix
        self.call_timeout_s = call_timeout_s
        self.maxlen = maxlen

    # -- keys
    def stream(self, sink: str) -> str:
        return f"{self.prefix}{sink}"

    def dead_stream(self, sink: str) -> str:
        return f"{self.prefix}{sink}:dead"

    def retries_key(self, sink: str) -> str:
        return f"{self.prefix}{sink}:retries"

    def delivered_key(self, sink: str) -> str:
        return f"{self.prefix}{sink}:delivered"

    @property
    def sinks(self) -> list[str]:
        return list(self.routes)

    def sinks_for(self, kind: str) -> list[str]:
        return sinks_for(kind, self.routes)

    # -- writing
    async def enqueue(
        self, event: OutboxEvent, sinks: Sequence[str] | None = None, also: Sequence[PipelineStep] = ()
    ) -> dict[str, str]:
        """XADD an event to its sinks' streams, atomically with ``also`` (MULTI/EXEC).

        Args:
            event: the event; its ``event_id`` is the idempotency key at every sink.
            sinks: explicit sinks; default: the routes for ``event.kind``.
            also: extra commands added to the same transaction (``lambda pipe: pipe.hset(...)``).
        Returns:
            ``{sink: entry id}`` (empty when no sink takes the kind and ``also`` is empty).
        Raises:
            OutboxUnavailable: Redis failed or did not answer; nothing was written.
        """
        targets = list(self.sinks_for(event.kind) if sinks is None else sinks)
        if not targets and not also:
            return {}
        fields = to_fields(event)
        pipe = self.redis.pipeline(transaction=True)
        for sink in targets:
            pipe.xadd(self.stream(sink), fields, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
        for step in also:
            step(pipe)
        replies = await redis_call("MULTI XADD", pipe.execute(), self.call_timeout_s)
        return dict(zip(targets, (str(r) for r in replies[: len(targets)]), strict=True))

    async def ensure_group(self, sink: str) -> None:
        """Create the sink's stream and group (reading from the start) unless they exist."""
        try:
            await redis_call(
                "XGROUP CREATE",
                self.redis.xgroup_create(self.stream(sink), sink, id="0", mkstream=True),
                self.call_timeout_s,
            )
        except OutboxUnavailable as exc:
            if isinstance(exc.__cause__, ResponseError) and "BUSYGROUP" in str(exc.__cause__):
                return
            raise

    # -- reading (the worker)
    async def read(self, sink: str, consumer: str, *, own_pending: bool, count: int, block_ms: int) -> list[
        tuple[str, dict[str, str] | None]
    ]:
        """XREADGROUP: this consumer's pending entries (``own_pending``) or new ones (blocking).

        Returns:
            ``[(entry id, fields or None for an entry trimmed away)]``.
        """
        start = "0" if own_pending else ">"
        block = None if own_pending else block_ms
        reply = cast("list[list[Any]] | None", await redis_call(  # RESP2: [[stream, [(id, fields), ...]]]
            "XREADGROUP",
            self.redis.xreadgroup(sink, consumer, {self.stream(sink): start}, count=count, block=block),
            self.call_timeout_s + (block or 0) / 1000.0,
        ))
        out: list[tuple[str, dict[str, str] | None]] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                out.append((str(entry_id), decode_fields(fields) if fields else None))
        return out

    async def claim(self, sink: str, consumer: str, min_idle_ms: int, count: int) -> list[
        tuple[str, dict[str, str]]
    ]:
        """XAUTOCLAIM entries another consumer left pending longer than ``min_idle_ms``."""
        claimed: list[tuple[str, dict[str, str]]] = []
        cursor = "0-0"
        for _ in range(100):  # bounded scan of the pending list
            reply = await redis_call(
                "XAUTOCLAIM",
                self.redis.xautoclaim(
                    self.stream(sink), sink, consumer, min_idle_ms, start_id=cursor, count=count - len(claimed)
                ),
                self.call_timeout_s,
            )
            cursor = str(reply[0])
            claimed.extend((str(eid), decode_fields(f)) for eid, f in reply[1] if f)
            if len(claimed) >= count or cursor == "0-0":
                break
        return claimed

    async def attempts(self, sink: str, entry_id: str) -> int:
        """Failed attempts (outages excluded) recorded for an entry."""
        raw = await redis_call("HGET", self.redis.hget(self.retries_key(sink), entry_id), self.call_timeout_s)
        return int(json.loads(raw)["attempts"]) if raw else 0

    async def record_failure(self, sink: str, entry_id: str, attempts: int, error: str, now: float) -> None:
        """Remember the attempts and last error of a failing entry (for retries after restart, and the CLI)."""
        doc = json.dumps({"attempts": attempts, "error": error, "at": now}, ensure_ascii=False)
        await redis_call("HSET", self.redis.hset(self.retries_key(sink), entry_id, doc), self.call_timeout_s)

    async def ack(self, sink: str, entry_id: str, *, delivered: bool = True) -> None:
        """XACK an entry and forget its failures; count it as delivered unless ``delivered`` is False
        (an entry trimmed away while pending)."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.stream(sink), sink, entry_id)
        pipe.hdel(self.retries_key(sink), entry_id)
        if delivered:
            pipe.incr(self.delivered_key(sink))
        await redis_call("XACK", pipe.execute(), self.call_timeout_s)

    async def bury(
        self, sink: str, entry_id: str, fields: Mapping[str, str], error: str, attempts: int, now: float
    ) -> str:
        """Move an entry to the dead-letter stream (XADD dead + XACK + HDEL in one transaction).

        Returns:
            The dead-letter entry id.
        """
        error_type = error.split(":", 1)[0]
        dead_fields = {
            **fields, "entry_id": entry_id, "error": error, "error_type": error_type,
            "attempts": str(attempts), "dead_at": repr(now),
        }
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.dead_stream(sink), dead_fields)  # type: ignore[arg-type]
        pipe.xack(self.stream(sink), sink, entry_id)
        pipe.hdel(self.retries_key(sink), entry_id)
        replies = await redis_call("MULTI XADD dead", pipe.execute(), self.call_timeout_s)
        return str(replies[0])

    # -- inspection and replay (the CLI)
    async def status(self, sink: str, now: float) -> SinkStatus:
        """Backlog figures of one sink (zeros for a sink that never had an event)."""
        stream = self.stream(sink)
        exists = await redis_call("EXISTS", self.redis.exists(stream), self.call_timeout_s)
        dead = int(await redis_call("XLEN", self.redis.xlen(self.dead_stream(sink)), self.call_timeout_s))
        delivered = int(await redis_call("GET", self.redis.get(self.delivered_key(sink)), self.call_timeout_s) or 0)
        if not exists:
            return SinkStatus(sink, 0, 0, 0, dead, None, (), delivered)
        length = int(await redis_call("XLEN", self.redis.xlen(stream), self.call_timeout_s))
        groups = await redis_call("XINFO GROUPS", self.redis.xinfo_groups(stream), self.call_timeout_s)
        group = next((g for g in groups if str(g["name"]) == sink), None)
        if group is None:
            return SinkStatus(sink, length, length, 0, dead, None, (), delivered)
        lag = group.get("lag")
        consumers = await redis_call("XINFO CONSUMERS", self.redis.xinfo_consumers(stream, sink), self.call_timeout_s)
        summary = await redis_call("XPENDING", self.redis.xpending(stream, sink), self.call_timeout_s)
        oldest = None
        if int(summary["pending"]) and summary.get("min"):
            oldest = max(0.0, now - entry_time_s(str(summary["min"])))
        return SinkStatus(
            sink, length, None if lag is None else int(lag), int(summary["pending"]), dead, oldest,
            tuple(str(c["name"]) for c in consumers), delivered,
        )

    async def pending_entries(self, sink: str, count: int = 50) -> list[PendingEntry]:
        """Entries read and not acknowledged, oldest first, with attempts and last error."""
        stream = self.stream(sink)
        if not await redis_call("EXISTS", self.redis.exists(stream), self.call_timeout_s):
            return []
        rows = await redis_call(
            "XPENDING", self.redis.xpending_range(stream, sink, min="-", max="+", count=count), self.call_timeout_s
        )
        out: list[PendingEntry] = []
        for row in rows:
            entry_id = str(row["message_id"])
            found = await redis_call("XRANGE", self.redis.xrange(stream, entry_id, entry_id), self.call_timeout_s)
            event = None
            if found:
                with contextlib.suppress(BadEntry):
                    event = from_fields(found[0][1])
            raw = await redis_call("HGET", self.redis.hget(self.retries_key(sink), entry_id), self.call_timeout_s)
            failure = json.loads(raw) if raw else {}
            out.append(PendingEntry(
                entry_id, event, str(row["consumer"]), int(row["time_since_delivered"]),
                int(row["times_delivered"]), int(failure.get("attempts", 0)), failure.get("error"),
            ))
        return out

    async def dead_entries(self, sink: str, count: int = 100) -> list[DeadEntry]:
        """Dead-letter entries, oldest first."""
        rows = await redis_call(
            "XRANGE", self.redis.xrange(self.dead_stream(sink), count=count), self.call_timeout_s
        )
        return [_dead(str(dead_id), decode_fields(f)) for dead_id, f in rows or []]

    async def replay(self, sink: str, dead_id: str) -> str:
        """Put a dead-letter entry back on the sink's stream (same event id) and delete it from the dead letters.

        Returns:
            The new stream entry id.
        Raises:
            DeadEntryNotFound: no such dead-letter entry.
            OutboxUnavailable: Redis failed.
        """
        rows = await redis_call(
            "XRANGE", self.redis.xrange(self.dead_stream(sink), dead_id, dead_id), self.call_timeout_s
        )
        if not rows:
            raise DeadEntryNotFound(sink, dead_id)
        fields = decode_fields(rows[0][1])
        original = {k: v for k, v in fields.items() if k in ("event_id", "kind", "linkedid", "payload", "created_at")}
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.stream(sink), original, maxlen=self.maxlen, approximate=True)  # type: ignore[arg-type]
        pipe.xdel(self.dead_stream(sink), dead_id)
        replies = await redis_call("MULTI replay", pipe.execute(), self.call_timeout_s)
        return str(replies[0])

    async def replay_all(self, sink: str) -> int:
        """Replay every dead-letter entry of a sink (in order). Returns how many."""
        replayed = 0
        while True:
            batch = await self.dead_entries(sink, count=100)
            if not batch:
                return replayed
            for dead in batch:
                await self.replay(sink, dead.dead_id)
                replayed += 1


def _dead(dead_id: str, fields: dict[str, str]) -> DeadEntry:
    event = None
    with contextlib.suppress(BadEntry):
        event = from_fields(fields)
    return DeadEntry(
        dead_id, fields.get("entry_id", ""), event, fields.get("error", ""), fields.get("error_type", ""),
        int(fields.get("attempts", "0") or 0), float(fields.get("dead_at", "0") or 0), fields,
    )


def lanes_by_call(batch: Sequence[tuple[str, Mapping[str, str] | None]]) -> list[
    list[tuple[str, Mapping[str, str] | None]]
]:
    """Split a read batch into per-call lanes, keeping stream order inside each lane.

    Args:
        batch: ``[(entry id, fields or None)]`` as read from a sink stream.
    Returns:
        One list per distinct ``linkedid`` field, in order of first appearance; entries without
        a linkedid (or trimmed away, fields None) share the lane of the empty linkedid.
    """
    lanes: dict[str, list[tuple[str, Mapping[str, str] | None]]] = {}
    for entry_id, fields in batch:
        key = (fields or {}).get("linkedid", "")
        lanes.setdefault(key, []).append((entry_id, fields))
    return list(lanes.values())


@dataclass(slots=True)
class SinkCounters:
    """What one worker did since it started."""

    delivered: int = 0
    retried: int = 0
    paused: int = 0
    dead: int = 0
    last_error: str | None = None


class SinkWorker:
    """The delivery loop of one sink.

    Args:
        outbox: streams and groups.
        connector: the sink (``connector.name`` is the sink name).
        consumer: this process' consumer name in the sink's group (stable across restarts, so
            its own pending entries are found again; several processes need distinct names).
        policy: attempts and backoff.
        deliver_timeout_s: budget of one ``deliver`` call, seconds (a timeout counts as an outage).
        block_ms: XREADGROUP BLOCK, milliseconds.
        claim_idle_ms: entries idle this long in another consumer are taken over.
        claim_every_s: how often to look for them, seconds.
        parallel_calls: how many calls' entries are delivered at once (1: strictly one after another).
            Entries of one call (one ``linkedid``; entries without one count as one call) keep their
            stream order; different calls in the same read batch go side by side, so one slow call
            (a transcript waiting for its ticket, a slow RT) does not hold up the others.
        clock: epoch seconds.
        rand: ``random.random`` (jitter).
    """

    def __init__(
        self,
        outbox: RedisOutbox,
        connector: Connector,
        consumer: str,
        *,
        policy: RetryPolicy | None = None,
        deliver_timeout_s: float = 30.0,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        claim_every_s: float = 10.0,
        parallel_calls: int = 1,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.outbox = outbox
        self.connector = connector
        self.sink = connector.name
        self.consumer = consumer
        self.policy = policy or RetryPolicy()
        self.deliver_timeout_s = deliver_timeout_s
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.claim_every_s = claim_every_s
        self.parallel_calls = max(1, parallel_calls)
        self.clock = clock
        self.rand = rand
        self.counters = SinkCounters()
        self._bg = BackgroundTask(f"outbox-{self.sink}")
        self._stop = self._bg.stopping

    async def start(self) -> None:
        self._bg.start(self._run)

    async def stop(self) -> None:
        await self._bg.stop()

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` or until stopped, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _pause_outage(self, seconds: float) -> None:
        """Wait out an outage: ``seconds``, or less if the connector says it is back (``wait_ready``)."""
        ready = getattr(self.connector, "wait_ready", None)
        if ready is None:
            await self._pause(seconds)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await ready()

    async def _run(self) -> None:
        failures = 0
        next_claim = 0.0
        count = 10 * self.parallel_calls
        while not self._stop.is_set():
            try:
                await self.outbox.ensure_group(self.sink)
                batch = await self.outbox.read(self.sink, self.consumer, own_pending=True, count=count, block_ms=0)
                if not batch and time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self.claim_every_s
                    claimed = await self.outbox.claim(self.sink, self.consumer, self.claim_idle_ms, count)
                    batch = [(eid, f) for eid, f in claimed]
                if not batch:
                    batch = await self.outbox.read(
                        self.sink, self.consumer, own_pending=False, count=count, block_ms=self.block_ms
                    )
                failures = 0
                await self._deliver_batch(batch)
            except OutboxUnavailable as exc:
                failures += 1
                log.warning("outbox %s: %s", self.sink, exc)
                await self._pause(backoff_s(failures, self.policy, self.rand()))

    async def _deliver_batch(self, batch: Sequence[tuple[str, Mapping[str, str] | None]]) -> None:
        """Deliver a read batch: each call's entries in order, up to ``parallel_calls`` calls at once.

        Raises:
            OutboxUnavailable: Redis failed in some call's lane (the other lanes are cancelled; every
                entry not acknowledged stays pending and is read again).
        """
        lanes = lanes_by_call(batch)
        if self.parallel_calls == 1 or len(lanes) == 1:
            await self._deliver_lane(batch)  # stream order
            return
        gate = asyncio.Semaphore(self.parallel_calls)

        async def run(lane: list[tuple[str, Mapping[str, str] | None]]) -> None:
            async with gate:
                await self._deliver_lane(lane)

        try:
            async with asyncio.TaskGroup() as group:
                for lane in lanes:
                    group.create_task(run(lane))
        except BaseExceptionGroup as eg:
            unavailable = eg.subgroup(OutboxUnavailable)
            if unavailable is not None:
                raise unavailable.exceptions[0] from eg
            raise

    async def _deliver_lane(self, lane: Sequence[tuple[str, Mapping[str, str] | None]]) -> None:
        for entry_id, fields in lane:
            if self._stop.is_set():
                return
            await self.handle(entry_id, fields)

    async def handle(self, entry_id: str, fields: Mapping[str, str] | None) -> None:
        """Deliver one entry until it is acknowledged or dead-lettered (or the worker stops).

        Raises:
            OutboxUnavailable: Redis failed (the entry stays pending and is read again).
        """
        if fields is None:  # trimmed away while pending: nothing to deliver
            await self.outbox.ack(self.sink, entry_id, delivered=False)
            return
        try:
            event = from_fields(fields)
        except BadEntry as exc:
            await self.outbox.bury(self.sink, entry_id, fields, describe(exc), 0, self.clock())
            self.counters.dead += 1
            return
        attempts = await self.outbox.attempts(self.sink, entry_id)
        outages = 0
        while not self._stop.is_set():
            try:
                async with asyncio.timeout(self.deliver_timeout_s):
                    await self.connector.deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any sink failure becomes a verdict; the loop carries on
                error = describe(exc)
                self.counters.last_error = error
                verdict = decide(exc, attempts + 1, self.policy)
                if verdict is Verdict.PAUSE:
                    outages += 1
                    self.counters.paused += 1
                    if outages == 1:
                        log.warning("outbox %s: sink down, pausing (%s)", self.sink, error)
                    await self.outbox.record_failure(self.sink, entry_id, attempts, error, self.clock())
                    await self._pause_outage(backoff_s(outages, self.policy, self.rand()))
                    continue
                attempts += 1
                if verdict is Verdict.RETRY:
                    self.counters.retried += 1
                    await self.outbox.record_failure(self.sink, entry_id, attempts, error, self.clock())
                    await self._pause(backoff_s(attempts, self.policy, self.rand()))
                    continue
                await self.outbox.bury(self.sink, entry_id, fields, error, attempts, self.clock())
                self.counters.dead += 1
                log.error("outbox %s: event %s (%s, linkedid %s) dead-lettered after %d attempt(s): %s",
                          self.sink, event.event_id, event.kind, event.linkedid, attempts, error)
                return
            else:
                await self.outbox.ack(self.sink, entry_id)
                self.counters.delivered += 1
                if outages:
                    log.info("outbox %s: sink back, delivering", self.sink)
                return


@dataclass
class _Queued:
    event: OutboxEvent
    also: Sequence[PipelineStep] = field(default_factory=tuple)


class OutboxWriter:
    """Non-blocking ``submit`` for the AMI pump; a task XADDs the events in order.

    Args:
        outbox: where events go.
        policy: backoff while Redis is down (attempts are unlimited: nothing is dropped
            unless the buffer overflows).
        max_buffer: events held in memory while Redis is down; past it the oldest are dropped.
        rand: jitter source.
    """

    def __init__(
        self,
        outbox: RedisOutbox,
        *,
        policy: RetryPolicy | None = None,
        max_buffer: int = 100_000,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.outbox = outbox
        self.policy = policy or RetryPolicy(base_s=0.2, cap_s=10.0)
        self.max_buffer = max_buffer
        self.rand = rand
        self.written = 0
        self.dropped = 0
        self._buffer: collections.deque[_Queued] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._bg = BackgroundTask("outbox-writer")

    def submit(self, event: OutboxEvent, also: Sequence[PipelineStep] = ()) -> None:
        """Queue an event (and extra commands for its transaction); never blocks, never raises."""
        if len(self._buffer) >= self.max_buffer:
            lost = self._buffer.popleft()
            self.dropped += 1
            log.error("outbox buffer full (%d): dropped event %s (%s, linkedid %s)",
                      self.max_buffer, lost.event.event_id, lost.event.kind, lost.event.linkedid)
        self._buffer.append(_Queued(event, tuple(also)))
        self._idle.clear()
        self._wake.set()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def start(self) -> None:
        self._bg.start(self._run)

    async def flush(self, timeout_s: float) -> bool:
        """Wait until every submitted event is in Redis; False if ``timeout_s`` ran out first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
            return True
        except TimeoutError:
            return False

    async def stop(self, flush_timeout_s: float = 5.0) -> None:
        """Flush for up to ``flush_timeout_s``, then stop (what is still buffered is logged as lost)."""
        if not self._bg.started:
            return
        await self.flush(flush_timeout_s)
        await self._bg.stop()
        if self._buffer:
            log.error("outbox writer stopped with %d events not written", len(self._buffer))

    async def _run(self) -> None:
        failures = 0
        while True:
            if not self._buffer:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._buffer[0]
            try:
                await self.outbox.enqueue(item.event, also=item.also)
            except OutboxUnavailable as exc:
                failures += 1
                if failures == 1:
                    log.warning("outbox writer: %s (buffering %d)", exc, len(self._buffer))
                await asyncio.sleep(backoff_s(failures, self.policy, self.rand()))
                continue
            failures = 0
            if self._buffer and self._buffer[0] is item:
                self._buffer.popleft()
            self.written += 1
