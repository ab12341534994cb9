"""``hotline sim``: play a :mod:`hotline_lab.sim.plan` traffic plan as real SIP calls on the lab Asterisk.

Agents: SIPp UAS phone farms (``lab/sipp/agent_audio.xml``: answer, play a real speech clip,
talk ``-d`` ms, send BYE). Seats are split into talk-time buckets (quantiles of the plan's
log-normal talk time), one farm per bucket; the plan's ``ring_no_answer_ratio`` share of seats
registers to a ``noanswer`` farm that rings and never answers.

Callers: one SIPp UAC per planned call (``lab/sipp/caller_dtmf.xml`` with a per-call RTP pcap
pressing the plan's DTMF keys and then talking: a real speech clip, another than the agents', repeated
for as long as the caller can stay), started at the plan's Poisson arrival times, dialling 12345 on the
``trunk`` endpoint with the plan's citizen number as From user. A caller stays on the line long
enough for the IVR, its patience and its talk time; the agent farm ends answered calls.

Keys: each caller's key times come from the menu and the lab's real prompt durations
(:mod:`hotline_lab.sim.timeline`): some callers type ahead during a barge-in prompt, most press after it,
none during a prompt without barge-in. The same walk gives the caller's IVR time.

Patience: SIPp cannot react to "bridged or not", so **the simulator acts for the caller**: it
watches the call model (the caller's trunk leg, found by caller number; its ``bridge_id`` is set
by AMI ``BridgeEnter``) and, if the leg is not bridged within ``patience_s`` of the caller's
hand-over to the queue (``queued_at``: the IVR's session record; without it, the estimated IVR time
after the call's start), sends AMI ``Hangup`` for that leg (the caller hangs up: an abandon).

Bounded: at most ``plan`` calls, each SIPp with its own ``-timeout``, the whole run within
``max_wall_s``. Loopback only (127.0.0.1:5060).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hotline.ivr.menus import Menu
from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import Leg
from hotline.telephony.tracker import CallTracker
from hotline_lab.rtpcap import Digit
from hotline_lab.sim.plan import PlannedCall, TrafficConfig, silent_seats
from hotline_lab.sim.timeline import DEFAULT_KEY_TIMING, KeyTiming, RouteTiming, ivr_time_s, press_times_ms, walk_route
from hotline_lab.sipp import SippRun, register_seats, start_dtmf_caller, start_sipp

log = logging.getLogger("hotline_lab.sim")

SPEECH_DIRS = (Path(__file__).resolve().parents[3] / "shared" / "speech", Path("/work/shared/speech"))


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How the plan is played.

    Attributes:
        seats: agent seats (PJSIP endpoints) the farms register.
        talk_buckets: farms with different talk times (``-d``); seats are split evenly.
        dial: the number callers dial.
        max_wall_s: hard bound of the whole run (seconds, from the first arrival).
        audio_clip: a speech clip (any format sox reads) the agents play; None: no audio.
        caller_clip: a speech clip the callers say after their keys; None: espeak-ng Mandarin
            when installed, else silence.
        workdir: SIPp logs, pcaps, clips.
        key_timing: how callers time their keys (:class:`hotline_lab.sim.timeline.KeyTiming`).
    """

    seats: tuple[int, ...]
    workdir: Path
    key_timing: KeyTiming = DEFAULT_KEY_TIMING
    talk_buckets: int = 3
    dial: str = "12345"
    max_wall_s: float = 600.0
    audio_clip: Path | None = None
    caller_clip: Path | None = None


#: what a caller says when no real speech is at hand (espeak-ng, Mandarin voice)
CALLER_TTS = ("cmn", "你好，我想咨询一下住房公积金提取的问题，上个月申请了还没有到账。")
#: longest a caller talks after the keys (bounds the per-call pcap: ~11 kB per second)
MAX_CALLER_SPEECH_MS = 240_000


