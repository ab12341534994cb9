"""The Redis Stream pipeline with a private redis-server and real Vosk workers.

Each test uses its own stream, group and result keys on the session's private Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.speech.decoder import Transcriber
from hotline.speech.jobs import Delivery, JobOutcome, new_job
from hotline.speech.store import RedisJobQueue, RedisTranscriptSink, connect, enqueue_recording
from hotline.speech.worker import TranscriptionWorker, WorkerSettings
from tests.integration.speech.conftest import REPO, read_pcm, write_pcm
from tests.support.procs import session_process
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration


class Keys:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.stream, self.group = f"test:{tag}:jobs", "transcribers"
        self.results, self.events = f"test:{tag}:transcripts", f"test:{tag}:events"


@pytest.fixture
async def redis_parts(
    redis_server: ServerProcess,
) -> AsyncIterator[tuple[Keys, RedisJobQueue, RedisTranscriptSink]]:
    keys = Keys()
    client = connect(redis_server.url)
    queue = RedisJobQueue(client, keys.stream, keys.group)
    await queue.ensure_group()
    yield keys, queue, RedisTranscriptSink(client, keys.results, keys.events)
    await client.aclose()


async def test_given_outcome_stored_when_put_again_then_kept_once_and_announced_once(redis_parts) -> None:
    _keys, _queue, sink = redis_parts
    job = new_job("/rec/a.wav", "L1", now=1.0)
    first = JobOutcome(job.job_id, "L1", job.path, "failed", "w1", 2.0, error="x")
    second = JobOutcome(job.job_id, "L1", job.path, "failed", "w2", 3.0, error="y")

    assert await sink.put(first) is True
    assert await sink.put(second) is False

    assert await sink.count() == 1 and await sink.events() == 1
    assert await sink.get(job.job_id) == first
    assert await sink.has(job.job_id) and not await sink.has("other")


async def test_given_job_enqueued_twice_when_worker_runs_then_transcript_stored_once(
    redis_parts, ko_model: Path, ko_clips
) -> None:
    _keys, queue, sink = redis_parts
    clip = ko_clips["picovoice_leopard_test_ko"]
    job = await enqueue_recording(queue, str(clip.file16k), "1700000000.1", now=time.time())
    again = await enqueue_recording(queue, str(clip.file16k), "1700000000.1", now=time.time())
    assert again.job_id == job.job_id  # same recording enqueued again (a watcher restarted)
    stop = asyncio.Event()

    async with Transcriber(ko_model, processes=1) as tr:
        worker = TranscriptionWorker(queue, sink, tr, WorkerSettings(consumer="w1", block_ms=200))
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(sink.count, timeout=60, what="a stored transcript")
            await until(lambda: _no_pending(queue), timeout=30, what="both entries acknowledged")
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)

    assert await sink.count() == 1 and await sink.events() == 1
    outcome = await sink.get(job.job_id)
    assert outcome is not None and outcome.status == "done" and outcome.linkedid == "1700000000.1"
    assert outcome.transcript is not None and outcome.transcript.rate_hz == 16000
    assert outcome.transcript.segments and outcome.transcript.segments[0].words


async def test_given_unreadable_or_header_only_files_when_processed_then_failed_and_skipped_outcomes(
    redis_parts, ko_model: Path, tmp_path: Path
) -> None:
    _keys, queue, sink = redis_parts
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not a wav file, just bytes" * 4)
    empty = write_pcm(tmp_path / "header_only.wav", 8000, [b"", b""])
    worker = TranscriptionWorker(queue, sink, Transcriber(ko_model), WorkerSettings(consumer="w1"))
    try:
        for path in (garbage, empty):
            await queue.enqueue(new_job(str(path), "L2", now=1.0))
        deliveries = await queue.read("w1", 2, 1000)
        outcomes = [await worker.process(d) for d in deliveries]
    finally:
        worker.transcriber.close()

    assert [o.status for o in outcomes if o] == ["failed", "skipped"]
    assert await queue.pending() == 0


async def test_given_job_redelivered_too_often_when_processed_then_stored_failed_and_acked(
    redis_parts, ko_model: Path
) -> None:
    _keys, queue, sink = redis_parts
    job = new_job("/rec/kills-the-decoder.wav", "L3", now=1.0)
    await queue.enqueue(job)
    (d,) = await queue.read("w1", 1, 1000)
    settings = WorkerSettings(consumer="w1", max_deliveries=3)
    worker = TranscriptionWorker(queue, sink, Transcriber(ko_model), settings)

    outcome = await worker.process(Delivery(d.entry_id, d.job, times_delivered=4))

    assert outcome is not None and outcome.status == "failed" and "gave up" in (outcome.error or "")
    assert await queue.pending() == 0


async def _no_pending(queue: RedisJobQueue) -> bool:
    return await queue.pending() == 0


@contextlib.contextmanager
def worker_process(
    url: str, keys: Keys, consumer: str, model: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m speech.worker`` in its own session (so its decoder child dies with it)."""
    argv = [
        sys.executable, "-m", "hotline.speech.worker", "--redis-url", url, "--stream", keys.stream,
        "--group", keys.group, "--consumer", consumer, "--model", str(model),
        "--results-hash", keys.results, "--events-stream", keys.events,
        "--visibility-timeout", "3", "--reclaim-interval", "0.5", "--block-ms", "300",
    ]
    with session_process(argv, REPO, log) as proc:
        yield proc


