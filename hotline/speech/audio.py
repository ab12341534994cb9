"""WAV recordings as plain data: header, too-short check, per-channel PCM, RMS.

Stdlib only (``wave``, ``array``). Asterisk's MixMonitor writes little-endian 16-bit PCM WAV:
``wav`` is 8000 Hz, ``wav16`` 16000 Hz; a stereo file (``D(...)`` option, or ``r()``/``t()``
legs mixed by sox) has the caller on channel 0 (left) and the agent on channel 1 (right).
Every rate is read from the header, never assumed.

The functions here do file I/O: call them from a worker process or an executor, never on the
event loop.
"""

from __future__ import annotations

import array
import math
import sys
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hotline.speech.errors import UnreadableRecording

#: Recordings shorter than this are skipped (seconds): nothing useful to transcribe.
MIN_DURATION_S = 1.0

_ARRAY_CODES = {1: "B", 2: "h", 4: "i"}  # WAV 8-bit is unsigned, 16/32-bit signed


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a WAV header says.

    Attributes:
        path: the file.
        rate_hz: samples per second per channel (8000 for ``wav``, 16000 for ``wav16``).
        channels: 1 (mono mix) or 2 (caller left, agent right).
        sample_width_bytes: bytes per sample (2 for 16-bit PCM).
        frames: samples per channel.
    """

    path: str
    rate_hz: int
    channels: int
    sample_width_bytes: int
    frames: int

    @property
    def duration_s(self) -> float:
        """Duration in seconds (``frames / rate_hz``)."""
        return self.frames / self.rate_hz if self.rate_hz else 0.0


@dataclass(frozen=True, slots=True)
class RecordingTooShort:
    """A recording that is marked and skipped, not decoded (an expected outcome, not an error).

    Attributes:
        path: the file.
        reason: ``"empty"`` (smaller than a WAV header), ``"header_only"`` (a header and no
            samples: MixMonitor started and the call ended at once) or ``"sub_second"``.
        duration_s: the duration the header gives (0.0 for empty and header-only files).
        info: the header, None for an empty file.
    """

    path: str
    reason: Literal["empty", "header_only", "sub_second"]
    duration_s: float
    info: AudioInfo | None = None


def read_info(path: str | Path) -> AudioInfo:
    """Read a WAV header.

    Args:
        path: a RIFF/WAVE file with PCM samples.
    Returns:
        The header as :class:`AudioInfo`; ``frames`` is what the header's data chunk says.
    Raises:
        UnreadableRecording: missing file, truncated or non-PCM header.
    """
    try:
        with wave.open(str(path), "rb") as w:
            return AudioInfo(str(path), w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise UnreadableRecording(str(path), str(exc) or type(exc).__name__) from exc


def check_recording(
    path: str | Path, min_duration_s: float = MIN_DURATION_S
) -> AudioInfo | RecordingTooShort:
    """Read the header and tell whether the recording is worth decoding.

    Args:
        path: the WAV file, closed by its writer (MixMonitor updates the header sizes on close).
        min_duration_s: shorter recordings are skipped, in seconds.
    Returns:
        The :class:`AudioInfo`, or a :class:`RecordingTooShort` for empty, header-only and
        too-short files.
    Raises:
        UnreadableRecording: the file is missing or is not a PCM WAV (a non-empty file with a
            broken header is a fault to report, not a short call).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise UnreadableRecording(str(p), str(exc)) from exc
    if size < 44:  # the canonical RIFF/WAVE/fmt/data header is 44 bytes
        if size == 0:
            return RecordingTooShort(str(p), "empty", 0.0)
        raise UnreadableRecording(str(p), f"{size} bytes, shorter than a WAV header")
    info = read_info(p)
    if info.frames == 0:
        return RecordingTooShort(str(p), "header_only", 0.0, info)
    if info.duration_s < min_duration_s:
        return RecordingTooShort(str(p), "sub_second", info.duration_s, info)
    return info


