"""Redis adapters: the job stream (consumer group) and the transcript sink.

Jobs are entries of a Redis Stream read by a consumer group: ``XADD`` enqueues, ``XREADGROUP``
hands each entry to one consumer, ``XACK`` retires it once its outcome is stored, and
``XAUTOCLAIM`` lets a live worker take over entries that a dead one left pending longer than
the visibility timeout. A live worker keeps its in-flight entries fresh with ``XCLAIM ... JUSTID``
(which resets their idle time without counting a delivery), so a long recording is not stolen.

Every Redis call runs under ``asyncio.timeout(call_timeout_s)`` and any failure comes out as
:class:`hotline.speech.errors.QueueUnavailable`; nothing here waits unbounded.

Needs Redis >= 7.0 (``XAUTOCLAIM`` returning deleted ids).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from hotline.kernel import redisutil
from hotline.speech.errors import QueueUnavailable
from hotline.speech.jobs import (
    DEFAULT_GROUP,
    DEFAULT_RESULTS_HASH,
    DEFAULT_RESULTS_STREAM,
    DEFAULT_STREAM,
    Delivery,
    InvalidJob,
    JobOutcome,
    TranscriptionJob,
    new_job,
)

T = TypeVar("T")

#: Seconds allowed for one Redis call (not counting an XREADGROUP's own BLOCK time).
CALL_TIMEOUT_S = 5.0


def connect(url: str, *, call_timeout_s: float = CALL_TIMEOUT_S, block_ms: int = 2000) -> Redis:
    """A redis.asyncio client whose socket timeouts outlast an XREADGROUP ``BLOCK``.

    Args:
        url: ``redis://host:port/db``.
        call_timeout_s: connect timeout and per-call budget, seconds.
        block_ms: the longest ``BLOCK`` the caller will use, milliseconds.
    """
    return redisutil.connect(url, call_timeout_s, block_ms)


async def _call(operation: str, awaitable: Awaitable[T], timeout_s: float) -> T:
    return await redisutil.bounded(operation, awaitable, timeout_s, QueueUnavailable)


def _s(v: bytes | str) -> str:
    return v.decode() if isinstance(v, bytes) else v


def _delivery(entry_id: bytes | str, fields: Any, times_delivered: int = 1) -> Delivery:
    eid = _s(entry_id)
    try:
        return Delivery(eid, TranscriptionJob.from_fields(fields or {}), times_delivered)
    except InvalidJob as exc:
        return Delivery(eid, None, times_delivered, str(exc))


class RedisJobQueue:
    """The job stream and its consumer group.

    Args:
        redis: a client from :func:`connect` (socket timeout longer than ``block_ms``).
        stream: the stream key.
        group: the consumer group (all workers of one pipeline share it).
        call_timeout_s: budget of each call, seconds (an XREADGROUP gets its BLOCK time on top).
        maxlen: approximate cap on the stream length (acknowledged entries are trimmed first by
            Redis' approximate trimming; None keeps everything).
    """

    def __init__(
        self,
        redis: Redis,
        stream: str = DEFAULT_STREAM,
        group: str = DEFAULT_GROUP,
        *,
        call_timeout_s: float = CALL_TIMEOUT_S,
        maxlen: int | None = 100_000,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.call_timeout_s = call_timeout_s
        self.maxlen = maxlen

    async def ensure_group(self) -> None:
        """Create the stream and the group (reading from the start) unless they exist."""
        try:
            await _call(
                "XGROUP CREATE",
                self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True),
                self.call_timeout_s,
            )
        except QueueUnavailable as exc:
            if isinstance(exc.__cause__, ResponseError) and "BUSYGROUP" in str(exc.__cause__):
                return
            raise

    async def register(self, consumer: str) -> None:
        """XGROUP CREATECONSUMER: make a (ready) worker visible in ``XINFO CONSUMERS``.

        Redis creates a consumer on its first delivery only; registering explicitly lets
        operators, tests and benches see a worker that is up and waiting.
        """
        await _call(
            "XGROUP CREATECONSUMER",
            self.redis.xgroup_createconsumer(self.stream, self.group, consumer),
            self.call_timeout_s,
        )

    async def enqueue(self, job: TranscriptionJob) -> str:
        """XADD a job; returns the entry id."""
        entry_id = await _call(
            "XADD",
            self.redis.xadd(self.stream, job.to_fields(), maxlen=self.maxlen, approximate=True),  # type: ignore[arg-type]
            self.call_timeout_s,
        )
        return _s(entry_id)

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        """XREADGROUP new entries for ``consumer``, waiting up to ``block_ms`` for one.

        Returns:
            Up to ``count`` deliveries (empty after ``block_ms`` with nothing new).
        """
        reply = cast("list[list[Any]] | None", await _call(  # RESP2: [[stream, [(id, fields), ...]]]
            "XREADGROUP",
            self.redis.xreadgroup(self.group, consumer, {self.stream: ">"}, count=count, block=block_ms),
            self.call_timeout_s + block_ms / 1000.0,
        ))
        out: list[Delivery] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                out.append(_delivery(entry_id, fields))
        return out

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        """XAUTOCLAIM entries pending longer than ``min_idle_ms`` (their worker is presumed dead).

        Scans the whole pending list from ``0-0`` until ``count`` entries are claimed. Each
        claim counts as a delivery; ``times_delivered`` is read back with XPENDING so that a
        job whose decoder keeps dying can be given up.

        Returns:
            Up to ``count`` deliveries now owned by ``consumer``.
        """
        claimed: list[Delivery] = []
        cursor: bytes | str = "0-0"
        for _ in range(100):  # bounded scan: 100 pages of the pending list
            reply = await _call(
                "XAUTOCLAIM",
                self.redis.xautoclaim(
                    self.stream, self.group, consumer, min_idle_ms,
                    start_id=cursor, count=count - len(claimed),
                ),
                self.call_timeout_s,
            )
            cursor, entries = reply[0], reply[1]
            for entry_id, fields in entries:
                if fields is None:  # entry trimmed away; Redis dropped it from the PEL
                    continue
                claimed.append(_delivery(entry_id, fields, await self.times_delivered(_s(entry_id))))
            if len(claimed) >= count or _s(cursor) == "0-0":
                break
        return claimed

    async def times_delivered(self, entry_id: str) -> int:
        """How often the group delivered an entry (XPENDING); 0 when not pending."""
        rows = await _call(
            "XPENDING",
            self.redis.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1),
            self.call_timeout_s,
        )
        return int(rows[0]["times_delivered"]) if rows else 0

    async def touch(self, consumer: str, entry_ids: Sequence[str]) -> None:
        """Reset the idle time of in-flight entries (heartbeat; XCLAIM JUSTID, no delivery counted)."""
        if entry_ids:
            await _call(
                "XCLAIM",
                self.redis.xclaim(self.stream, self.group, consumer, 0, list(entry_ids), justid=True),
                self.call_timeout_s,
            )

    async def ack(self, entry_id: str) -> None:
        """XACK an entry: its outcome is stored."""
        await _call("XACK", self.redis.xack(self.stream, self.group, entry_id), self.call_timeout_s)

    async def pending(self) -> int:
        """Entries delivered and not yet acknowledged, across the group."""
        info = await _call("XPENDING", self.redis.xpending(self.stream, self.group), self.call_timeout_s)
        return int(info["pending"])

    async def consumers(self) -> list[str]:
        """Names of the group's consumers (a consumer appears at its first XREADGROUP)."""
        rows = await _call(
            "XINFO CONSUMERS", self.redis.xinfo_consumers(self.stream, self.group), self.call_timeout_s
        )
        return [_s(r["name"]) for r in rows]


async def enqueue_recording(
    queue: RedisJobQueue, path: str, linkedid: str, now: float, job_id: str | None = None,
    legs: tuple[str, ...] = (),
) -> TranscriptionJob:
    """Queue a closed recording for transcription (what the recording watcher calls).

    Args:
        queue: the job stream.
        path: the closed WAV file, as the workers will see it.
        linkedid: the call.
        now: epoch seconds.
        job_id: explicit id; by default derived from linkedid and path, so enqueuing the same
            recording twice yields one transcript.
        legs: mono leg files to decode each at its own rate instead of ``path`` (legs recorded at
            different rates); empty: decode ``path``.
    Returns:
        The job enqueued.
    Raises:
        QueueUnavailable: Redis failed or did not answer in time.
    """
    job = new_job(path, linkedid, now, job_id, legs)
    await queue.enqueue(job)
    return job


class TranscriptSink(Protocol):
    """Where job outcomes go. Writes are idempotent by ``job_id``: the first one wins.

    The catalog (SQL) will implement this too; :class:`RedisTranscriptSink` is the interim one.
    """

    async def put(self, outcome: JobOutcome) -> bool:
        """Store an outcome unless one is stored for its job id. Returns True if stored now."""
        ...

    async def has(self, job_id: str) -> bool:
        """True when an outcome for ``job_id`` is stored."""
        ...


_PUT_ONCE = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'job_id', ARGV[1], 'linkedid', ARGV[3],
             'status', ARGV[4])
  return 1
