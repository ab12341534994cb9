"""CLI commands of recording, transcription and the catalog (``hotline/app/cli.py`` adds them).

    hotline speech worker [--processes N] [--consumer NAME] [--sink catalog|redis]
    hotline speech install-model SOURCE [--dest DIR] [--sha256 HEX]
    hotline speech transcribe PATH... [--processes N] [--json]
    hotline recordings usage [--json]
    hotline recordings purge [--dry-run]
    hotline catalog upgrade
    hotline catalog search TEXT [--limit N] [--json]

Errors are :class:`hotline.kernel.errors.HotlineError` subclasses, printed by ``hotline.cli.main`` as one
line with exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hotline.kernel.settings import RedisConfig
    from hotline.recording.settings import RecordingSettings
    from hotline.speech.settings import SpeechSettings
    from hotline.ticketing.settings import TicketingSettings


class Settings(Protocol):
    """The slices of the root settings the recording and transcription commands read."""

    @property
    def recording(self) -> RecordingSettings: ...

    @property
    def speech(self) -> SpeechSettings: ...

    @property
    def redis(self) -> RedisConfig: ...

    @property
    def ticketing(self) -> TicketingSettings: ...  # work_orders: where transcripts are followed


def add_parser(sub: Any) -> None:
    """Add the ``speech``, ``recordings`` and ``catalog`` subcommands to hotline's subparsers."""
    sp = sub.add_parser("speech", help="transcription: workers, models, batch transcription")
    ssub = sp.add_subparsers(dest="speech_cmd", required=True)
    w = ssub.add_parser("worker", help="run a transcription worker (Redis Stream consumer) until Ctrl-C")
    w.add_argument("--model", help="Vosk model folder (default speech.model_path / $HOTLINE_VOSK_MODEL)")
    w.add_argument("--processes", type=int, help="decoder processes (default speech.processes)")
    w.add_argument("--consumer", help="consumer name, unique in the group (default host:pid)")
    w.add_argument("--sink", choices=["catalog", "redis"], default="catalog",
                   help="where transcripts go (default: the SQL catalog)")
    w.set_defaults(func=_cmd_worker)
    im = ssub.add_parser("install-model", help="install a Vosk model from a folder, a .zip or the official list")
    im.add_argument("source", help="model folder, .zip archive, or a name like vosk-model-small-cn-0.22")
    im.add_argument("--dest", default="/var/lib/hotline/models", help="folder holding installed models")
    im.add_argument("--sha256", help="expected SHA-256 of the archive")
    im.add_argument("--overwrite", action="store_true")
    im.add_argument("--timeout", type=float, default=20.0, help="seconds per network operation")
    im.set_defaults(func=_cmd_install_model)
    tr = ssub.add_parser("transcribe", help="transcribe WAV files (back catalogues) with a progress bar")
    tr.add_argument("paths", nargs="+", help="WAV files or folders (searched for *.wav)")
    tr.add_argument("--model", help="Vosk model folder (default speech.model_path / $HOTLINE_VOSK_MODEL)")
    tr.add_argument("--processes", type=int, help="decoder processes (default speech.processes)")
    tr.add_argument("--json", action="store_true", help="print one JSON transcript per line")
    tr.set_defaults(func=_cmd_transcribe)

    rp = sub.add_parser("recordings", help="recordings on disk: storage usage, retention purge")
    rsub = rp.add_subparsers(dest="recordings_cmd", required=True)
    u = rsub.add_parser("usage", help="storage used, by month, and what the retention policy would purge")
    u.add_argument("--json", action="store_true")
    u.set_defaults(func=_cmd_usage)
    pg = rsub.add_parser("purge", help="delete recordings older than recording.retention_days")
    pg.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    pg.add_argument("--days", type=int, help="override recording.retention_days")
    pg.set_defaults(func=_cmd_purge)

    cp = sub.add_parser("catalog", help="the SQL catalog of calls, recordings and transcripts")
    csub = cp.add_subparsers(dest="catalog_cmd", required=True)
    up = csub.add_parser("upgrade", help="alembic upgrade head")
    up.set_defaults(func=_cmd_upgrade)
    se = csub.add_parser("search", help="full-text search over transcripts (Chinese substrings too)")
    se.add_argument("text")
    se.add_argument("--limit", type=int, default=20)
    se.add_argument("--json", action="store_true")
    se.set_defaults(func=_cmd_search)


# ------------------------------------------------------------------ speech
def _model(args: argparse.Namespace, settings: Settings) -> Path:
    from hotline.speech.models import resolve_model_path

    return resolve_model_path(args.model or settings.speech.model_path)