def split_channels(pcm: bytes, channels: int, sample_width_bytes: int) -> list[bytes]:
    """De-interleave PCM frames into one mono buffer per channel.

    Args:
        pcm: interleaved frames, ``len(pcm) == frames * channels * sample_width_bytes``
            (a trailing partial frame is dropped).
        channels: number of interleaved channels (1 returns ``[pcm]``).
        sample_width_bytes: 1, 2 or 4.
    Returns:
        ``channels`` buffers of ``frames * sample_width_bytes`` bytes each, channel 0 first.
    Raises:
        ValueError: unsupported sample width.
    """
    if channels == 1:
        return [pcm]
    frame_bytes = channels * sample_width_bytes
    usable = len(pcm) - len(pcm) % frame_bytes
    if sample_width_bytes == 1:
        return [pcm[c:usable:channels] for c in range(channels)]
    samples = _samples(pcm[:usable], sample_width_bytes)
    return [_to_bytes(samples[c::channels]) for c in range(channels)]


def rms_ratio(pcm: bytes, sample_width_bytes: int) -> float:
    """Root mean square of mono PCM, as a ratio of full scale (0.0 silence .. ~0.707 full sine).

    Args:
        pcm: mono samples.
        sample_width_bytes: 1, 2 or 4.
    Returns:
        RMS / full-scale amplitude; 0.0 for an empty buffer.
    """
    if not pcm:
        return 0.0
    samples = _samples(pcm, sample_width_bytes)
    if sample_width_bytes == 1:  # unsigned, centred on 128
        total = math.fsum((s - 128) ** 2 for s in samples)
    else:
        total = math.fsum(s * s for s in samples)
    full_scale = float(1 << (8 * sample_width_bytes - 1))
    return math.sqrt(total / len(samples)) / full_scale


def dbfs(ratio: float) -> float:
    """Convert an RMS ratio of full scale to dBFS (``-inf`` for silence)."""
    return 20.0 * math.log10(ratio) if ratio > 0 else -math.inf


def iter_channel_chunks(path: str | Path, chunk_frames: int = 4000) -> Iterator[list[bytes]]:
    """Stream a WAV file as per-channel mono chunks (bounded memory for hour-long calls).

    Args:
        path: the WAV file.
        chunk_frames: frames per chunk (4000 frames = 0.25 s at 16000 Hz, 0.5 s at 8000 Hz).
    Yields:
        Lists of ``channels`` mono buffers, each up to ``chunk_frames * sample_width_bytes`` bytes.
    Raises:
        UnreadableRecording: the file cannot be read as a WAV.
    """
    try:
        with wave.open(str(path), "rb") as w:
            channels, width = w.getnchannels(), w.getsampwidth()
            while True:
                data = w.readframes(chunk_frames)
                if not data:
                    return
                yield split_channels(data, channels, width)
    except (OSError, EOFError, wave.Error) as exc:
        raise UnreadableRecording(str(path), str(exc) or type(exc).__name__) from exc


def channel_rms(path: str | Path, chunk_frames: int = 16000) -> list[float]:
    """RMS of each channel of a WAV file, as ratios of full scale (see :func:`rms_ratio`).

    Used to check that both legs of a stereo recording carry audio (RMS above a floor).

    Args:
        path: the WAV file.
        chunk_frames: frames read at a time.
    Returns:
        One ratio per channel, channel 0 (caller) first; zeros for a header-only file.
    Raises:
        UnreadableRecording: the file cannot be read as a WAV.
    """
    info = read_info(path)
    sums = [0.0] * info.channels
    count = 0
    for chunk in iter_channel_chunks(path, chunk_frames):
        for c, mono in enumerate(chunk):
            r = rms_ratio(mono, info.sample_width_bytes)
            n = len(mono) // info.sample_width_bytes
            sums[c] += r * r * n
        count += len(chunk[0]) // info.sample_width_bytes
    return [math.sqrt(s / count) if count else 0.0 for s in sums]


def _samples(pcm: bytes, sample_width_bytes: int) -> array.array[int]:
    code = _ARRAY_CODES.get(sample_width_bytes)
    if code is None:
        raise ValueError(f"unsupported sample width: {sample_width_bytes} bytes (use 1, 2 or 4)")
    a = array.array(code)
    a.frombytes(pcm[: len(pcm) - len(pcm) % sample_width_bytes])
    if sys.byteorder == "big" and sample_width_bytes > 1:  # WAV is little-endian
        a.byteswap()
    return a


def _to_bytes(samples: array.array[int]) -> bytes:
    if sys.byteorder == "big" and samples.itemsize > 1:
        samples = array.array(samples.typecode, samples)
        samples.byteswap()
    return samples.tobytes()