@dataclass(slots=True)
class CallOutcome:
    """What the simulator saw of one planned call (times in epoch seconds).

    ``press_ms``: when the caller pressed each key (ms from the answer); ``ivr_s``: the estimated IVR
    time; ``queued_at``: the IVR's hand-over to the queue (None: not seen); ``exit_code``: SIPp's.
    """

    planned: PlannedCall
    press_ms: tuple[int, ...] = ()
    ivr_s: float = 0.0
    queued_at: float | None = None
    exit_code: int | None = None
    started_at: float = 0.0
    uniqueid: str = ""
    linkedid: str = ""
    bridged_at: float | None = None
    abandoned_by_sim: bool = False
    finished: bool = False


@dataclass(slots=True)
class SimReport:
    """The simulator's own count (the demo compares it with the service's)."""

    placed: int = 0
    bridged: int = 0
    abandoned_by_sim: int = 0
    never_seen: int = 0
    outcomes: list[CallOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"placed": self.placed, "bridged": self.bridged, "abandoned_by_sim": self.abandoned_by_sim,
                "never_seen": self.never_seen}


def talk_buckets_ms(config: TrafficConfig, buckets: int) -> list[int]:
    """Talk time (ms) of each farm: the log-normal's quantile midpoints ``(i + 0.5) / buckets``.

    Pure. Returns ``buckets`` values, ascending, each >= 1000 ms.
    """
    from statistics import NormalDist

    out = []
    for i in range(buckets):
        z = NormalDist().inv_cdf((i + 0.5) / buckets)
        out.append(max(1000, int(config.talk_median_s * math.exp(config.talk_sigma * z) * 1000)))
    return out


def caller_keys(call: PlannedCall, timing: RouteTiming, seed: int, cfg: KeyTiming = DEFAULT_KEY_TIMING
                ) -> tuple[tuple[int, ...], float]:
    """One caller's key times (ms from the answer) and IVR time (s), reproducible per (seed, call index).

    Pure. See :func:`hotline_lab.sim.timeline.press_times_ms`.
    """
    rng = random.Random(seed * 1_000_003 + call.index)
    press = press_times_ms(timing, rng, cfg)
    return tuple(press), ivr_time_s(timing, press, cfg)


def find_speech_clip(nth: int = 0) -> Path | None:
    """A real speech clip: shared/speech (Korean first: the one installable Vosk model), else None.

    Args:
        nth: which sentence of the set (wraps around), so agents and callers say different things.
    """
    for root in SPEECH_DIRS:
        for lang in ("ko", "mixed"):
            manifest = root / lang / "manifest.json"
            if manifest.exists():
                clips = json.loads(manifest.read_text(encoding="utf-8"))
                sentences = [c for c in clips if c.get("kind") == "sentence"] or clips
                if sentences:
                    return root / lang / sentences[nth % len(sentences)]["file16k"]
    return None


def make_ulaw_raw(dest: Path, source: Path | None) -> bytes:
    """Raw 8 kHz mu-law samples (no header) of ``source``, else of espeak-ng Mandarin (:data:`CALLER_TTS`).

    Returns b"" when sox (or, without a source, espeak-ng) is not installed. Blocking (run in a thread).
    """
    if shutil.which("sox") is None:
        return b""
    if source is None:
        if shutil.which("espeak-ng") is None:
            return b""
        source = dest.with_suffix(".tts.wav")
        voice, text = CALLER_TTS
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(source), text], check=True, timeout=30)
    subprocess.run(["sox", str(source), "-r", "8000", "-c", "1", "-e", "u-law", "-t", "ul", str(dest)],
                   check=True, timeout=30)
    return dest.read_bytes()


def make_ulaw_clip(dest: Path, source: Path | None) -> Path | None:
    """An 8 kHz mu-law WAV for SIPp ``rtp_stream``: from ``source`` (sox), else espeak-ng speech.

    Returns None when neither sox nor espeak-ng is installed. Blocking (run in a thread).
    """
    if shutil.which("sox") is None:
        return None
    if source is None:
        if shutil.which("espeak-ng") is None:
            return None
        raw = dest.with_suffix(".tts.wav")
        subprocess.run(["espeak-ng", "-w", str(raw), "Hello, this is the twelve three four five citizen hotline. "
                        "How can I help you today?"], check=True, timeout=30)
        source = raw
    subprocess.run(["sox", str(source), "-r", "8000", "-c", "1", "-e", "u-law", str(dest)], check=True, timeout=30)
    return dest