end
return 0
"""


class RedisTranscriptSink:
    """Outcomes as JSON in a hash keyed by job id, announced once on an events stream.

    ``put`` is one Lua script (atomic): ``HSETNX results job_id json`` and, only if that set the
    field, ``XADD events job_id linkedid status``. A reclaimed job decoded twice therefore leaves
    one stored transcript and one event. The catalog engineer can consume the events stream.

    Args:
        redis: a client.
        results_hash: hash key, field = job id, value = :meth:`JobOutcome.to_json`.
        events_stream: stream key announcing each stored outcome.
        call_timeout_s: budget of each call, seconds.
        events_maxlen: approximate cap on the events stream.
    """

    def __init__(
        self,
        redis: Redis,
        results_hash: str = DEFAULT_RESULTS_HASH,
        events_stream: str = DEFAULT_RESULTS_STREAM,
        *,
        call_timeout_s: float = CALL_TIMEOUT_S,
        events_maxlen: int = 100_000,
    ) -> None:
        self.redis = redis
        self.results_hash = results_hash
        self.events_stream = events_stream
        self.call_timeout_s = call_timeout_s
        self.events_maxlen = events_maxlen
        self._script = redis.register_script(_PUT_ONCE)

    async def put(self, outcome: JobOutcome) -> bool:
        stored = await _call(
            "EVALSHA put-once",
            self._script(
                keys=[self.results_hash, self.events_stream],
                args=[
                    outcome.job_id, outcome.to_json(), outcome.linkedid, outcome.status, self.events_maxlen,
                ],
            ),
            self.call_timeout_s,
        )
        return bool(stored)

    async def has(self, job_id: str) -> bool:
        return bool(
            await _call("HEXISTS", self.redis.hexists(self.results_hash, job_id), self.call_timeout_s)
        )

    async def get(self, job_id: str) -> JobOutcome | None:
        """The stored outcome of a job, or None."""
        raw = await _call("HGET", self.redis.hget(self.results_hash, job_id), self.call_timeout_s)
        return JobOutcome.from_json(raw) if raw else None

    async def count(self) -> int:
        """Outcomes stored."""
        return int(await _call("HLEN", self.redis.hlen(self.results_hash), self.call_timeout_s))

    async def events(self) -> int:
        """Events announced (one per stored outcome)."""
        return int(await _call("XLEN", self.redis.xlen(self.events_stream), self.call_timeout_s))
