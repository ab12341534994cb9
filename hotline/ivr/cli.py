"""``hotline ivr ...``: prompts, hot-topic announcements and a menu check.

    hotline ivr prompts [--catalog F] [--sounds DIR] [--force]     synthesize prompts (espeak-ng + sox)
    hotline ivr check [--menu PATH] [--sounds DIR]                  validate a menu (before a reload)
    hotline ivr announce add --id ID --prompt NAME [--menu M]... [--language L]...
                             [--start WHEN] (--end WHEN | --hours H)
    hotline ivr announce list
    hotline ivr announce remove ID

WHEN is epoch seconds or ISO 8601 (``2026-07-01T08:00+08:00``; a time without an offset is
Asia/Shanghai). Announcements take effect on the next call. Errors print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hotline.ivr.announcement_store import add_announcement, list_announcements, remove_announcement
from hotline.ivr.announcements import ALL_MENUS, AnnouncementError
from hotline.ivr.settings import IvrConfig
from hotline.kernel.settings import RedisConfig

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_when(text: str) -> float:
    """Epoch seconds from ``"1782864000"`` or ISO 8601 (naive = Asia/Shanghai).

    Raises:
        AnnouncementError: neither form.
    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise AnnouncementError([f"time: {text!r} is neither epoch seconds nor ISO 8601"]) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)
    return when.timestamp()


class Settings(Protocol):
    """The slices of the root settings the IVR commands read (``ivr``, ``redis``)."""

    @property
    def ivr(self) -> IvrConfig: ...

    @property
    def redis(self) -> RedisConfig: ...


def announcement_from_args(args: argparse.Namespace, now: float) -> dict[str, Any]:
    """The plain dict for :func:`add_announcement` from ``announce add`` flags."""
    starts = parse_when(args.start) if args.start else now
    if args.end:
        ends = parse_when(args.end)
    elif args.hours:
        ends = starts + args.hours * 3600
    else:
        raise AnnouncementError(["ends_at: give --end or --hours"])
    return {"id": args.id, "prompt": args.prompt, "starts_at": starts, "ends_at": ends,
            "menus": args.menu or [ALL_MENUS], "languages": args.language or []}


def _cmd(args: argparse.Namespace, settings: Settings) -> int:
    cfg = settings.ivr
    if args.ivr_cmd == "prompts":
        from hotline.ivr.prompt_catalog import load_catalog
        from hotline.ivr.prompts import synthesize

        sounds = Path(args.sounds) if args.sounds else cfg.prompt_dir
        if sounds is None:
            print("hotline: no sound folder: set ivr.prompt_dir or pass --sounds")
            return 2
        report = synthesize(load_catalog(args.catalog or cfg.prompt_catalog), sounds, force=args.force)
        print(f"prompts in {sounds}: {report.summary()}")
        return 0
    if args.ivr_cmd == "check":
        from hotline.ivr.menus import load_menu

        sounds = Path(args.sounds) if args.sounds else cfg.prompt_dir
        menu = load_menu(args.menu or cfg.menu_path, prompt_dir=sounds if sounds and sounds.is_dir() else None)
        print(f"menu {menu.id!r}: {len(menu.nodes)} nodes, no problems")
        return 0
    return asyncio.run(_announce(args, settings))


async def _announce(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.ivr.plugin import announcement_store

    cfg = settings.ivr
    store = announcement_store(settings.redis.url, settings.redis.key_prefix, cfg.announcements_key,
                               cfg.lookup_timeout_s)
    try:
        if args.ann_cmd == "add":
            a = await add_announcement(store, announcement_from_args(args, time.time()))
            print(f"added {a.id}: {a.prompt} for {', '.join(a.menus)} "
                  f"from {dt.datetime.fromtimestamp(a.starts_at, SHANGHAI):%F %T} "
                  f"to {dt.datetime.fromtimestamp(a.ends_at, SHANGHAI):%F %T} (Asia/Shanghai)")
            return 0
        if args.ann_cmd == "list":
            for item in await list_announcements(store):
                print(json.dumps(item, ensure_ascii=False))
            return 0
        if await remove_announcement(store, args.id):
            print(f"removed {args.id}")
            return 0
        print(f"hotline: no announcement {args.id!r}")
        return 1
    finally:
        await store.redis.aclose()


def add_parser(sub: Any) -> None:
    """Add ``ivr`` to the ``hotline`` subcommands (called once by ``hotline/app/cli.py``)."""
    ivr = sub.add_parser("ivr", help="IVR: prompts, hot-topic announcements, menu check")
    ivr_sub = ivr.add_subparsers(dest="ivr_cmd", required=True)
    p = ivr_sub.add_parser("prompts", help="synthesize the prompt catalog into Asterisk's sound folder")
    p.add_argument("--catalog", help="prompt catalog YAML (default ivr.prompt_catalog)")
    p.add_argument("--sounds", help="sound folder (default ivr.prompt_dir: the lab chroot's)")
    p.add_argument("--force", action="store_true", help="remake every file")
    c = ivr_sub.add_parser("check", help="validate a menu file or folder, prompts included")
    c.add_argument("--menu", help="menu file or folder (default ivr.menu_path)")
    c.add_argument("--sounds", help="sound folder for the prompt check (default ivr.prompt_dir)")
    a = ivr_sub.add_parser("announce", help="hot-topic announcements (Redis; next call)")
    a_sub = a.add_subparsers(dest="ann_cmd", required=True)
    add = a_sub.add_parser("add", help="add or replace an announcement")
    add.add_argument("--id", required=True)
    add.add_argument("--prompt", required=True, help="full prompt name, {lang} allowed: hotline/{lang}/hot/x")
    add.add_argument("--menu", action="append", help="menu id (repeat; default: every menu)")
    add.add_argument("--language", action="append", help="zh, yue, en (repeat; default: all)")
    add.add_argument("--start", help="epoch seconds or ISO 8601 (default: now)")
    add.add_argument("--end", help="epoch seconds or ISO 8601")
    add.add_argument("--hours", type=float, help="duration instead of --end")
    a_sub.add_parser("list", help="every stored announcement, one JSON line each")
    rm = a_sub.add_parser("remove", help="remove an announcement")
    rm.add_argument("id")
    ivr.set_defaults(func=_cmd)