def caller_leg(tracker: CallTracker, number: str) -> Leg | None:
    """The newest trunk leg whose caller number is ``number`` (the citizen's own SIP leg)."""
    best: Leg | None = None
    for leg in tracker.model.legs.values():
        if leg.caller_num == number and leg.channel.startswith("PJSIP/trunk") and leg.ended_at is None:
            if best is None or leg.created_at > best.created_at:
                best = leg
    return best


class Simulator:
    """Plays a plan; ``run()`` returns a :class:`SimReport`.

    Args:
        ami: a connected AMI client (for ``Hangup``, timeout ``action_timeout_s``).
        tracker: the call model on that client (caller legs, bridges).
        plan: the planned calls (:func:`hotline_lab.sim.plan.plan_calls`).
        traffic: the plan's config (talk time, no-answer ratio, seed).
        menu: the IVR menu the plan's routes were taken from.
        durations: full prompt name -> seconds (:func:`hotline_lab.sim.timeline.read_prompt_durations`).
        queued_at: caller's uniqueid -> epoch seconds of its hand-over to a queue, or None (the IVR's
            session records); None: patience counts from the estimated IVR time.
    Raises:
        hotline.sim.timeline.RouteError: a planned route does not walk the menu.
    """

    def __init__(self, ami: AmiClient, tracker: CallTracker, plan: Sequence[PlannedCall], traffic: TrafficConfig,
                 settings: SimSettings, menu: Menu, durations: Mapping[str, float], action_timeout_s: float = 5.0,
                 queued_at: Callable[[str], float | None] | None = None) -> None:
        self.timings = {keys: walk_route(menu, keys, durations) for keys in {p.route.keys for p in plan}}
        self.queued_at = queued_at
        self.ami = ami
        self.tracker = tracker
        self.plan = list(plan)
        self.traffic = traffic
        self.settings = settings
        self.action_timeout_s = action_timeout_s
        self.farms: list[SippRun] = []
        self.callers: list[SippRun] = []
        self.answering_seats: list[int] = []
        self.caller_speech = b""
        self.report = SimReport()

    async def start_phones(self) -> list[int]:
        """Start the agent farms and register every seat; returns the seats that answer.

        Raises:
            RuntimeError: a registration failed (SIPp log in the message).
        """
        s = self.settings
        s.workdir.mkdir(parents=True, exist_ok=True)
        silent = silent_seats(s.seats, self.traffic.ring_no_answer_ratio, self.traffic.seed)
        talkers = [seat for seat in s.seats if seat not in silent]
        clip = await asyncio.to_thread(make_ulaw_clip, s.workdir / "agent-audio.wav", s.audio_clip)
        self.caller_speech = await asyncio.to_thread(make_ulaw_raw, s.workdir / "caller-audio.ul", s.caller_clip)
        scenario = "agent_audio" if clip is not None else "agent"
        calls = max(10, len(self.plan) * 2)
        bound = int(s.max_wall_s) + 300
        for i, talk_ms in enumerate(talk_buckets_ms(self.traffic, s.talk_buckets)):
            seats = talkers[i::s.talk_buckets]
            if not seats:
                continue
            farm = await start_sipp(scenario, s.workdir, calls=calls, duration_ms=talk_ms, timeout_s=bound)
            self.farms.append(farm)
            await register_seats(seats, farm.port, s.workdir)
        if silent:
            farm = await start_sipp("noanswer", s.workdir, calls=calls, duration_ms=600_000, timeout_s=bound)
            self.farms.append(farm)
            await register_seats(sorted(silent), farm.port, s.workdir)
        self.answering_seats = talkers
        return talkers

    async def run(self, progress: Callable[[int, int], None] | None = None) -> SimReport:
        """Place every planned call at its time, enforce patience, wait until all callers are gone.

        Args:
            progress: called about once a second with (calls finished, calls planned).
        """
        t0 = time.monotonic()
        deadline = t0 + self.settings.max_wall_s
        outcomes = []
        for p in self.plan:
            press, ivr_s = caller_keys(p, self.timings[p.route.keys], self.traffic.seed, self.settings.key_timing)
            outcomes.append(CallOutcome(p, press, ivr_s))
        self.report.outcomes = outcomes
        pending = list(outcomes)
        active: list[tuple[CallOutcome, SippRun]] = []
        last_progress = 0.0
        while (pending or active) and time.monotonic() < deadline:
            now_rel = time.monotonic() - t0
            while pending and pending[0].planned.at_s <= now_rel:
                out = pending.pop(0)
                active.append((out, await self._place(out)))
            for out, run in list(active):
                await self._watch(out, run)
                if out.finished:
                    active.remove((out, run))
            if progress is not None and time.monotonic() - last_progress >= 1.0:
                last_progress = time.monotonic()
                progress(sum(o.finished for o in outcomes), len(outcomes))
            await asyncio.sleep(0.2)
        for _, run in active:
            await run.stop()
        for out in outcomes:
            self.report.placed += out.started_at > 0
            self.report.bridged += out.bridged_at is not None
            self.report.abandoned_by_sim += out.abandoned_by_sim
            self.report.never_seen += out.started_at > 0 and not out.uniqueid
        if progress is not None:
            progress(sum(o.finished for o in outcomes), len(outcomes))
        return self.report

    async def _place(self, out: CallOutcome) -> SippRun:
        p = out.planned
        digits = [Digit(key.upper(), at) for key, at in zip(p.route.keys, out.press_ms, strict=True)]
        stay_ms = int((out.ivr_s + p.patience_s + p.talk_s * 3 + 30) * 1000)
        speech_ms = min(MAX_CALLER_SPEECH_MS, int((p.patience_s + p.talk_s * 3 + 30) * 1000))
        out.started_at = time.time()
        run = await start_dtmf_caller(self.settings.workdir, p.caller_num, digits, dial=self.settings.dial,
                                      stay_ms=stay_ms, timeout_s=stay_ms // 1000 + 30,
                                      speech=self.caller_speech, speech_ms=speech_ms if self.caller_speech else 0)
        self.callers.append(run)
        return run

    async def _watch(self, out: CallOutcome, run: SippRun) -> None:
        p = out.planned
        leg = self.tracker.model.legs.get(out.uniqueid) if out.uniqueid else caller_leg(self.tracker, p.caller_num)
        if leg is not None and not out.uniqueid:
            out.uniqueid, out.linkedid = leg.uniqueid, leg.linkedid
        if leg is not None and leg.bridge_id and out.bridged_at is None:
            out.bridged_at = time.time()
        if out.queued_at is None and out.uniqueid and self.queued_at is not None:
            out.queued_at = self.queued_at(out.uniqueid)
        gone = run.proc.returncode is not None or (leg is not None and leg.ended_at is not None)
        if gone:
            out.finished = True
            out.exit_code = run.proc.returncode
            return
        if self.queued_at is not None:
            waited = time.time() - out.queued_at if out.queued_at is not None else -1.0
        else:
            waited = time.time() - out.started_at - out.ivr_s
        if (leg is not None and out.bridged_at is None and not out.abandoned_by_sim
                and waited > p.patience_s):
            out.abandoned_by_sim = True  # the simulator hangs up for the caller: patience ran out
            with contextlib.suppress(Exception):
                await self.ami.action("Hangup", {"Channel": leg.channel, "Cause": 16},
                                      timeout=self.action_timeout_s, check=False)
        if out.uniqueid and leg is None:
            out.finished = True  # the model dropped the leg: it ended

    async def stop(self) -> None:
        """Kill every SIPp process left (farms and callers)."""
        for run in [*self.callers, *self.farms]:
            await run.stop()
