"""Fixtures for recording tests: a fresh catalog per test (SQLite in tmp, migrated by Alembic), and
the recorder rig on the lab (``rig``).

The speech fixtures (``ko_model``, ``ko_clips``) are shared from the speech suite.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.app.config import AmiConfig, Settings
from hotline.recording import files
from hotline.recording.catalog import Catalog
from hotline.recording.mixmonitor import ClosedRecording, Recorder
from hotline.speech.store import RedisJobQueue, connect
from hotline.telephony.ami import AmiClient
from hotline_lab import lab
from tests.integration.speech.conftest import ko_clips, ko_model  # noqa: F401  (shared fixtures)
from tests.support.servers import ServerProcess

CALLER_CLIP, AGENT_CLIP = "zeroth_104_003_0019", "zeroth_104_003_0193"


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'catalog' / 'catalog.sqlite'}"


@pytest.fixture
async def catalog(catalog_url: str) -> AsyncIterator[Catalog]:
    cat = Catalog(catalog_url)
    await cat.upgrade()
    yield cat
    await cat.close()


RMS_FLOOR = 0.01  # -40 dBFS: speech on a G.711 leg is far above, digital silence is 0


@dataclass
class Rig:
    recorder: Recorder
    queue: RedisJobQueue
    closed: list[ClosedRecording]
    workdir: Path
    prefix: str


def ulaw_clip(src: Path, dest: Path) -> Path:
    """A shared clip as the 8 kHz mono G.711 mu-law WAV that SIPp's rtp_stream plays."""
    subprocess.run(["sox", str(src), "-r", "8000", "-c", "1", "-e", "u-law", str(dest)], check=True, timeout=30)
    return dest


async def transcribe_into_catalog(rig: Rig, catalog: Catalog, model: Path, job_id: str, consumer: str) -> None:
    """Run one Vosk worker on the rig's job stream until ``job_id``'s transcript is in the catalog (<= 120 s)."""
    import asyncio

    from hotline.speech.decoder import Transcriber
    from hotline.speech.worker import TranscriptionWorker, WorkerSettings
    from tests.support.wait import until

    stop = asyncio.Event()
    async with Transcriber(model) as tr:
        worker = TranscriptionWorker(rig.queue, catalog, tr, WorkerSettings(consumer=consumer, block_ms=200))
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: catalog.has(job_id), timeout=120, what="the transcript in the catalog")
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)


@pytest.fixture
async def rig(
    asterisk: lab.LabPaths, ami_config: AmiConfig, settings: Settings, redis_server: ServerProcess,
    catalog: Catalog, ko_clips, tmp_path: Path,  # noqa: F811  (the fixture)
) -> AsyncIterator[Rig]:
    """Recorder (real AMI, test catalog, private Redis job stream) for this test's callers only.

    The G.711 talking clips (``caller-audio.wav``, ``agent-audio.wav``) are in ``rig.workdir``.
    """
    ulaw_clip(ko_clips[CALLER_CLIP].file16k, tmp_path / "caller-audio.wav")
    ulaw_clip(ko_clips[AGENT_CLIP].file16k, tmp_path / "agent-audio.wav")
    prefix = f"1390{uuid.uuid4().int % 10**5:05d}"  # this test's callers only
    rec_settings = settings.recording.model_copy(update={
        "host_dir": asterisk.chroot / "var/spool/asterisk/monitor", "only_caller_prefixes": (prefix,),
        "close_poll_s": 0.1, "close_timeout_s": 20.0,
    })
    redis = connect(redis_server.url)
    queue = RedisJobQueue(redis, f"test:{uuid.uuid4().hex[:8]}:jobs")
    await queue.ensure_group()
    client = AmiClient(ami_config)
    recorder = Recorder(client, rec_settings, catalog=catalog, jobs=queue)
    closed: list[ClosedRecording] = []
    recorder.on_closed(closed.append)
    await client.start()
    await client.wait_connected(timeout=15)
    await recorder.start()
    try:
        yield Rig(recorder, queue, closed, tmp_path, prefix)
    finally:
        await recorder.stop()
        await client.stop()
        await redis.aclose()
        made = [c.rel_path for c in closed]
        made += [Path(p).relative_to(rec_settings.host_dir).as_posix() for c in closed for p in c.leg_paths]
        files.delete(rec_settings.host_dir, made)
