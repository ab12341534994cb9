"""recording.files: merging legs at one rate and at two rates (G.711 caller, G.722 agent), upsampling."""

from __future__ import annotations

import array
import wave
from pathlib import Path

import pytest

from hotline.recording.files import merge_legs, read_rate, upsample
from tests.unit.speech.wavs import tone, write_wav


def samples_of(path: Path) -> tuple[int, int, list[int]]:
    with wave.open(str(path), "rb") as w:
        data = array.array("h", w.readframes(w.getnframes()))
        return w.getframerate(), w.getnchannels(), data.tolist()


def test_upsample_by_two_interpolates_and_holds_the_last_sample_for_the_next_chunk() -> None:
    out, held = upsample(array.array("h", [0, 100, 200]), 2)
    assert (out.tolist(), held) == ([0, 50, 100, 150], 200)
    out, held = upsample(array.array("h", [0]), 2, held)
    assert (out.tolist(), held) == ([200, 100], 0)


@pytest.mark.parametrize("split", [1, 3, 7, 1000])
def test_upsample_in_chunks_equals_upsample_at_once(split: int) -> None:
    src = array.array("h", tone(440, 0.25, 8000))
    whole, _ = upsample(src, 2)
    pieces, held = array.array("h"), None
    for i in range(0, len(src), split):
        out, held = upsample(src[i:i + split], 2, held)
        pieces.extend(out)
    assert pieces == whole


def test_given_legs_at_one_rate_when_merged_then_stereo_at_that_rate_caller_left(tmp_path: Path) -> None:
    caller = write_wav(tmp_path / "c.wav", [[1000] * 800], 8000)
    agent = write_wav(tmp_path / "a.wav", [[-1000] * 400], 8000)
    m = merge_legs(caller, agent, tmp_path / "out.wav")
    rate, channels, data = samples_of(tmp_path / "out.wav")
    assert (m.rate_hz, m.frames, rate, channels) == (8000, 800, 8000, 2)
    assert data[0:2] == [1000, -1000] and data[-2:] == [1000, 0]  # the shorter leg padded with silence


def test_given_8k_caller_and_16k_agent_when_merged_then_stereo_at_16k_and_both_legs_in_step(tmp_path: Path) -> None:
    caller = write_wav(tmp_path / "c.wav", [tone(300, 2.0, 8000)], 8000)
    agent = write_wav(tmp_path / "a.wav16", [tone(6000, 2.0, 16000)], 16000)
    m = merge_legs(caller, agent, tmp_path / "out.wav")

    rate, channels, data = samples_of(tmp_path / "out.wav")
    assert (rate, channels, m.rate_hz) == (16000, 2, 16000)
    assert abs(m.frames - 32000) <= 2  # 2 s at 16 kHz: the 8 kHz leg was upsampled, not squeezed
    left = data[0::2]
    assert left[2 * 100] == tone(300, 2.0, 8000)[100]  # caller samples land on every second frame
    assert (read_rate(caller), read_rate(agent), read_rate(tmp_path / "missing.wav")) == (8000, 16000, None)


def test_given_rates_not_whole_multiples_when_merged_then_value_error(tmp_path: Path) -> None:
    caller = write_wav(tmp_path / "c.wav", [[0] * 100], 8000)
    agent = write_wav(tmp_path / "a.wav", [[0] * 100], 11025)
    with pytest.raises(ValueError, match="whole multiples"):
        merge_legs(caller, agent, tmp_path / "out.wav")
