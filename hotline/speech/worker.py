"""The transcription worker: takes jobs off the Redis stream, decodes them, stores the outcome.

One worker is one consumer of the group, with a :class:`hotline.speech.decoder.Transcriber` pool of
``processes`` decoder processes; it holds at most ``processes`` jobs at a time (no prefetch, so
an idle worker elsewhere gets the next job). Start as many workers on as many machines as
needed, each with its own consumer name; they share the load through the consumer group.

Per job: skip the decode when an outcome is already stored (a previous owner died after storing
and before acknowledging), decode, ``sink.put`` (idempotent by job id), then ``XACK``. A worker
that dies leaves its jobs pending; another worker's periodic ``XAUTOCLAIM`` takes them once idle
for ``visibility_timeout_s``. A job delivered more than ``max_deliveries`` times is stored as
failed and acknowledged, so a recording that kills the decoder cannot loop forever.

Run with :func:`run_worker` (the ``hotline speech worker`` command) or
``python -m speech.worker --redis-url ... --model ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from hotline.kernel.stopsignal import stop_on_signals
from hotline.speech.decoder import Transcriber
from hotline.speech.errors import DecoderCrashed, QueueUnavailable, UnreadableRecording, UnsupportedAudio
from hotline.speech.jobs import (
    DEFAULT_GROUP,
    DEFAULT_RESULTS_HASH,
    DEFAULT_RESULTS_STREAM,
    DEFAULT_STREAM,
    Delivery,
    JobOutcome,
    failed_outcome,
    outcome_for,
    should_give_up,
)
from hotline.speech.store import RedisJobQueue, RedisTranscriptSink, TranscriptSink, connect

log = logging.getLogger("hotline.speech.worker")


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker paces itself.

    Attributes:
        consumer: this worker's consumer name, unique in the group (host:pid by default).
        visibility_timeout_s: a pending job idle this long is taken over by another worker,
            seconds. In-flight jobs are refreshed every third of it, so it only needs to
            exceed a worker's worst stall, not the longest decode.
        reclaim_interval_s: how often to look for abandoned jobs, seconds.
        block_ms: longest XREADGROUP wait, milliseconds (also the stop latency).
        max_deliveries: deliveries after which a job is stored as failed.
        backoff_s: wait after a Redis failure before retrying, seconds (doubles up to 30 s).
        drain_timeout_s: on stop, how long to let in-flight decodes finish, seconds.
    """

    consumer: str
    visibility_timeout_s: float = 60.0
    reclaim_interval_s: float = 10.0
    block_ms: int = 2000
    max_deliveries: int = 3
    backoff_s: float = 0.5
    drain_timeout_s: float = 30.0


def default_consumer_name() -> str:
    """``host:pid``: unique per worker process."""
    return f"{socket.gethostname()}:{os.getpid()}"


