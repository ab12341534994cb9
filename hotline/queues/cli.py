"""``hotline agent login|logout|ready|pause|status``: agent commands to the running service.

Commands travel over Redis (:mod:`hotline.queues.control`); ``status`` reads the saved routing snapshot
directly, so it works while the service is down (it then shows the state at shutdown).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any, Protocol

from redis.asyncio import Redis

from hotline.kernel.settings import RedisConfig
from hotline.queues.config import RoutingSettings
from hotline.queues.control import OPS, agent_rows, send_agent_command
from hotline.queues.store import RoutingStore

__all__ = ["add_agent_commands"]


class Settings(Protocol):
    """The slices of the root settings the agent commands read (``routing``, ``redis``)."""

    @property
    def routing(self) -> RoutingSettings: ...

    @property
    def redis(self) -> RedisConfig: ...


def add_agent_commands(sub: Any) -> None:
    """Add the ``agent`` subcommand to the ``hotline`` parser's subparsers."""
    p = sub.add_parser("agent", help="agent login/logout/ready/pause/status (talks to the running service)")
    p.add_argument("agent_cmd", choices=[*OPS, "status"])
    p.add_argument("agent_id", nargs="?", help="agent id (seat), e.g. 1001")
    p.add_argument("--reason", default="break", help="pause reason code (break, lunch, training, meeting ...)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the service's answer")
    p.set_defaults(func=_cmd_agent)


def _cmd_agent(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_agent(args, settings))


async def _agent(args: argparse.Namespace, settings: Settings) -> int:
    prefix = settings.redis.key_prefix
    redis = Redis.from_url(settings.redis.url)
    try:
        if args.agent_cmd == "status":
            loaded = await RoutingStore(redis, prefix + settings.routing.redis_key).load()
            if loaded is None:
                print("no routing state saved yet")
                return 0
            rows = agent_rows(loaded[0], time.time())
            if args.agent_id:
                rows = [r for r in rows if r.split()[0] == args.agent_id] or [f"{args.agent_id:8} logged_out"]
            print("\n".join(rows) if rows else "no agent logged in")
            return 0
        if not args.agent_id:
            print("hotline: agent id required")
            return 2
        reply = await send_agent_command(redis, prefix + settings.routing.command_key, args.agent_cmd,
                                         args.agent_id, args.reason if args.agent_cmd == "pause" else None,
                                         timeout_s=args.timeout)
        print(f"{args.agent_id}: {reply.get('status')}" + (f" ({reply['reason']})" if reply.get("reason") else ""))
        return 0
    finally:
        await redis.aclose()
