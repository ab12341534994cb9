"""Recording files on disk: header probe, merging the two legs into one stereo WAV, folder walk.

Blocking file I/O: call these from a thread (``asyncio.to_thread``), never on the event loop.
Stdlib only (``wave``, ``array``). MixMonitor's ``wav`` writes 16-bit little-endian PCM at
8000 Hz, ``wav16`` at 16000 Hz; the rate is always read from the header.
"""

from __future__ import annotations

import array
import itertools
import os
import struct
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

from hotline.recording.policy import StoredFile

CHUNK_FRAMES = 16000


@dataclass(frozen=True, slots=True)
class FileProbe:
    """One look at a file being written.

    Attributes:
        size_bytes: file size; -1 when the file does not exist (yet).
        data_bytes: the WAV header's data chunk size, None when unreadable (too short, not RIFF).
    """

    size_bytes: int
    data_bytes: int | None


def probe(path: str | Path) -> FileProbe:
    """Size and header data size of a WAV file (see :func:`hotline.recording.policy.wav_closed`)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(4096)
    except FileNotFoundError:
        return FileProbe(-1, None)
    return FileProbe(size, _data_size(head))


def _data_size(head: bytes) -> int | None:
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if cid == b"data":
            return int(size)
        pos += 8 + size + (size & 1)
    return None


@dataclass(frozen=True, slots=True)
class Merged:
    """What :func:`merge_legs` wrote.

    Attributes:
        path: the stereo WAV (caller left, agent right).
        rate_hz: its sample rate (the legs', the higher one when they differ).
        frames: samples per channel (the longer leg; the shorter is padded with silence).
        size_bytes: file size.
        missing: legs that did not exist (written as silence), e.g. ``("agent",)``.
    """

    path: str
    rate_hz: int
    frames: int
    size_bytes: int
    missing: tuple[str, ...] = ()


def merge_legs(caller: str | Path, agent: str | Path, out: str | Path, default_rate_hz: int = 8000) -> Merged:
    """Interleave two mono 16-bit WAV legs into one stereo WAV, caller on channel 0 (left).

    Streams ``CHUNK_FRAMES`` at a time (bounded memory for long calls) into ``out + ".part"``,
    then renames it to ``out`` (a reader never sees half a file). A missing leg is silence; a leg
    that is shorter than the other is padded with silence (MixMonitor keeps ``r()``/``t()`` in
    step by inserting silence, so they differ by a frame or two at most).

    Legs at different rates (a G.711 citizen in ``wav`` and a G.722 agent in ``wav16``): the
    stereo file, which is for listening, takes the higher rate and the lower-rate leg is
    upsampled by linear interpolation. Transcription does not use it then: it decodes each
    mono leg at its own rate (``TranscriptionJob.legs``), so the caller's are kept.

    Args:
        caller: the ``r()`` file (what the caller said).
        agent: the ``t()`` file (what the caller heard: the agent).
        out: the stereo file to write.
        default_rate_hz: the rate when both legs are missing.
    Returns:
        What was written.
    Raises:
        ValueError: a leg is not 16-bit mono PCM, or the higher rate is not a whole multiple of
            the lower (8000 and 16000 are).
        OSError / wave.Error: unreadable files, disk full.
    """
    readers: list[wave.Wave_read | None] = []
    missing: list[str] = []
    try:
        for name, path in (("caller", caller), ("agent", agent)):
            if Path(path).exists() and Path(path).stat().st_size > 0:
                reader = wave.open(str(path), "rb")
                readers.append(reader)
                if reader.getsampwidth() != 2 or reader.getnchannels() != 1:
                    raise ValueError(f"{path}: expected 16-bit mono PCM, got {reader.getnchannels()} ch x "
                                     f"{8 * reader.getsampwidth()} bit")
            else:
                readers.append(None)
                missing.append(name)
        rates = {r.getframerate() for r in readers if r is not None}
        rate = max(rates) if rates else default_rate_hz
        if any(rate % r for r in rates):
            raise ValueError(f"legs have rates {sorted(rates)}: not whole multiples, cannot merge")
        factors = [rate // r.getframerate() if r is not None else 1 for r in readers]
        held: list[int | None] = [None for _ in readers]  # each upsampled leg's last sample so far
        part = Path(str(out) + ".part")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        frames = 0
        with wave.open(str(part), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(rate)
            while True:
                monos = []
                for c, r in enumerate(readers):
                    mono = array.array("h")
                    if r is not None:
                        buf = r.readframes(CHUNK_FRAMES // factors[c])
                        mono.frombytes(buf[: len(buf) - len(buf) % 2])
                        if sys.byteorder == "big":
                            mono.byteswap()
                        if factors[c] > 1:
                            mono, held[c] = upsample(mono, factors[c], held[c])
                    monos.append(mono)
                n = max(len(m) for m in monos)
                if n == 0:
                    break
                stereo = array.array("h", bytes(4 * n))
                for c, mono in enumerate(monos):
                    mono.extend([0] * (n - len(mono)))
                    stereo[c::2] = mono
                if sys.byteorder == "big":
                    stereo.byteswap()
                w.writeframes(stereo.tobytes())
                frames += n
        os.replace(part, out)
    finally:
        for r in readers:
            if r is not None:
                r.close()
    return Merged(str(out), rate, frames, Path(out).stat().st_size, tuple(missing))


def read_rate(path: str | Path) -> int | None:
    """The sample rate in a WAV file's header, Hz; None when the file is missing, empty or not a WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getframerate()
    except (OSError, EOFError, wave.Error):
        return None


def upsample(samples: array.array, factor: int, previous: int | None = None) -> tuple[array.array, int | None]:
    """Raise a chunk of 16-bit samples' rate ``factor`` times by linear interpolation (for listening).

    Streaming: sample ``i`` of the input lands at output ``factor * i``; the samples between it
    and the next input sample are interpolated. The chunk's last sample is held back and returned,
    to be passed as ``previous`` with the next chunk, so chunk boundaries are seamless; with no
    next chunk the held sample is dropped (``factor`` output samples short of the exact length).

    Args:
        samples: ``array('h')`` at the lower rate.
        factor: whole rate ratio (2 for 8000 -> 16000 Hz).
        previous: the sample held back from the previous chunk, None at the start.
    Returns:
        ``(output samples at the higher rate, the sample now held back)``.
    """
    src = ([previous] if previous is not None else []) + samples.tolist()
    if len(src) < 2:
        return array.array("h"), (src[-1] if src else previous)
    out = array.array("h", bytes(2 * factor * (len(src) - 1)))
    for k in range(factor):
        out[k::factor] = array.array("h", [a + (b - a) * k // factor for a, b in itertools.pairwise(src)])
    return out, src[-1]


def walk(root: str | Path) -> list[StoredFile]:
    """Every file under ``root`` as :class:`StoredFile` (relative ``/`` paths); [] if it is missing."""
    base = Path(root)
    out: list[StoredFile] = []
    if not base.is_dir():
        return out
    for dirpath, _dirs, names in os.walk(base):
        for name in names:
            p = Path(dirpath) / name
            try:
                st = p.stat()
            except FileNotFoundError:  # deleted meanwhile
                continue
            out.append(StoredFile(p.relative_to(base).as_posix(), st.st_size, st.st_mtime))
    return out


def delete(root: str | Path, rel_paths: list[str]) -> int:
    """Delete files under ``root``; then remove day folders left empty. Returns files deleted."""
    base = Path(root)
    n = 0
    parents = set()
    for rel in rel_paths:
        p = base / rel
        try:
            p.unlink()
            n += 1
        except FileNotFoundError:
            continue
        parents.add(p.parent)
    for d in sorted(parents, key=lambda x: len(x.parts), reverse=True):
        while d != base and base in d.parents:
            try:
                d.rmdir()
            except OSError:
                break
            d = d.parent
    return n