def _cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.speech.worker import WorkerSettings, default_consumer_name

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sp = settings.speech
    model = _model(args, settings)
    processes = args.processes or sp.processes
    consumer = args.consumer or default_consumer_name()
    ws = WorkerSettings(consumer=consumer, visibility_timeout_s=sp.visibility_timeout_s,
                        max_deliveries=sp.max_deliveries)
    if args.sink == "redis":
        from hotline.speech.worker import run_worker

        return run_worker(settings.redis.url, sp.stream, sp.group, consumer, model, processes,
                          results_hash=sp.results_hash, events_stream=sp.events_stream, settings=ws)
    from hotline.recording.worker import serve

    wo = settings.ticketing.work_orders  # transcripts also go where ticketing follows them (RT comments)
    done = asyncio.run(serve(settings.redis.url, settings.recording.catalog.url, model, stream=sp.stream,
                             group=sp.group, processes=processes, settings=ws,
                             announce_to=(wo.transcripts_hash, wo.transcripts_stream)))
    print(f"worker {consumer} stopped after {done} job(s)")
    return 0


def _cmd_install_model(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.speech.models import install_model

    got = install_model(args.source, args.dest, sha256=args.sha256, timeout_s=args.timeout,
                        overwrite=args.overwrite)
    print(f"installed {got.name} at {got.path}" + (f" (sha256 {got.sha256})" if got.sha256 else ""))
    print(f"set speech.model_path: {got.path}")
    return 0


def _wav_paths(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(x for x in p.rglob("*.wav") if not x.name.endswith((".caller.wav", ".agent.wav")))
        else:
            out.append(p)
    return out


def _cmd_transcribe(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from hotline.speech.decoder import Transcriber
    from hotline.speech.errors import SpeechError

    sp = settings.speech
    model = _model(args, settings)
    paths = _wav_paths(args.paths)
    if not paths:
        print("no WAV files given", file=sys.stderr)
        return 1
    failed = 0

    async def run() -> None:
        nonlocal failed
        async with Transcriber(model, processes=args.processes or sp.processes, labels=sp.speakers,
                               keywords=sp.keywords, min_duration_s=sp.min_duration_s) as t:
            with tqdm(total=len(paths), unit="file", file=sys.stderr, disable=None) as bar:
                async for path, result in t.transcribe_many(paths):
                    bar.update(1)
                    if isinstance(result, SpeechError):
                        failed += 1
                        tqdm.write(f"{path}: FAILED: {result}", file=sys.stderr)
                    elif args.json:
                        tqdm.write(result.to_json())
                    else:
                        status = result.skipped or ("no speech" if result.no_speech else f"{result.duration_s:.1f}s")
                        flags = f" [{', '.join(result.flags)}]" if result.flags else ""
                        tqdm.write(f"== {path} ({status}){flags}\n{result.text}")

    asyncio.run(run())
    return 1 if failed else 0


# ------------------------------------------------------------------ recordings
def _cmd_usage(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.recording import files
    from hotline.recording.policy import human_bytes, usage_report

    rec = settings.recording
    report = usage_report(files.walk(rec.host_dir), rec.retention_days, time.time(), rec.tz)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return 0
    print(f"recordings in {rec.host_dir}: {report.files} files, {human_bytes(report.total_bytes)}"
          f" ({report.oldest_day or '-'} .. {report.newest_day or '-'})")
    for month, (n, b) in report.by_month.items():
        print(f"  {month}  {n:8d} files  {human_bytes(b):>10}")
    print(f"retention {report.retention_days} days: {report.expired_files} files "
          f"({human_bytes(report.expired_bytes)}) due for purge")
    return 0


def _cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.recording import files
    from hotline.recording.catalog import Catalog
    from hotline.recording.policy import expired, human_bytes

    rec = settings.recording
    days = rec.retention_days if args.days is None else args.days
    now = time.time()
    gone = expired(files.walk(rec.host_dir), days, now, rec.tz)
    total = sum(f.size_bytes for f in gone)
    if args.dry_run:
        for f in gone:
            print(f.rel_path)
        print(f"would delete {len(gone)} files ({human_bytes(total)}) older than {days} days")
        return 0
    deleted = files.delete(rec.host_dir, [f.rel_path for f in gone])

    async def mark() -> int:
        async with Catalog(rec.catalog.url, timeout_s=rec.catalog.timeout_s) as cat:
            return await cat.mark_purged([f.rel_path for f in gone], now)

    marked = asyncio.run(mark()) if gone else 0
    print(f"deleted {deleted} files ({human_bytes(total)}) older than {days} days; {marked} catalog rows marked purged")
    return 0


# ------------------------------------------------------------------ catalog
def _cmd_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.recording.catalog import current_revision_sync, upgrade_sync

    url = settings.recording.catalog.url
    upgrade_sync(url)
    print(f"catalog at revision {current_revision_sync(url)}")
    return 0


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.recording.catalog import Catalog

    async def run() -> list[Any]:
        async with Catalog(settings.recording.catalog.url) as cat:
            return await cat.search(args.text, args.limit)

    hits = asyncio.run(run())
    for h in hits:
        if args.json:
            print(json.dumps({"linkedid": h.linkedid, "job_id": h.job_id, "speaker": h.speaker,
                              "start_s": h.start_s, "end_s": h.end_s, "text": h.text, "path": h.path},
                             ensure_ascii=False))
        else:
            print(f"{h.linkedid}  {h.start_s:7.2f}s  {h.speaker:7}  {h.text}")
    if not args.json:
        print(f"{len(hits)} match(es)")
    return 0