async def test_given_worker_killed_mid_job_when_another_runs_then_it_reclaims_and_stores_once(
    redis_server: ServerProcess, redis_parts, ko_model: Path, ko_clips, tmp_path: Path
) -> None:
    keys, queue, sink = redis_parts
    # a ~25 s recording: several seconds of decoding, so the kill lands mid-job
    rate = 16000
    clips = ("zeroth_104_003_0294", "zeroth_104_003_0352", "zeroth_104_003_0374")
    pcm = b"".join(read_pcm(ko_clips[i].file16k)[1] for i in clips)
    long_call = write_pcm(tmp_path / "long.wav", rate, [pcm])
    job = new_job(str(long_call), "1700000000.9", now=time.time())
    log1, log2 = tmp_path / "w1.log", tmp_path / "w2.log"

    with worker_process(redis_server.url, keys, "w1", ko_model, log1) as w1:
        await until(lambda: _has_consumer(queue, "w1"), timeout=60, what="worker w1 ready")
        await queue.enqueue(job)
        await until(lambda: "decoding job" in log1.read_text(), timeout=30, what="w1 decoding the job")
        os.killpg(w1.pid, signal.SIGKILL)  # the worker and its decoder process, mid-decode
        w1.wait(timeout=10)

    assert await sink.count() == 0
    assert await queue.pending() == 1  # left pending by the dead worker

    with worker_process(redis_server.url, keys, "w2", ko_model, log2):
        await until(sink.count, timeout=120, what="the reclaimed job's transcript")
        await until(lambda: _no_pending(queue), timeout=30, what="the reclaimed entry acknowledged")

    assert await sink.count() == 1 and await sink.events() == 1
    outcome = await sink.get(job.job_id)
    assert outcome is not None
    assert outcome.worker == "w2" and outcome.status == "done" and outcome.attempts == 2
    assert "reclaimed" in log2.read_text()


async def _has_consumer(queue: RedisJobQueue, name: str) -> bool:
    return name in await queue.consumers()


async def test_given_redis_restarted_when_worker_runs_then_it_recovers_and_transcribes(
    redis_server: ServerProcess, ko_model: Path, ko_clips
) -> None:
    keys = Keys()
    client = connect(redis_server.url, call_timeout_s=1.0, block_ms=200)
    queue = RedisJobQueue(client, keys.stream, keys.group, call_timeout_s=1.0)
    sink = RedisTranscriptSink(client, keys.results, keys.events, call_timeout_s=1.0)
    settings = WorkerSettings(consumer="w1", block_ms=200, backoff_s=0.1)
    stop = asyncio.Event()
    async with Transcriber(ko_model) as tr:
        worker = TranscriptionWorker(queue, sink, tr, settings)
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: _has_consumer(queue, "w1"), timeout=60, what="worker ready")
            redis_server.stop()  # no persistence: the stream and the group are gone
            redis_server.start()
            await until(lambda: _has_consumer(queue, "w1"), timeout=30, what="group re-created")
            clip = ko_clips["picovoice_leopard_test_ko"]
            job = await enqueue_recording(queue, str(clip.file16k), "L9", now=1.0)
            await until(lambda: sink.has(job.job_id), timeout=60, what="transcript after the restart")
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await client.aclose()
    assert not task.exception()
