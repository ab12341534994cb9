"""The catalog on a real SQLite file: Alembic migrations, exactly-once transcripts, Chinese search,
and the catalog as the sink of real Vosk workers (one killed mid-job)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.recording.catalog import Catalog, current_revision_sync, head_revision, upgrade_sync
from hotline.recording.worker import CatalogAndAnnounce
from hotline.speech.jobs import JobOutcome, new_job
from hotline.speech.store import RedisJobQueue, RedisTranscriptSink, connect
from hotline.speech.transcript import KeywordHit, Segment, Transcript, Word
from tests.integration.speech.conftest import REPO, read_pcm, write_pcm
from tests.support.procs import session_process
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration


def outcome(job_id: str, linkedid: str, text: str, worker: str = "w1") -> JobOutcome:
    seg = Segment("caller", 0, 0.5, 2.0, text, tuple(Word(w, 0.5 + i * 0.3, 0.7 + i * 0.3)
                                                    for i, w in enumerate(text.split())))
    agent = Segment("agent", 1, 2.5, 3.5, "好的 请 您 说")
    hits = (KeywordHit("complaint", "投诉", "caller", 1.1, 1.3, text),) if "投诉" in text else ()
    t = Transcript(f"/rec/{linkedid}.wav", 4.0, 8000, 2, (seg, agent), hits, speakers=("caller", "agent"))
    return JobOutcome(job_id, linkedid, t.path, "done", worker, time.time(), t)


async def test_given_empty_database_when_upgraded_twice_then_at_head(catalog_url: str) -> None:
    await asyncio.to_thread(upgrade_sync, catalog_url)
    await asyncio.to_thread(upgrade_sync, catalog_url)  # idempotent
    assert current_revision_sync(catalog_url) == head_revision()


def test_given_two_processes_upgrading_at_once_then_both_succeed(catalog_url: str) -> None:
    code = "import sys; from hotline.recording.catalog import upgrade_sync; upgrade_sync(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, catalog_url], cwd=REPO, stderr=subprocess.PIPE)
             for _ in range(2)]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert current_revision_sync(catalog_url) == head_revision()


async def test_given_outcome_put_twice_then_stored_once_with_segments_and_flags(catalog: Catalog) -> None:
    first = outcome("j1", "L1", "我 要 投诉 楼下 噪音")
    again = outcome("j1", "L1", "something else", worker="w2")

    assert await catalog.put(first) is True
    assert await catalog.put(again) is False

    assert await catalog.count_transcripts() == 1 and await catalog.has("j1")
    stored = await catalog.get("j1")
    assert stored == first
    assert [s.speaker for s in stored.transcript.segments] == ["caller", "agent"]
    assert stored.transcript.segments[0].words[2].word == "投诉"
    assert [h["keyword"] for h in await catalog.flagged("complaint")] == ["投诉"]
    assert len(await catalog.search("楼下噪音")) == 1  # segments were written once
    assert await catalog.calls_by_speaker() == {"caller": 1, "agent": 1}
    await catalog.put(outcome("j2", "L2", "喂 你好"))
    assert await catalog.calls_by_speaker() == {"caller": 2, "agent": 2}


@pytest.mark.parametrize("query", ["投诉楼下", "要投诉", "投诉", "噪", "楼下 噪音", "请您说"])
async def test_given_chinese_transcripts_when_searched_then_substrings_found(catalog: Catalog, query: str) -> None:
    await catalog.put(outcome("j1", "L1", "我 要 投诉 楼下 噪音"))
    await catalog.put(outcome("j2", "L2", "我 想 查询 公积金"))

    hits = await catalog.search(query)

    assert {h.linkedid for h in hits} == {"L1"} if query != "请您说" else {"L1", "L2"}


async def test_given_no_match_then_search_is_empty(catalog: Catalog) -> None:
    await catalog.put(outcome("j1", "L1", "我 要 投诉 楼下 噪音"))
    assert await catalog.search("公积金") == [] and await catalog.search("  ") == []


async def test_given_calls_and_recordings_then_linked_set_is_listed_in_order(catalog: Catalog) -> None:
    await catalog.call_started("L1", 100.0, "13900000000")
    await catalog.recording_started("L1", 2, "2026/11/30/L1-2.wav", "/r/L1-2.wav", "u2", 110.0)
    await catalog.recording_started("L1", 1, "2026/11/30/L1.wav", "/r/L1.wav", "u1", 100.0)
    await catalog.recording_started("L1", 1, "2026/11/30/L1.wav", "/r/L1.wav", "u1", 100.0)  # idempotent
    await catalog.recording_closed("2026/11/30/L1.wav", status="queued", closed_at=120.0, rate_hz=8000,
                                   channels=2, duration_s=19.5, size_bytes=624044, job_id="j1")
    await catalog.recording_closed("2026/11/30/L1-2.wav", status="skipped", closed_at=120.0,
                                   skip_reason="header_only")

    rows = await catalog.recordings_of("L1")

    assert [(r["seq"], r["status"]) for r in rows] == [(1, "queued"), (2, "skipped")]
    await catalog.put(outcome("j1", "L1", "我 要 投诉"))
    assert (await catalog.recordings_of("L1"))[0]["status"] == "transcribed"
    assert await catalog.mark_purged(["2026/11/30/L1.wav"], 200.0) == 1


@contextlib.contextmanager
def catalog_worker(redis_url: str, catalog_url: str, stream: str, consumer: str, model: Path,
                   log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m recording.worker`` in its own session (so its decoder child dies with it)."""
    argv = [sys.executable, "-m", "hotline.recording.worker", "--redis-url", redis_url, "--catalog-url", catalog_url,
            "--stream", stream, "--consumer", consumer, "--model", str(model),
            "--visibility-timeout", "3", "--reclaim-interval", "0.5", "--block-ms", "300"]
    with session_process(argv, REPO, log) as proc:
        yield proc


