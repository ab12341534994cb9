"""Redis store of reminder jobs, callback requests and satisfaction statistics (redis.asyncio).

Keys (prefix ``hotline:callbacks:`` by default)::

    {p}jobs              hash  job_id -> job JSON (callbacks.model.job_to_dict)
    {p}due               zset  job_id -> next_at (epoch s), PENDING jobs only
    {p}requests          hash  request_id -> keep-my-place request JSON
    {p}open              hash  "<queue>|<number>" -> request_id of the pending request
    {p}satisfaction:<department>   hash  rating label -> count

Guarantees:

* **idempotent ids**: ``add_job`` is ``HSETNX`` (a repeated id returns the stored job, a CSV
  imported twice adds nothing), ``add_request`` is one Lua script that checks the id and the open
  index together, so two requests for one number and queue cannot both be accepted;
* **no lost update**: ``save_job(job, expect=...)`` is a compare-and-set on the stored status (Lua):
  the dialler cannot overwrite a cancellation that the CLI made while it was dialling;
* every call is bounded (``hotline.redisutil.bounded``); failures raise
  :class:`hotline.callbacks.errors.StoreUnavailable`.

Nothing lives only in memory: after a restart ``open_jobs()`` and ``requests()`` give back every
job and request, in-flight ones included (the dialler applies the unknown rule to them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis

from hotline.callbacks.errors import StoreUnavailable, UnknownJob
from hotline.callbacks.keepplace import CallbackRequest, open_key, request_from_dict, request_to_dict
from hotline.callbacks.model import Job, JobStatus, job_from_dict, job_to_dict
from hotline.kernel.redisutil import bounded, connect

_CAS = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
if ARGV[2] ~= '' and cjson.decode(cur)['status'] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
return 1
"""

_ADD_REQUEST = """
local same = redis.call('HGET', KEYS[1], ARGV[1])
if same then return {0, ARGV[1]} end
local other = redis.call('HGET', KEYS[2], ARGV[2])
if other then return {0, other} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return {1, ARGV[1]}
"""

