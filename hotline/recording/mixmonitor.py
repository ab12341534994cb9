"""The recorder component: MixMonitor on every answered call, started by hotline over AMI.

Choice (verified on the lab's Asterisk 22.10): hotline starts the recording over AMI rather than
in the dialplan, because hotline bridges callers and agents itself (IVR -> routing -> Originate
+ Bridge), so the dialplan never sees the moment a call is answered by an agent. The trigger is
AMI ``BridgeEnter`` with ``BridgeNumChannels: 2``; the recorded leg is the caller's (see
:mod:`hotline.recording.policy`). The same trigger covers app_queue and ``Dial()`` bridges.

Why ``r()``/``t()`` and not ``D``: Asterisk 22's ``D`` option (interleaved stereo) must write a
headerless ``.raw`` file (its own help says any other extension corrupts the file), and on the
lab ``D`` with ``.sln16`` wrote twice the expected bytes. ``r(file)t(file)`` with an empty main
file writes two mono WAV files, kept in step by MixMonitor's silence insertion, each with a
real header at the format's rate (``wav`` 8 kHz, ``wav16`` 16 kHz), chosen per leg from each
channel's ``CHANNEL(audionativeformat)``: the caller's file from the caller's channel, the agent's
from the agent's (:func:`hotline.recording.policy.leg_formats`). hotline merges them into one stereo WAV
(caller left, agent right) once both are closed, which is what :mod:`hotline.speech` decodes per channel.
When the legs' rates differ (G.711 citizen, G.722 agent phone), the stereo file is made at the
higher rate for listening, the mono legs are kept (``<stem>.caller.wav``, ``<stem>.agent.wav16``)
and the transcription job decodes each leg at its own rate (``TranscriptionJob.legs``).

Closing: Asterisk sends ``MixMonitorStop`` only for an explicit stop; after a hangup it closes the
files shortly after the ``Hangup`` event with no event at all. So after the recorded leg's
``Hangup`` (or ``MixMonitorStop``) the collector looks at each file every ``close_poll_s`` until
its size is stable and the WAV header accounts for every byte (:func:`hotline.recording.policy.wav_closed`),
at most ``close_timeout_s``. Header-only and sub-second recordings, and calls whose caller hung
up before MixMonitor could start (AMI ``No such channel``: reason ``empty``), are marked
``skipped`` in the catalog and not transcribed; a file that never closes is marked ``failed``; nothing raises out of
the component.

The AMI handler only runs the pure policy and queues commands; one runner task executes them in
order (each AMI action with a timeout), and each pickup runs in its own task with its file I/O in
threads, so the AMI pump is never held up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.kernel.background import BackgroundTask
from hotline.recording import files
from hotline.recording.errors import CatalogError, RecordingNotClosed, RecordingStartFailed
from hotline.recording.policy import (
    CollectRecording,
    Command,
    RecorderState,
    Rules,
    StartRecording,
    forget_call,
    handle,
    leg_formats,
    wav_closed,
)
from hotline.recording.settings import RecordingSettings
from hotline.speech.audio import RecordingTooShort, check_recording
from hotline.speech.errors import SpeechError
from hotline.speech.store import RedisJobQueue, enqueue_recording
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiClient, AmiError
from hotline.telephony.calls import CallEnded, CallEvent
from hotline.telephony.frames import AmiMessage

log = logging.getLogger("hotline.recording")


@dataclass(frozen=True, slots=True)
class ClosedRecording:
    """What became of one recording once its leg ended.

    Attributes:
        linkedid: the call.
        seq: its place in the call's linked set.
        rel_path: ``YYYY/MM/DD/<linkedid>[-n].wav`` under ``host_dir``.
        path: the stereo WAV on this host.
        status: ``queued`` (sent to transcription), ``closed`` (kept, not transcribed),
            ``skipped`` (header-only or too short) or ``failed`` (not recorded, never closed).
        reason: why skipped or failed.
        rate_hz / channels / duration_s / size_bytes: from the merged file's header.
        job_id: the transcription job, when queued.
        leg_paths: the mono leg files kept beside the stereo file (caller, agent), each at its
            own rate; empty when they were merged and deleted.
        leg_rates_hz: the legs' rates from their headers (caller, agent), e.g. ``(8000, 16000)``.
    """

    linkedid: str
    seq: int
    rel_path: str
    path: str
    status: str
    reason: str | None = None
    rate_hz: int | None = None
    channels: int | None = None
    duration_s: float | None = None
    size_bytes: int | None = None
    job_id: str | None = None
    leg_paths: tuple[str, ...] = ()
    leg_rates_hz: tuple[int, ...] = ()


class Recorder:
    """Records every two-party bridge of a call; hands closed recordings to the catalog and ASR.

    Args:
        ami: the AMI client (subscribed here; actions need ``call``/``system`` write access).
        settings: the ``recording:`` section.
        catalog: where calls and recordings are recorded (``recording.catalog.Catalog``), or None.
        jobs: the transcription job stream, or None to not transcribe.
        clock: epoch seconds.
    """

    def __init__(
        self,
        ami: AmiClient,
        settings: RecordingSettings,
        *,
        catalog: Any | None = None,
        jobs: RedisJobQueue | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ami = ami
        self.settings = settings
        self.catalog = catalog
        self.jobs = jobs
        self.clock = clock
        self.rules = Rules(settings.enabled, settings.exclude_caller_prefixes, settings.tz,
                           settings.only_caller_prefixes)
        self.state = RecorderState()
        self.closed: list[ClosedRecording] = []
        self._listeners: list[Callable[[ClosedRecording], None]] = []
        self._commands: asyncio.Queue[Command] = asyncio.Queue()
        self._bg = BackgroundTask("recorder")
        self._collectors: set[asyncio.Task[None]] = set()
        self._not_started: dict[str, str] = {}  # uniqueid -> "gone" (hung up first) | "failed"
        self._formats: dict[str, tuple[str, str]] = {}  # stem -> (caller's, agent's): "wav" | "wav16"
        self.owned: list[Callable[[], Awaitable[None]]] = []  # closed on stop (see plugin.build_recorder)
        ami.subscribe(self.on_ami)

    # -------------------------------------------------------------- wiring
    def on_closed(self, listener: Callable[[ClosedRecording], None]) -> None:
        """Call ``listener`` with each :class:`ClosedRecording` (tests, metrics, the outbox)."""
        self._listeners.append(listener)

    def on_ami(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        """AMI subscriber: run the pure policy, queue its commands (never blocks the pump)."""
        if event is None:
            return
        self.state, commands = handle(self.state, event, self.rules)
        for c in commands:
            self._commands.put_nowait(c)

    def on_call(self, event: CallEvent) -> None:
        """Call tracker subscriber: forget a finished call's linked-set counter."""
        if isinstance(event, CallEnded):
            self.state = forget_call(self.state, event.linkedid)

    async def start(self) -> None:
        """Upgrade the catalog schema if configured (a failure is logged), then start executing commands."""
        if self.catalog is not None and self.settings.catalog.upgrade_on_start:
            try:
                await self.catalog.upgrade()
            except CatalogError as exc:  # record anyway; catalog writes are logged as they fail
                log.error("catalog not upgraded, recordings are still made: %s", exc)
        self._bg.start(self._run)

    async def stop(self) -> None:
        """Stop taking commands; let running pickups finish (bounded by ``close_timeout_s``)."""
        await self._bg.stop()
        if self._collectors:
            _done, pending = await asyncio.wait(self._collectors, timeout=self.settings.close_timeout_s + 5)
            for t in pending:
                t.cancel()
        for close in self.owned:
            with contextlib.suppress(Exception):
                await close()

    # -------------------------------------------------------------- commands
    async def _run(self) -> None:
        while True:
            cmd = await self._commands.get()
            try:
                if isinstance(cmd, StartRecording):
                    await self._start_recording(cmd)
                else:
                    task = asyncio.create_task(self._collect(cmd), name=f"collect {cmd.stem}")
                    self._collectors.add(task)
                    task.add_done_callback(self._collectors.discard)
            except Exception:  # the component's one broad except: log with the linkedid, carry on
                log.exception("recording command %r failed (linkedid=%s)", cmd, cmd.linkedid)

    def _leg_paths(self, stem: str, fmts: tuple[str, str]) -> tuple[Path, Path]:
        base = self.settings.host_dir
        return base / f"{stem}.caller.{fmts[0]}", base / f"{stem}.agent.{fmts[1]}"

    async def _native_format(self, channel: str) -> str:
        """``CHANNEL(audionativeformat)`` of ``channel`` (AMI ``Getvar``), "" when unknown.

        Raises:
            AmiError: the action failed or timed out (the caller's channel must answer).
        """
        resp = await self.ami.action("Getvar", {"Channel": channel, "Variable": "CHANNEL(audionativeformat)"},
                                     timeout=self.settings.action_timeout_s)
        return resp.response.text("Value") if resp.ok else ""

    async def _start_recording(self, cmd: StartRecording) -> None:
        """Getvar each leg's native format, then MixMonitor ``r(<stem>.caller.fmt)t(<stem>.agent.fmt)``.

        Raises:
            nothing: a failure is logged as :class:`RecordingStartFailed` and the pickup marks
            the recording ``failed``. An agent channel whose format cannot be read (gone
            already) is recorded at the caller's format.
        """
        timeout = self.settings.action_timeout_s
        try:
            # both Getvars at once: a caller who hangs up at once must still find MixMonitor as fast as before
            caller_got, agent_got = await asyncio.gather(
                self._native_format(cmd.channel),
                self._native_format(cmd.peer_channel) if cmd.peer_channel else asyncio.sleep(0, ""),
                return_exceptions=True)
            if isinstance(caller_got, BaseException):
                raise caller_got
            if isinstance(agent_got, AmiError):
                log.warning("agent leg format unknown, recorded as the caller's (linkedid=%s): %s",
                            cmd.linkedid, agent_got)
            elif isinstance(agent_got, BaseException):
                raise agent_got
            caller_native, agent_native = caller_got, agent_got if isinstance(agent_got, str) else ""
            fmts = leg_formats(caller_native, agent_native)
            opts = f"r({cmd.stem}.caller.{fmts[0]})t({cmd.stem}.agent.{fmts[1]})"
            await self.ami.action("MixMonitor", {"Channel": cmd.channel, "File": "", "Options": opts},
                                  timeout=timeout, check=True)
        except AmiError as exc:
            gone = "no such channel" in str(exc).lower()  # the caller hung up before MixMonitor could start
            self._not_started[cmd.uniqueid] = "gone" if gone else "failed"
            if gone:
                log.info("call %s: leg %s hung up before the recording started", cmd.linkedid, cmd.uniqueid)
            else:
                log.error("%s", RecordingStartFailed(cmd.linkedid, cmd.uniqueid, str(exc)))
            await self._catalog_started(cmd)  # so that the skip or failure lands in the catalog
            return
        self._formats[cmd.stem] = fmts
        log.info("recording call %s leg %s -> %s.wav (caller %s %s, agent %s %s)", cmd.linkedid, cmd.uniqueid,
                 cmd.stem, caller_native, fmts[0], agent_native, fmts[1])
        await self._catalog_started(cmd)

    async def _catalog_started(self, cmd: StartRecording) -> None:
        """The call and its recording in the catalog (a catalog failure is logged, never raised)."""
        if self.catalog is not None:
            try:
                await self.catalog.call_started(cmd.linkedid, cmd.started_at,
                                                self.state.caller_num.get(cmd.uniqueid))
                await self.catalog.recording_started(cmd.linkedid, cmd.seq, f"{cmd.stem}.wav",
                                                     str(self.settings.host_dir / f"{cmd.stem}.wav"),
                                                     cmd.uniqueid, cmd.started_at)
            except CatalogError as exc:
                log.error("catalog: %s (linkedid=%s)", exc, cmd.linkedid)

    async def _wait_closed(self, path: Path) -> bool:
        """Poll until MixMonitor closed ``path`` (True) or it is missing for good (False).

        Raises:
            RecordingNotClosed: still growing after ``close_timeout_s``.
        """
        s = self.settings
        deadline = time.monotonic() + s.close_timeout_s
        missing_since: float | None = None
        prev: int | None = None
        while True:
            p = await asyncio.to_thread(files.probe, path)
            now = time.monotonic()
            if p.size_bytes < 0:
                missing_since = missing_since or now
                if now - missing_since >= min(2.0, s.close_timeout_s):
                    return False
            elif wav_closed(p.size_bytes, prev, p.data_bytes):
                return True
            prev = p.size_bytes if p.size_bytes >= 0 else None
            if now >= deadline:
                raise RecordingNotClosed(str(path), s.close_timeout_s)
            await asyncio.sleep(s.close_poll_s)  # no event exists for "file closed" (see module doc)

    async def _collect(self, cmd: CollectRecording) -> None:
        s = self.settings
        rel = f"{cmd.stem}.wav"
        out = s.host_dir / rel
        fmts = self._formats.pop(cmd.stem, ("wav", "wav"))
        why = self._not_started.pop(cmd.uniqueid, None)
        reason: str | None  # why skipped or failed (None: closed or queued)
        if why is not None:  # a leg gone before MixMonitor started has no audio: empty, not a failure
            status, reason = ("skipped", "empty") if why == "gone" else ("failed", "MixMonitor not started")
            await self._finish(cmd, ClosedRecording(cmd.linkedid, cmd.seq, rel, str(out), status, reason))
            return
        caller, agent = self._leg_paths(cmd.stem, fmts)
        try:
            present = [await self._wait_closed(caller), await self._wait_closed(agent)]
        except RecordingNotClosed as exc:
            log.error("%s (linkedid=%s)", exc, cmd.linkedid)
            await self._finish(cmd, ClosedRecording(cmd.linkedid, cmd.seq, rel, str(out), "failed", "not closed"))
            return
        if not any(present):
            await self._finish(cmd, ClosedRecording(cmd.linkedid, cmd.seq, rel, str(out), "skipped", "empty"))
            return
        try:
            merged = await asyncio.to_thread(files.merge_legs, caller, agent, out,
                                             16000 if "wav16" in fmts else 8000)
            rates = [await asyncio.to_thread(files.read_rate, p) for p in (caller, agent)]
            leg_rates = tuple(r for r in rates if r)
            split = len(leg_rates) == 2 and leg_rates[0] != leg_rates[1]  # ASR decodes each leg at its own rate
            if not split and not s.keep_legs:
                await asyncio.to_thread(files.delete, s.host_dir, [
                    p.relative_to(s.host_dir).as_posix() for p in (caller, agent)])
            checked = await asyncio.to_thread(check_recording, out, s.min_duration_s)
        except (OSError, ValueError, SpeechError) as exc:
            log.error("recording %s (linkedid=%s) unusable: %s", rel, cmd.linkedid, exc)
            await self._finish(cmd, ClosedRecording(cmd.linkedid, cmd.seq, rel, str(out), "failed", str(exc)))
            return
        if isinstance(checked, RecordingTooShort):
            await self._finish(cmd, ClosedRecording(
                cmd.linkedid, cmd.seq, rel, str(out), "skipped", checked.reason, merged.rate_hz, 2,
                checked.duration_s, merged.size_bytes))
            return
        legs = (caller, agent) if split or s.keep_legs else ()
        status, job_id, reason = "closed", None, None
        if s.transcribe and self.jobs is not None:
            job_base = s.job_dir or s.host_dir
            job_path = str(job_base / rel)
            job_legs = tuple(str(job_base / p.relative_to(s.host_dir)) for p in (caller, agent)) if split else ()
            try:
                job_id = await self._enqueue(job_path, cmd.linkedid, job_legs, rel)
                status = "queued"
            except SpeechError as exc:
                reason = f"not queued for transcription: {exc}"
                log.error("recording %s (linkedid=%s) %s", rel, cmd.linkedid, reason)
        await self._finish(cmd, ClosedRecording(
            cmd.linkedid, cmd.seq, rel, str(out), status, reason, checked.rate_hz, checked.channels,
            checked.duration_s, merged.size_bytes, job_id, tuple(str(p) for p in legs), leg_rates))

    async def _enqueue(self, path: str, linkedid: str, legs: tuple[str, ...], rel: str) -> str:
        """Queue the transcription job, retrying (0.5 s doubling to 15 s) for ``enqueue_retry_s`` while Redis
        fails or does not answer; each failure is a WARNING. The job id comes from the recording, so a retry
        after a timeout that did reach Redis still gives one transcript.

        Returns:
            The job id.
        Raises:
            SpeechError: still failing after ``enqueue_retry_s`` (the caller logs it as an ERROR).
        """
        assert self.jobs is not None
        deadline = time.monotonic() + self.settings.enqueue_retry_s
        delay = 0.5
        while True:
            try:
                job = await enqueue_recording(self.jobs, path, linkedid, self.clock(), legs=legs)
                return job.job_id
            except SpeechError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("recording %s (linkedid=%s): transcription job not queued yet (%s); retrying in %.1f s",
                            rel, linkedid, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)

    async def _finish(self, cmd: CollectRecording, rec: ClosedRecording) -> None:
        log.info("recording %s (linkedid=%s): %s%s", rec.rel_path, rec.linkedid, rec.status,
                 f" ({rec.reason})" if rec.reason else "")
        if self.catalog is not None:
            try:
                await self.catalog.recording_closed(
                    rec.rel_path, status=rec.status, closed_at=self.clock(), rate_hz=rec.rate_hz,
                    channels=rec.channels, duration_s=rec.duration_s, size_bytes=rec.size_bytes,
                    skip_reason=rec.reason, job_id=rec.job_id)
                await self.catalog.call_ended(rec.linkedid, cmd.ended_at)
            except CatalogError as exc:
                log.error("catalog: %s (linkedid=%s)", exc, rec.linkedid)
        self.closed.append(rec)
        if len(self.closed) > 1000:
            del self.closed[:500]
        for listener in self._listeners:
            try:
                listener(rec)
            except Exception:
                log.exception("recording listener failed (linkedid=%s)", rec.linkedid)
