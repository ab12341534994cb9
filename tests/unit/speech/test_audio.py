"""speech.audio: header reading, too-short classification, stereo split, RMS."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hotline.speech.audio import (
    AudioInfo,
    RecordingTooShort,
    channel_rms,
    check_recording,
    dbfs,
    iter_channel_chunks,
    read_info,
    rms_ratio,
    split_channels,
)
from hotline.speech.errors import UnreadableRecording
from tests.unit.speech.wavs import header_only, silence, tone, write_wav


@pytest.mark.parametrize(
    ("rate_hz", "channels", "seconds"),
    [(8000, 1, 1.5), (16000, 1, 2.0), (8000, 2, 1.25), (16000, 2, 3.0)],
)
def test_given_pcm_wav_when_header_read_then_rate_channels_frames_and_duration(
    tmp_path: Path, rate_hz: int, channels: int, seconds: float
) -> None:
    path = write_wav(tmp_path / "a.wav", [tone(440, seconds, rate_hz)] * channels, rate_hz)

    info = read_info(path)

    assert info == AudioInfo(str(path), rate_hz, channels, 2, int(seconds * rate_hz))
    assert info.duration_s == pytest.approx(seconds)
    assert check_recording(path) == info


def test_given_header_only_file_when_checked_then_too_short_not_an_error(tmp_path: Path) -> None:
    path = header_only(tmp_path / "h.wav", 8000)
    assert path.stat().st_size == 44

    result = check_recording(path)

    assert isinstance(result, RecordingTooShort)
    assert result.reason == "header_only"
    assert result.duration_s == 0.0
    assert result.info is not None and result.info.rate_hz == 8000


def test_given_sub_second_file_when_checked_then_too_short_with_its_duration(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "s.wav", [tone(300, 0.4, 16000)], 16000)

    result = check_recording(path)

    assert isinstance(result, RecordingTooShort)
    assert result.reason == "sub_second"
    assert result.duration_s == pytest.approx(0.4)


def test_given_a_threshold_when_checked_then_it_is_honoured(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "s.wav", [tone(300, 0.4, 8000)], 8000)
    assert isinstance(check_recording(path, min_duration_s=0.3), AudioInfo)


def test_given_empty_file_when_checked_then_too_short_empty(tmp_path: Path) -> None:
    path = tmp_path / "e.wav"
    path.write_bytes(b"")
    result = check_recording(path)
    assert isinstance(result, RecordingTooShort) and result.reason == "empty" and result.info is None


@pytest.mark.parametrize("content", [b"RIFF\x00\x00", b"not a wav file at all, just some text bytes here..."])
def test_given_garbage_when_checked_then_unreadable_recording(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "g.wav"
    path.write_bytes(content)
    with pytest.raises(UnreadableRecording) as err:
        check_recording(path)
    assert err.value.path == str(path)


def test_given_missing_file_when_read_then_unreadable_recording(tmp_path: Path) -> None:
    with pytest.raises(UnreadableRecording):
        read_info(tmp_path / "nope.wav")


def test_given_interleaved_stereo_when_split_then_left_and_right_apart() -> None:
    left, right = [1, 2, 3, -4], [100, -200, 300, 400]
    pcm = b"".join(struct.pack("<hh", a, b) for a, b in zip(left, right, strict=True))

    ch0, ch1 = split_channels(pcm, 2, 2)

    assert struct.unpack("<4h", ch0) == tuple(left)
    assert struct.unpack("<4h", ch1) == tuple(right)


def test_given_partial_trailing_frame_when_split_then_it_is_dropped() -> None:
    pcm = struct.pack("<hhh", 1, 2, 3)  # one frame and a half
    assert split_channels(pcm, 2, 2) == [struct.pack("<h", 1), struct.pack("<h", 2)]


def test_given_8bit_stereo_when_split_then_bytes_alternate() -> None:
    assert split_channels(bytes([1, 2, 3, 4]), 2, 1) == [bytes([1, 3]), bytes([2, 4])]


def test_given_mono_when_split_then_unchanged() -> None:
    assert split_channels(b"\x01\x00", 1, 2) == [b"\x01\x00"]


def test_given_unsupported_width_when_split_then_value_error() -> None:
    with pytest.raises(ValueError, match="sample width"):
        split_channels(b"\x00" * 12, 2, 3)


def test_rms_of_full_scale_square_and_silence() -> None:
    square = struct.pack("<4h", 32767, -32767, 32767, -32767)
    assert rms_ratio(square, 2) == pytest.approx(1.0, abs=1e-4)
    assert rms_ratio(b"\x00\x00" * 10, 2) == 0.0
    assert rms_ratio(b"", 2) == 0.0
    assert rms_ratio(bytes([128, 128]), 1) == 0.0  # 8-bit WAV is unsigned, centred on 128
    assert dbfs(0.0) == float("-inf")
    assert dbfs(1.0) == 0.0


def test_given_stereo_file_with_one_silent_leg_when_rms_then_only_left_carries_audio(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "st.wav", [tone(440, 1.2, 8000, 0.5), silence(1.2, 8000)], 8000)

    left, right = channel_rms(path, chunk_frames=1000)

    assert left == pytest.approx(0.5 / 2**0.5, rel=0.01)  # a sine's RMS is amplitude / sqrt(2)
    assert right == 0.0


def test_given_header_only_stereo_when_rms_then_zeros(tmp_path: Path) -> None:
    assert channel_rms(header_only(tmp_path / "h.wav", 8000, 2)) == [0.0, 0.0]


def test_given_file_when_streamed_then_chunks_cover_every_frame_per_channel(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "st.wav", [tone(440, 1.0, 8000), tone(880, 1.0, 8000)], 8000)

    chunks = list(iter_channel_chunks(path, chunk_frames=3000))

    assert [len(c[0]) // 2 for c in chunks] == [3000, 3000, 2000]
    assert all(len(c) == 2 and len(c[0]) == len(c[1]) for c in chunks)