_SAVE_REQUEST = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] == '0' and redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
return 1
"""


def _err(operation: str, reason: str) -> Exception:
    return StoreUnavailable(f"Redis {operation}: {reason}")


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class CallbackStore:
    """Jobs and requests in Redis.

    Args:
        redis: a client with ``decode_responses=True`` (see :func:`open_store`).
        prefix: key prefix.
        timeout_s: budget of one Redis call, seconds.
    """

    def __init__(self, redis: Redis, prefix: str = "hotline:callbacks:", timeout_s: float = 5.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.k_jobs = f"{prefix}jobs"
        self.k_due = f"{prefix}due"
        self.k_requests = f"{prefix}requests"
        self.k_open = f"{prefix}open"

    async def _call(self, operation: str, awaitable: Any) -> Any:
        return await bounded(operation, awaitable, self.timeout_s, _err)

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> None:
        """Raises StoreUnavailable when Redis does not answer."""
        await self._call("PING", self.redis.ping())

    # ------------------------------------------------------------------ jobs
    async def add_job(self, job: Job) -> tuple[Job, bool]:
        """Store a new job unless its id exists.

        Returns:
            ``(stored job, created)``: the existing job and False for a repeated id.
        """
        data = _dumps(job_to_dict(job))
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(self.k_jobs, job.job_id, data)
        pipe.hget(self.k_jobs, job.job_id)
        created, stored = await self._call("HSETNX job", pipe.execute())
        if created:
            if job.status is JobStatus.PENDING and job.next_at is not None:
                await self._call("ZADD due", self.redis.zadd(self.k_due, {job.job_id: job.next_at}))
            return job, True
        return job_from_dict(json.loads(stored)), False

    async def save_job(self, job: Job, expect: JobStatus | None = None) -> bool:
        """Write a job (and its place in the due index) if its stored status is still ``expect``.

        Returns:
            False when the stored status changed meanwhile (e.g. cancelled): nothing was written.
        Raises:
            UnknownJob: no such job.
        """
        due = "" if job.status is not JobStatus.PENDING or job.next_at is None else repr(float(job.next_at))
        res = await self._call("EVAL cas job", self.redis.eval(
            _CAS, 2, self.k_jobs, self.k_due, job.job_id, expect.value if expect else "",
            _dumps(job_to_dict(job)), due))
        if int(res) == -1:
            raise UnknownJob(job.job_id)
        return int(res) == 1

    async def get_job(self, job_id: str) -> Job:
        """Raises UnknownJob."""
        raw = await self._call("HGET job", self.redis.hget(self.k_jobs, job_id))
        if raw is None:
            raise UnknownJob(job_id)
        return job_from_dict(json.loads(raw))

    async def get_jobs(self, job_ids: Sequence[str]) -> list[Job]:
        if not job_ids:
            return []
        raws = await self._call("HMGET jobs", self.redis.hmget(self.k_jobs, list(job_ids)))
        return [job_from_dict(json.loads(r)) for r in raws if r is not None]

    async def due_ids(self, now: float, limit: int = 500) -> list[str]:
        """PENDING job ids with ``next_at <= now``, earliest first."""
        return list(await self._call("ZRANGEBYSCORE due", self.redis.zrangebyscore(
            self.k_due, "-inf", now, start=0, num=limit)))

    async def next_due_at(self) -> float | None:
        """The earliest ``next_at`` of any PENDING job, or None."""
        first = await self._call("ZRANGE due", self.redis.zrange(self.k_due, 0, 0, withscores=True))
        return float(first[0][1]) if first else None

    async def all_jobs(self) -> list[Job]:
        """Every job (open and closed). O(N): for listings and restart, not per tick."""
        raw = await self._call("HGETALL jobs", self.redis.hgetall(self.k_jobs))
        return sorted((job_from_dict(json.loads(v)) for v in raw.values()), key=lambda j: (j.created_at, j.job_id))

    async def open_jobs(self) -> list[Job]:
        return [j for j in await self.all_jobs() if j.status.open]

    # ------------------------------------------------------------------ keep-my-place requests
    async def add_request(self, request: CallbackRequest) -> tuple[CallbackRequest, bool]:
        """Store a request unless its id or its (number, queue) is already pending.

        Returns:
            ``(stored request, created)``: the pending one and False for a duplicate.
        """
        created, rid = await self._call("EVAL add request", self.redis.eval(
            _ADD_REQUEST, 2, self.k_requests, self.k_open, request.request_id,
            open_key(request.number, request.queue), _dumps(request_to_dict(request))))
        if int(created):
            return request, True
        return await self.get_request(rid), False

    async def save_request(self, request: CallbackRequest) -> None:
        """Write a request; a closed one leaves the open index."""
        await self._call("EVAL save request", self.redis.eval(
            _SAVE_REQUEST, 2, self.k_requests, self.k_open, request.request_id,
            open_key(request.number, request.queue), _dumps(request_to_dict(request)),
            "1" if request.status.pending else "0"))

    async def get_request(self, request_id: str) -> CallbackRequest:
        """Raises UnknownJob."""
        raw = await self._call("HGET request", self.redis.hget(self.k_requests, request_id))
        if raw is None:
            raise UnknownJob(request_id)
        return request_from_dict(json.loads(raw))

    async def requests(self) -> list[CallbackRequest]:
        raw = await self._call("HGETALL requests", self.redis.hgetall(self.k_requests))
        return sorted((request_from_dict(json.loads(v)) for v in raw.values()), key=lambda r: r.rank)

    # ------------------------------------------------------------------ statistics
    async def count_rating(self, department: str, label: str) -> None:
        """One more ``label`` (satisfied, basically_satisfied, dissatisfied, no_answer) for a department."""
        await self._call("HINCRBY satisfaction", self.redis.hincrby(f"{self.prefix}satisfaction:{department}",
                                                                    label, 1))

    async def satisfaction(self, departments: Iterable[str]) -> dict[str, dict[str, int]]:
        """department -> {label: count}."""
        out: dict[str, dict[str, int]] = {}
        for dep in departments:
            raw = await self._call("HGETALL satisfaction", self.redis.hgetall(f"{self.prefix}satisfaction:{dep}"))
            out[dep] = {k: int(v) for k, v in raw.items()}
        return out

    async def departments(self) -> list[str]:
        keys = await self._call("SCAN satisfaction", self._scan(f"{self.prefix}satisfaction:*"))
        return sorted(k[len(f"{self.prefix}satisfaction:"):] for k in keys)

    async def _scan(self, pattern: str) -> list[str]:
        return [k async for k in self.redis.scan_iter(match=pattern, count=500)]


def open_store(url: str, prefix: str = "hotline:callbacks:", timeout_s: float = 5.0) -> CallbackStore:
    """A store on a fresh bounded client (``hotline.redisutil.connect``)."""
    return CallbackStore(connect(url, call_timeout_s=timeout_s, decode_responses=True), prefix, timeout_s)
