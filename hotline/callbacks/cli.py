"""``hotline reminders add|list|cancel|import FILE.csv`` and ``hotline callbacks list|cancel``.

They work on Redis directly (:class:`hotline.callbacks.api.CallbacksApi`); a running service's dialler
sees the change within ``callbacks.tick_s``. Errors print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hotline.callbacks.settings import CallbacksSettings
from hotline.kernel.settings import RedisConfig


class Settings(Protocol):
    """The slices of the root settings these commands read (``callbacks``, ``redis``)."""

    @property
    def callbacks(self) -> CallbacksSettings: ...

    @property
    def redis(self) -> RedisConfig: ...


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``reminders`` and ``callbacks`` on the top-level subparsers (one line in hotline/app/cli.py)."""
    r = sub.add_parser("reminders", help="voice reminder calls: add, list, cancel, import a CSV")
    rs = r.add_subparsers(dest="reminders_cmd", required=True)
    add = rs.add_parser("add", help="schedule one reminder call")
    add.add_argument("number", help="mainland mobile or landline (+86 / 0086 accepted)")
    add.add_argument("--prompt", default="hello", help="sound files joined by & (default: hello)")
    add.add_argument("--at", help="local date-time (ISO 8601, zone of callbacks.tz); default now")
    add.add_argument("--urgent", action="store_true", help="may ring on statutory holidays")
    add.add_argument("--say-digits", default="", help="digits read with SayDigits (a work-order number)")
    add.add_argument("--id", help="job id (idempotent); default a fresh one")
    ls = rs.add_parser("list", help="list reminder, survey and deadline calls")
    ls.add_argument("--open", action="store_true", help="only open ones")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    c = rs.add_parser("cancel", help="cancel a reminder by id")
    c.add_argument("job_id")
    imp = rs.add_parser("import", help="import reminders from a CSV (see hotline/callbacks/importer.py)")
    imp.add_argument("file", type=Path)
    r.set_defaults(func=run)

    cb = sub.add_parser("callbacks", help="keep-my-place callbacks: list, cancel")
    cbs = cb.add_subparsers(dest="callbacks_cmd", required=True)
    cl = cbs.add_parser("list", help="list callback requests")
    cl.add_argument("--open", action="store_true", help="only pending ones")
    cl.add_argument("--json", action="store_true")
    cc = cbs.add_parser("cancel", help="cancel a pending callback")
    cc.add_argument("request_id")
    cb.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


def _local(ts: float | None, tz: str) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.callbacks.api import CallbacksApi
    from hotline.callbacks.store import open_store

    cfg = settings.callbacks
    store = open_store(settings.redis.url, cfg.key_prefix)
    api = CallbacksApi(store, cfg)
    try:
        if args.cmd == "reminders":
            return await _reminders(args, api, cfg.tz)
        return await _callbacks(args, api, cfg.tz)
    finally:
        await store.close()


async def _reminders(args: argparse.Namespace, api: Any, tz: str) -> int:
    cmd = args.reminders_cmd
    if cmd == "add":
        at = api.clock()
        if args.at:
            when = dt.datetime.fromisoformat(args.at)
            at = (when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz))).timestamp()
        row = await api.schedule_reminder(args.number, args.prompt, at, urgent=args.urgent,
                                          say_digits=args.say_digits, job_id=args.id)
        print(f"{row['id']}  {row['number']}  due {_local(row['due_at'], tz)}  {row['status']}")
        return 0
    if cmd == "list":
        for row in await api.list_reminders(include_closed=not args.open):
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(f"{row['id']:28} {row['kind']:12} {row['number']:13} {_local(row['due_at'], tz):16} "
                      f"{row['status']:9} attempts {row['attempts']}  {row['last_outcome'] or ''}"
                      f"{'  rating ' + str(row['rating']) if row['rating'] else ''}")
        return 0
    if cmd == "cancel":
        row = await api.cancel_reminder(args.job_id)
        print(f"{row['id']}: {row['status']}")
        return 0
    text = await asyncio.to_thread(args.file.read_text, encoding="utf-8-sig")
    from tqdm import tqdm

    bar = tqdm(total=0, unit="job", desc=f"import {args.file.name}", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    result = await api.import_reminders_csv(text, progress=progress)
    bar.close()
    print(f"{result['rows']} rows: {result['added']} added, {result['already_there']} already there, "
          f"{len(result['errors'])} rejected")
    for err in result["errors"]:
        print(f"  row {err['row']}: {err['reason']}")
    return 0 if not result["errors"] else 1


async def _callbacks(args: argparse.Namespace, api: Any, tz: str) -> int:
    if args.callbacks_cmd == "list":
        for row in await api.list_callbacks(include_closed=not args.open):
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(f"{row['id']:28} {row['queue']:14} {row['number']:13} place {_local(row['enqueued_at'], tz)} "
                      f"{row['status']:9} attempts {row['attempts']}")
        return 0
    row = await api.cancel_callback(args.request_id)
    print(f"{row['id']}: {row['status']}")
    return 0
