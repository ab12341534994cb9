"""``hotline outbox status|list|dead|replay ID|replay-all``: inspect and replay the durable outbox.

    hotline outbox status                    per sink: delivered, length, lag, pending, dead, oldest pending
    hotline outbox list [--sink S] [-n N]    pending entries: event id, kind, linkedid, attempts, last error
    hotline outbox dead [--sink S] [-n N]    dead letters: id, event id, kind, attempts, error
    hotline outbox replay ID [--sink S]      put one dead letter back on its sink's stream (same event id)
    hotline outbox replay-all [--sink S]     all of them

Sinks are those of ``ticketing.outbox.routes`` (``--sink`` narrows). Redis is
``ticketing.redis_url`` or ``redis.url``. Exit codes: 0, 2 for an error (printed as one line),
1 for ``replay`` of an unknown id.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from typing import Protocol

from hotline.kernel.settings import RedisConfig
from hotline.ticketing.settings import TicketingSettings


class Settings(Protocol):
    """The slices of the root settings the outbox commands read (``ticketing``, ``redis``)."""

    @property
    def ticketing(self) -> TicketingSettings: ...

    @property
    def redis(self) -> RedisConfig: ...


def add_outbox_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``hotline outbox ...`` on the top-level subparsers (one line in ``hotline/app/cli.py``)."""
    p = sub.add_parser("outbox", help="the durable ticketing outbox: status, pending, dead letters, replay")
    p.add_argument("outbox_cmd", choices=["status", "list", "dead", "replay", "replay-all"])
    p.add_argument("entry_id", nargs="?", help="dead-letter entry id (replay)")
    p.add_argument("--sink", help="only this sink (rt, webhook, mqtt...)")
    p.add_argument("-n", "--count", type=int, default=50, help="entries to show (list, dead)")
    p.set_defaults(func=run_outbox_command)


def run_outbox_command(args: argparse.Namespace, settings: Settings) -> int:
    """The ``func`` of the ``outbox`` subcommand."""
    return asyncio.run(_outbox(args, settings))


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m" if seconds < 7200 else f"{seconds / 3600:.1f}h"


async def _outbox(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.ticketing.errors import DeadEntryNotFound
    from hotline.ticketing.outbox import RedisOutbox, connect

    t = settings.ticketing
    routes = t.outbox.routes
    sinks = [args.sink] if args.sink else list(routes)
    redis = connect(t.redis_url or settings.redis.url)
    outbox = RedisOutbox(redis, routes, prefix=t.outbox.prefix)
    try:
        if args.outbox_cmd == "status":
            print(f"{'sink':10} {'delivered':>9} {'length':>8} {'lag':>6} {'pending':>8} {'dead':>6} {'oldest':>7}  "
                  "consumers")
            for sink in sinks:
                s = await outbox.status(sink, time.time())
                lag = "-" if s.lag is None else str(s.lag)
                print(f"{sink:10} {s.delivered:>9} {s.length:>8} {lag:>6} {s.pending:>8} {s.dead:>6} "
                      f"{_age(s.oldest_pending_s):>7}  {','.join(s.consumers) or '-'}")
            return 0
        if args.outbox_cmd == "list":
            for sink in sinks:
                for e in await outbox.pending_entries(sink, args.count):
                    kind = e.event.kind if e.event else "?"
                    event_id = e.event.event_id if e.event else "?"
                    print(f"{sink}\t{e.entry_id}\t{event_id}\t{kind}\t{e.event.linkedid if e.event else ''}\t"
                          f"attempts={e.attempts}\tidle={e.idle_ms / 1000:.0f}s\t{e.last_error or ''}")
            return 0
        if args.outbox_cmd == "dead":
            for sink in sinks:
                for d in await outbox.dead_entries(sink, args.count):
                    when = dt.datetime.fromtimestamp(d.dead_at, dt.UTC).isoformat(timespec="seconds")
                    print(f"{sink}\t{d.dead_id}\t{d.fields.get('event_id', '?')}\t{d.fields.get('kind', '?')}\t"
                          f"attempts={d.attempts}\t{when}\t{d.error}")
            return 0
        if args.outbox_cmd == "replay":
            if not args.entry_id:
                print("hotline: outbox replay needs a dead-letter id (see `hotline outbox dead`)")
                return 2
            for sink in sinks:
                try:
                    new_id = await outbox.replay(sink, args.entry_id)
                except DeadEntryNotFound:
                    continue
                print(f"replayed {sink} {args.entry_id} as {new_id}")
                return 0
            print(f"hotline: no dead-letter entry {args.entry_id} in {', '.join(sinks)}")
            return 1
        total = 0
        for sink in sinks:
            n = await outbox.replay_all(sink)
            total += n
            print(f"replayed {n} dead letter(s) of {sink}")
        return 0
    finally:
        await redis.aclose()