async def test_given_catalog_worker_killed_mid_job_when_another_runs_then_one_transcript_in_catalog(
    redis_server: ServerProcess, catalog: Catalog, catalog_url: str, ko_model: Path, ko_clips, tmp_path: Path
) -> None:
    client = connect(redis_server.url)
    stream = f"test:{uuid.uuid4().hex[:8]}:jobs"
    queue = RedisJobQueue(client, stream)
    await queue.ensure_group()
    clips = ("zeroth_104_003_0294", "zeroth_104_003_0352", "zeroth_104_003_0374")
    caller = b"".join(read_pcm(ko_clips[i].file16k)[1] for i in clips)
    agent = read_pcm(ko_clips["zeroth_104_003_0019"].file16k)[1]
    call = write_pcm(tmp_path / "call.wav", 16000, [caller, agent])  # ~25 s stereo: the kill lands mid-decode
    job = new_job(str(call), "1796000000.7", now=time.time())
    log1, log2 = tmp_path / "w1.log", tmp_path / "w2.log"
    try:
        with catalog_worker(redis_server.url, catalog_url, stream, "w1", ko_model, log1) as w1:
            await until(lambda: _has_consumer(queue, "w1"), timeout=60, what="worker w1 ready")
            await queue.enqueue(job)
            await until(lambda: "decoding job" in log1.read_text(), timeout=30, what="w1 decoding the job")
            os.killpg(w1.pid, signal.SIGKILL)  # the worker and its decoder process, mid-decode
            w1.wait(timeout=10)

        assert await catalog.count_transcripts() == 0
        assert await queue.pending() == 1

        with catalog_worker(redis_server.url, catalog_url, stream, "w2", ko_model, log2):
            await until(lambda: catalog.has(job.job_id), timeout=120, what="the reclaimed job in the catalog")
            await until(lambda: _no_pending(queue), timeout=30, what="the reclaimed entry acknowledged")

        assert await catalog.count_transcripts() == 1
        stored = await catalog.get(job.job_id)
        assert stored is not None and stored.worker == "w2" and stored.attempts == 2
        assert {s.speaker for s in stored.transcript.segments} == {"caller", "agent"}
        assert all(w.end_s >= w.start_s for s in stored.transcript.segments for w in s.words)
        assert "reclaimed" in log2.read_text()
    finally:
        await client.aclose()


async def _has_consumer(queue: RedisJobQueue, name: str) -> bool:
    return name in await queue.consumers()


async def _no_pending(queue: RedisJobQueue) -> bool:
    return await queue.pending() == 0


async def test_given_catalog_and_announce_when_an_outcome_is_put_twice_then_one_row_and_one_announcement(
        catalog: Catalog, redis_server: ServerProcess) -> None:
    redis = connect(redis_server.url)
    stream, hashkey = f"t:{uuid.uuid4().hex}:events", f"t:{uuid.uuid4().hex}:results"
    sink = CatalogAndAnnounce(catalog, RedisTranscriptSink(redis, hashkey, stream))
    try:
        first = outcome("ja", "LA", "我 要 投诉 楼下 噪音")
        assert await sink.put(first) is True
        assert await sink.put(first) is False  # a redelivered job: stored once, announced once
        assert await sink.has("ja")
        assert await redis.hlen(hashkey) == 1 and await redis.xlen(stream) == 1
        assert [t.linkedid for t in await catalog.transcripts_of("LA")] == ["LA"]
    finally:
        await redis.aclose()
