"""Synthetic WAV files for tests, written with ``wave`` and ``struct`` (no speech data)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path


def tone(freq_hz: float, seconds: float, rate_hz: int, amplitude: float = 0.5) -> list[int]:
    """16-bit samples of a sine tone (``amplitude`` as a ratio of full scale)."""
    n = int(seconds * rate_hz)
    return [int(amplitude * 32767 * math.sin(2 * math.pi * freq_hz * i / rate_hz)) for i in range(n)]


def silence(seconds: float, rate_hz: int) -> list[int]:
    return [0] * int(seconds * rate_hz)


def write_wav(path: Path, channels: list[list[int]], rate_hz: int) -> Path:
    """Write 16-bit PCM; ``channels[c]`` are the samples of channel c (shorter ones padded)."""
    n = max(len(c) for c in channels) if channels else 0
    padded = [c + [0] * (n - len(c)) for c in channels]
    frames = b"".join(
        struct.pack("<" + "h" * len(padded), *(c[i] for c in padded)) for i in range(n)
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(frames)
    return path


def header_only(path: Path, rate_hz: int = 8000, channels: int = 1) -> Path:
    """A 44-byte WAV with a header and no samples (MixMonitor on a call that ended at once)."""
    return write_wav(path, [[] for _ in range(channels)], rate_hz)
