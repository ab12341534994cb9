"""Vosk adapter: decode recordings in a process pool, one ``Model`` per process.

Each pool process loads the ``Model`` once, in the pool initializer (:func:`init_process`), and
keeps it for every recording it decodes; each recording gets one ``KaldiRecognizer`` per
channel, created at the rate the WAV header gives (8000 Hz for MixMonitor ``wav``, 16000 Hz
for ``wav16``), with ``SetWords(True)`` for word timestamps. Audio is fed in chunks; every
``Result()`` at an endpoint and the ``FinalResult()`` are kept and handed, as JSON text, to the
pure :mod:`hotline.speech.transcript` module.

:class:`Transcriber` is the asyncio face: ``await transcriber.transcribe(path)`` runs the decode
in the pool and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from hotline.speech.audio import MIN_DURATION_S, RecordingTooShort, check_recording, iter_channel_chunks
from hotline.speech.errors import DecoderCrashed, SpeechError, UnsupportedAudio
from hotline.speech.models import check_model_dir
from hotline.speech.transcript import (
    DEFAULT_KEYWORDS,
    DEFAULT_SPEAKERS,
    Transcript,
    build_transcript,
    skipped_transcript,
)

#: Frames fed to the recogniser per call (0.25 s at 16000 Hz, 0.5 s at 8000 Hz).
CHUNK_FRAMES = 4000

_model: Any = None  # the process's vosk.Model, set once by init_process
_model_path: str = ""


@dataclass(frozen=True, slots=True)
class RawDecode:
    """What a decoder process returns (small and picklable: JSON strings, no Vosk objects).

    Attributes:
        path: the recording.
        rate_hz: the rate it was decoded at (the header's), Hz.
        channels: channels in the file.
        duration_s: audio duration, seconds.
        channel_results: per channel, each ``Result()`` JSON then the ``FinalResult()`` JSON.
        skipped: ``RecordingTooShort.reason`` when the file was not decoded, else None.
        decode_s: wall seconds spent decoding in the process.
        pid: the decoder process, for logs.
        channel_rates_hz: per channel, its rate, when the channels came from mono legs at
            different rates (:func:`decode_legs`); empty otherwise.
    """

    path: str
    rate_hz: int
    channels: int
    duration_s: float
    channel_results: list[list[str]] = field(default_factory=list)
    skipped: str | None = None
    decode_s: float = 0.0
    pid: int = 0
    channel_rates_hz: tuple[int, ...] = ()


def init_process(model_path: str, log_level: int = -1) -> None:
    """Pool initializer: load the Vosk model once for this process.

    Args:
        model_path: a checked Vosk model folder.
        log_level: Kaldi log level (-1: warnings off, 0: info).
    Raises:
        Exception: Vosk's own error when the model cannot be loaded (the pool then breaks and
            :class:`Transcriber` reports :class:`DecoderCrashed`).
    """
    global _model, _model_path
    if _model is not None and _model_path == model_path:
        return
    import vosk  # imported here: only decoder processes need the native library

    vosk.SetLogLevel(log_level)
    _model = vosk.Model(model_path)
    _model_path = model_path


def decode_file(
    path: str, chunk_frames: int = CHUNK_FRAMES, min_duration_s: float = MIN_DURATION_S
) -> RawDecode:
    """Decode one WAV file with the process's model, each channel separately.

    Runs in a pool process (after :func:`init_process`), or in-process for benches and tests.

    Args:
        path: a closed WAV file, 16-bit PCM, any rate, mono or stereo.
        chunk_frames: frames fed per ``AcceptWaveform`` call.
        min_duration_s: shorter recordings are skipped, seconds.
    Returns:
        The raw results per channel, or a :class:`RawDecode` with ``skipped`` set for an empty,
        header-only or too-short file.
    Raises:
        UnreadableRecording: not a PCM WAV.
        UnsupportedAudio: not 16-bit samples.
        SpeechError: :func:`init_process` was not called in this process.
    """
    if _model is None:
        raise SpeechError("decoder process has no model: call init_process(model_path) first")
    from vosk import KaldiRecognizer

    started = time.perf_counter()
    checked = check_recording(path, min_duration_s)
    if isinstance(checked, RecordingTooShort):
        info = checked.info
        return RawDecode(
            path, info.rate_hz if info else 0, info.channels if info else 0, checked.duration_s,
            skipped=checked.reason, pid=os.getpid(),
        )
    info = checked
    if info.sample_width_bytes != 2:
        raise UnsupportedAudio(path, f"{8 * info.sample_width_bytes}-bit samples; Vosk needs 16-bit PCM")
    recognizers = []
    for _ in range(info.channels):
        rec = KaldiRecognizer(_model, float(info.rate_hz))  # the file's own rate, never assumed
        rec.SetWords(True)
        recognizers.append(rec)
    results: list[list[str]] = [[] for _ in range(info.channels)]
    for chunk in iter_channel_chunks(path, chunk_frames):
        for c, mono in enumerate(chunk):
            if recognizers[c].AcceptWaveform(mono):
                results[c].append(recognizers[c].Result())
    for c, rec in enumerate(recognizers):
        results[c].append(rec.FinalResult())
    return RawDecode(
        path, info.rate_hz, info.channels, info.duration_s, results,
        decode_s=time.perf_counter() - started, pid=os.getpid(),
    )


def decode_legs(
    path: str, legs: Sequence[str], chunk_frames: int = CHUNK_FRAMES, min_duration_s: float = MIN_DURATION_S
) -> RawDecode:
    """Decode mono leg files, one speaker each, every leg at the rate of its own header.

    For calls whose legs were recorded at different rates (a G.711 citizen in ``wav`` at
    8000 Hz, a G.722 agent in ``wav16`` at 16000 Hz): each leg gets a ``KaldiRecognizer`` at its
    own rate, never resampled (8 kHz fed directly was never worse than upsampled, and 16 kHz
    audio keeps its accuracy). Channel ``i`` of the result is ``legs[i]``.

    Args:
        path: the recording the legs belong to (the stereo file for listening), for the record.
        legs: mono 16-bit WAV files in speaker order (caller, agent).
        chunk_frames: frames fed per ``AcceptWaveform`` call.
        min_duration_s: the call is skipped when its longest leg is shorter, seconds.
    Returns:
        The raw results, ``rate_hz`` the highest leg rate, ``channel_rates_hz`` each leg's; or
        ``skipped`` set when no leg is long enough.
    Raises:
        UnreadableRecording: a leg is not a PCM WAV.
        UnsupportedAudio: a leg is not 16-bit mono.
        SpeechError: :func:`init_process` was not called in this process.
    """
    if _model is None:
        raise SpeechError("decoder process has no model: call init_process(model_path) first")
    from vosk import KaldiRecognizer

    started = time.perf_counter()
    checked = [check_recording(leg, min_duration_s) for leg in legs]
    infos = [c.info if isinstance(c, RecordingTooShort) else c for c in checked]
    rates = tuple(i.rate_hz if i else 0 for i in infos)
    if all(isinstance(c, RecordingTooShort) for c in checked):
        reason = next((c.reason for c in checked if isinstance(c, RecordingTooShort)), "empty")
        return RawDecode(path, max(rates, default=0), len(legs), max((c.duration_s for c in checked), default=0.0),
                         skipped=reason, pid=os.getpid(), channel_rates_hz=rates)
    results: list[list[str]] = []
    for leg, c, info in zip(legs, checked, infos, strict=True):
        if isinstance(c, RecordingTooShort) or info is None:
            results.append([])  # a silent or missing leg: no words from this speaker
            continue
        if info.sample_width_bytes != 2 or info.channels != 1:
            raise UnsupportedAudio(leg, f"{info.channels} ch x {8 * info.sample_width_bytes} bit; a leg is 16-bit mono")
        rec = KaldiRecognizer(_model, float(info.rate_hz))  # the leg's own rate
        rec.SetWords(True)
        out: list[str] = []
        for chunk in iter_channel_chunks(leg, chunk_frames):
            if rec.AcceptWaveform(chunk[0]):
                out.append(rec.Result())
        out.append(rec.FinalResult())
        results.append(out)
    duration = max(i.duration_s for i in infos if i is not None)
    return RawDecode(path, max(rates), len(legs), duration, results, decode_s=time.perf_counter() - started,
                     pid=os.getpid(), channel_rates_hz=rates)


def to_transcript(
    raw: RawDecode,
    *,
    labels: Sequence[str] = DEFAULT_SPEAKERS,
    keywords: Mapping[str, Sequence[str]] = DEFAULT_KEYWORDS,
    model: str = "",
) -> Transcript:
    """Turn a :class:`RawDecode` into a :class:`Transcript` (pure)."""
    if raw.skipped:
        return skipped_transcript(
            raw.path, raw.skipped, duration_s=raw.duration_s, rate_hz=raw.rate_hz,
            channels=raw.channels, model=model,
        )
    return build_transcript(
        raw.path, duration_s=raw.duration_s, rate_hz=raw.rate_hz, channel_results=raw.channel_results,
        labels=labels, keywords=keywords, model=model, channel_rates_hz=raw.channel_rates_hz,
    )


def model_label(model_path: str | Path) -> str:
    """A readable model name: the folder name (its parent's for a generic ``model`` folder)."""
    p = Path(model_path).resolve()
    return f"{p.parent.name}/{p.name}" if p.name == "model" else p.name


class Transcriber:
    """Decode recordings in a pool of processes that each hold the model, from asyncio.

    Use as ``async with Transcriber(path, processes=2) as t: transcript = await t.transcribe(f)``.
    The pool starts on entry (or :meth:`start`) and stops on exit (or :meth:`close`).

    Args:
        model_path: a Vosk model folder (checked at construction: :class:`ModelNotFound`).
        processes: decoder processes; each holds one model in memory (about 100 MB for a small
            model, several GB for a big one) and decodes one recording at a time.
        labels: speaker label per channel for stereo files.
        keywords: flag -> keyword list for QA flags.
        chunk_frames: frames fed per ``AcceptWaveform`` call.
        min_duration_s: shorter recordings are skipped, seconds.
        mp_start: multiprocessing start method; ``spawn`` by default because forking a process
            that runs an event loop and Redis connections is not safe.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        processes: int = 1,
        labels: Sequence[str] = DEFAULT_SPEAKERS,
        keywords: Mapping[str, Sequence[str]] = DEFAULT_KEYWORDS,
        chunk_frames: int = CHUNK_FRAMES,
        min_duration_s: float = MIN_DURATION_S,
        mp_start: str = "spawn",
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be >= 1")
        self.model_path = check_model_dir(model_path)
        self.model_name = model_label(self.model_path)
        self.processes = processes
        self._labels = tuple(labels)
        self._keywords = {k: tuple(v) for k, v in keywords.items()}
        self._chunk_frames = chunk_frames
        self._min_duration_s = min_duration_s
        self._mp_start = mp_start
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Create the process pool (processes load the model on their first task)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context(self._mp_start),
                initializer=init_process,
                initargs=(str(self.model_path),),
            )

    async def warm_up(self) -> None:
        """Start the pool and wait until its processes have loaded the model.

        Raises:
            DecoderCrashed: the model could not be loaded.
        """
        self.start()
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, _loaded_pid) for _ in range(self.processes))
            )
        except BrokenProcessPool as exc:
            self._restart_pool()
            raise DecoderCrashed(str(self.model_path), f"model failed to load: {exc}") from exc

    async def transcribe(self, path: str | Path, legs: Sequence[str] = ()) -> Transcript:
        """Transcribe one recording in the pool.

        Args:
            path: a closed WAV file (16-bit PCM, any rate, mono or caller/agent stereo).
            legs: mono leg files (caller, agent) to decode instead, each at its own rate
                (:func:`decode_legs`); empty: decode ``path``'s channels.
        Returns:
            The transcript; ``no_speech=True`` for silence, ``skipped`` set for an empty,
            header-only or sub-second file.
        Raises:
            UnreadableRecording: not a PCM WAV.
            UnsupportedAudio: not 16-bit.
            DecoderCrashed: the decoder process died; the pool is rebuilt for the next call.
        """
        raw = await self.decode(path, legs)
        return to_transcript(raw, labels=self._labels, keywords=self._keywords, model=self.model_name)

    async def transcribe_many(
        self, paths: Iterable[str | Path]
    ) -> AsyncIterator[tuple[str, Transcript | SpeechError]]:
        """Transcribe many recordings, ``processes`` at a time, yielding each as it finishes.

        For the batch command (``hotline speech transcribe PATH...``): one yield per path, in
        completion order, so a progress bar can advance on each. A file that fails yields its
        :class:`SpeechError` (unreadable, unsupported, decoder died) instead of stopping the batch.

        Yields:
            ``(path, transcript or error)``.
        """
        pending: set[asyncio.Task[tuple[str, Transcript | SpeechError]]] = set()
        it = iter(paths)

        async def one(p: str | Path) -> tuple[str, Transcript | SpeechError]:
            try:
                return str(p), await self.transcribe(p)
            except SpeechError as exc:
                return str(p), exc

        for p in it:
            pending.add(asyncio.create_task(one(p)))
            if len(pending) >= self.processes:
                break
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    nxt = next(it, None)
                    if nxt is not None:
                        pending.add(asyncio.create_task(one(nxt)))
                    yield t.result()
        finally:
            for t in pending:
                t.cancel()

    async def decode(self, path: str | Path, legs: Sequence[str] = ()) -> RawDecode:
        """Run :func:`decode_file` (or :func:`decode_legs`) in the pool; the raw result (see :meth:`transcribe`)."""
        self.start()
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        if legs:
            call = functools.partial(decode_legs, str(path), [str(p) for p in legs], self._chunk_frames,
                                     self._min_duration_s)
        else:
            call = functools.partial(decode_file, str(path), self._chunk_frames, self._min_duration_s)
        try:
            return await loop.run_in_executor(self._pool, call)
        except BrokenProcessPool as exc:
            self._restart_pool()
            raise DecoderCrashed(str(path), str(exc) or "process pool broken") from exc

    def close(self) -> None:
        """Stop the pool: running decodes finish, queued ones are cancelled."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _restart_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self.start()

    async def __aenter__(self) -> Transcriber:
        self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)


def _loaded_pid() -> int:
    if _model is None:
        raise SpeechError("model not loaded")
    return os.getpid()