class TranscriptionWorker:
    """One consumer of the job group.

    Args:
        queue: the job stream.
        sink: where outcomes go (idempotent by job id).
        transcriber: the decoder pool; its ``processes`` is this worker's capacity.
        settings: pacing.
        clock: epoch seconds (``time.time``), for ``finished_at``.
    """

    def __init__(
        self,
        queue: RedisJobQueue,
        sink: TranscriptSink,
        transcriber: Transcriber,
        settings: WorkerSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self.sink = sink
        self.transcriber = transcriber
        self.settings = settings
        self.clock = clock
        self.capacity = transcriber.processes
        self._inflight: dict[asyncio.Task[JobOutcome | None], str] = {}
        self.completed = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then let in-flight jobs finish (bounded) and return.

        Redis failures are logged and retried with back-off; the worker outlives a Redis restart.
        """
        s = self.settings
        await self.transcriber.warm_up()  # load the model before taking any job
        backoff = s.backoff_s
        next_reclaim = 0.0
        next_touch = time.monotonic() + s.visibility_timeout_s / 3
        group_ready = False
        while not stop.is_set():
            try:
                if not group_ready:
                    await self.queue.ensure_group()
                    await self.queue.register(s.consumer)  # visible once the model is loaded
                    group_ready = True
                    log.info("worker %s ready", s.consumer)
                free = self.capacity - len(self._inflight)
                if free > 0:
                    got: list[Delivery] = []
                    if time.monotonic() >= next_reclaim:
                        min_idle_ms = int(s.visibility_timeout_s * 1000)
                        got = await self.queue.reclaim(s.consumer, min_idle_ms, free)
                        next_reclaim = time.monotonic() + s.reclaim_interval_s
                        for d in got:
                            log.info("reclaimed %s (job %s, delivery %d)", d.entry_id,
                                     d.job.job_id if d.job else "?", d.times_delivered)
                    if len(got) < free:
                        block = s.block_ms if not self._inflight else 50
                        got += await self.queue.read(s.consumer, free - len(got), block)
                    for d in got:
                        task = asyncio.create_task(self._handle(d), name=f"job {d.entry_id}")
                        self._inflight[task] = d.entry_id
                if self._inflight and len(self._inflight) >= self.capacity:
                    done, _ = await asyncio.wait(
                        self._inflight, timeout=s.visibility_timeout_s / 3,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    self._reap(done)
                else:
                    self._reap({t for t in self._inflight if t.done()})
                if self._inflight and time.monotonic() >= next_touch:
                    await self.queue.touch(s.consumer, list(self._inflight.values()))
                    next_touch = time.monotonic() + s.visibility_timeout_s / 3
                backoff = s.backoff_s
            except QueueUnavailable as exc:
                log.warning("redis unavailable (%s); retrying in %.1fs", exc, backoff)
                group_ready = False  # a restarted Redis without persistence lost the group
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 30.0)
        await self._drain()

    async def _drain(self) -> None:
        if not self._inflight:
            return
        done, pending = await asyncio.wait(self._inflight, timeout=self.settings.drain_timeout_s)
        self._reap(done)
        for t in pending:  # left pending in Redis: another worker reclaims them
            t.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
            self._inflight.clear()

    def _reap(self, done: set[asyncio.Task[JobOutcome | None]]) -> None:
        for t in done:
            self._inflight.pop(t, None)
            if not t.cancelled() and t.exception() is None and t.result() is not None:
                self.completed += 1

    async def _handle(self, d: Delivery) -> JobOutcome | None:
        """Process one delivery; the one broad ``except``: log with the linkedid and carry on."""
        try:
            return await self.process(d)
        except asyncio.CancelledError:
            raise
        except Exception:
            linkedid = d.job.linkedid if d.job else "?"
            log.exception("job %s (linkedid %s) failed; left pending for retry", d.entry_id, linkedid)
            return None

    async def process(self, d: Delivery) -> JobOutcome | None:
        """Decode one delivered job, store the outcome once, acknowledge it.

        Returns:
            The outcome stored or found, or None when the job is left pending for a retry (the
            decoder process died) or the entry was not a job.
        Raises:
            QueueUnavailable: Redis failed; the job stays pending and is retried.
        """
        s = self.settings
        if d.job is None:
            log.error("dropping stream entry %s: %s", d.entry_id, d.error)
            await self.queue.ack(d.entry_id)
            return None
        job = d.job
        if await self.sink.has(job.job_id):  # the previous owner stored it and died before XACK
            await self.queue.ack(d.entry_id)
            log.info("job %s (linkedid %s) already stored; acknowledged", job.job_id, job.linkedid)
            return None
        if should_give_up(d.times_delivered, s.max_deliveries):
            outcome = failed_outcome(
                job, f"gave up after {d.times_delivered - 1} deliveries (decoder died each time)",
                worker=s.consumer, now=self.clock(), attempts=d.times_delivered,
            )
        else:
            log.info("decoding job %s (linkedid %s, delivery %d): %s",
                     job.job_id, job.linkedid, d.times_delivered, job.path)
            try:
                transcript = await self.transcriber.transcribe(job.path, legs=job.legs)
                outcome = outcome_for(
                    job, transcript, worker=s.consumer, now=self.clock(), attempts=d.times_delivered
                )
            except (UnreadableRecording, UnsupportedAudio) as exc:
                outcome = failed_outcome(job, str(exc), worker=s.consumer, now=self.clock(),
                                         attempts=d.times_delivered)
            except DecoderCrashed as exc:
                log.error("job %s (linkedid %s): %s; left pending for retry", job.job_id, job.linkedid, exc)
                return None
        stored = await self.sink.put(outcome)
        await self.queue.ack(d.entry_id)
        log.info("job %s (linkedid %s) %s%s", job.job_id, job.linkedid, outcome.status,
                 "" if stored else " (already stored by another worker)")
        return outcome


async def serve(
    redis_url: str,
    stream: str,
    group: str,
    consumer: str,
    model_path: str | Path,
    processes: int,
    *,
    stop: asyncio.Event | None = None,
    results_hash: str = DEFAULT_RESULTS_HASH,
    events_stream: str = DEFAULT_RESULTS_STREAM,
    settings: WorkerSettings | None = None,
) -> int:
    """Run a worker until ``stop`` is set (or SIGTERM/SIGINT when no event is given).

    Returns:
        Jobs completed.
    Raises:
        ModelNotFound: the model folder is not a Vosk model (checked before connecting).
    """
    settings = settings or WorkerSettings(consumer=consumer)
    redis = connect(redis_url, block_ms=settings.block_ms)
    try:
        with stop_on_signals(stop) as stopping:
            return await serve_into(RedisTranscriptSink(redis, results_hash, events_stream), redis, stream, group,
                                    model_path, processes, settings, stopping)
    finally:
        await redis.aclose()


async def serve_into(
    sink: TranscriptSink,
    redis: Redis,
    stream: str,
    group: str,
    model_path: str | Path,
    processes: int,
    settings: WorkerSettings,
    stop: asyncio.Event,
    into: str = "",
) -> int:
    """The one serve loop of every transcription worker: start the decoder pool, take jobs from the
    consumer group ``group`` of ``stream`` into ``sink`` until ``stop`` is set.

    Args:
        sink: where outcomes go (the interim Redis hash, or the recording catalog).
        redis: the job queue's client (the caller closes it).
        into: where the outcomes go, for the start-up log line (``" -> catalog"``).
    Returns:
        Jobs completed.
    Raises:
        ModelNotFound: the model folder is not a Vosk model.
    """
    async with Transcriber(model_path, processes=processes) as transcriber:
        worker = TranscriptionWorker(RedisJobQueue(redis, stream, group), sink, transcriber, settings)
        log.info("worker %s: stream %s group %s%s, %d decoder process(es), model %s",
                 settings.consumer, stream, group, into, processes, transcriber.model_name)
        await worker.run(stop)
        return worker.completed


def run_worker(
    redis_url: str,
    stream: str = DEFAULT_STREAM,
    group: str = DEFAULT_GROUP,
    consumer: str | None = None,
    model_path: str | Path = "",
    processes: int = 1,
    **kwargs: object,
) -> int:
    """Blocking entry point for ``hotline speech worker``: serve until SIGTERM or SIGINT.

    Must run in the main module under ``if __name__ == "__main__"`` (console scripts do): the
    decoder pool uses the ``spawn`` start method.

    Args:
        redis_url: ``redis://host:port/db``.
        stream: the job stream key.
        group: the consumer group.
        consumer: this worker's unique name (default ``host:pid``).
        model_path: the Vosk model folder (``speech.model_path`` in the configuration).
        processes: decoder processes (about one per core this worker may use).
        **kwargs: passed to :func:`serve` (``results_hash``, ``events_stream``, ``settings``).
    Returns:
        Process exit status (0).
    """
    name = consumer or default_consumer_name()
    completed = asyncio.run(serve(redis_url, stream, group, name, model_path, processes, **kwargs))  # type: ignore[arg-type]
    log.info("worker %s stopped after %d job(s)", name, completed)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m speech.worker``: the same as ``hotline speech worker`` (for tests and benches)."""
    p = argparse.ArgumentParser(prog="python -m speech.worker", description=__doc__.splitlines()[0])
    p.add_argument("--redis-url", required=True)
    p.add_argument("--stream", default=DEFAULT_STREAM)
    p.add_argument("--group", default=DEFAULT_GROUP)
    p.add_argument("--consumer", default=None)
    p.add_argument("--model", required=True, help="Vosk model folder")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--results-hash", default=DEFAULT_RESULTS_HASH)
    p.add_argument("--events-stream", default=DEFAULT_RESULTS_STREAM)
    p.add_argument("--visibility-timeout", type=float, default=60.0, help="seconds")
    p.add_argument("--reclaim-interval", type=float, default=10.0, help="seconds")
    p.add_argument("--block-ms", type=int, default=2000)
    p.add_argument("--log-level", default="INFO")
    a = p.parse_args(argv)
    logging.basicConfig(level=a.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    consumer = a.consumer or default_consumer_name()
    settings = WorkerSettings(
        consumer=consumer, visibility_timeout_s=a.visibility_timeout,
        reclaim_interval_s=a.reclaim_interval, block_ms=a.block_ms,
    )
    return run_worker(
        a.redis_url, a.stream, a.group, consumer, a.model, a.processes,
        results_hash=a.results_hash, events_stream=a.events_stream, settings=settings,
    )


if __name__ == "__main__":
    raise SystemExit(main())
