"""Agent commands from outside the service (``hotline agent login|logout|ready|pause``) over Redis.

Why Redis: the service and the CLI already share it, it needs no extra port or credentials, and a
command to a service that is down fails with a clear timeout instead of a connection error to an
unknown port. Protocol (one request list, one reply key per request)::

    CLI:     RPUSH <prefix>routing:commands {"id", "op", "agent", "reason", "expires_at"}
             BLPOP <prefix>routing:commands:reply:<id> <timeout>
    service: BLPOP <prefix>routing:commands 1   ->  Dispatcher.login/logout/ready/pause
             LPUSH reply {"ok", "error", "status", "reason"}; EXPIRE reply 30

A command older than ``expires_at`` (the CLI's own timeout) is dropped unanswered, so a "ready"
typed while the service was down is not applied minutes later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hotline.kernel.background import BackgroundTask
from hotline.queues.exceptions import QueuesError
from hotline.queues.routing import RoutingSnapshot

__all__ = ["OPS", "AgentCommandError", "AgentControl", "send_agent_command"]

log = logging.getLogger("hotline.routing.control")

OPS = ("login", "logout", "ready", "pause")


class AgentCommandError(QueuesError):
    """An agent command was refused (illegal transition, unknown agent) or not answered in time."""


class AgentControl:
    """Serves agent commands from Redis to the routing component (a service component).

    Args:
        redis: a client of its own (BLPOP blocks the connection).
        key: the request list (``<prefix>routing:commands``).
        dispatcher: the routing component (``login``/``logout``/``ready``/``pause``/``agent_state``).
    """

    def __init__(self, redis: Redis, key: str, dispatcher: Any) -> None:
        self.redis = redis
        self.key = key
        self.dispatcher = dispatcher
        self.served = 0
        self._bg = BackgroundTask("routing-agent-control")

    async def start(self) -> None:
        self._bg.start(self._run)

    async def stop(self, timeout_s: float = 3.0) -> None:
        """Let the current ``BLPOP`` (1 s) return, then end; cancel only if it does not within ``timeout_s``
        (cancelling a client inside a blocking command can leave its connection unusable)."""
        await self._bg.stop(grace_s=timeout_s)

    async def _run(self) -> None:
        failing = False
        while not self._bg.stopping.is_set():
            try:
                item = await asyncio.wait_for(self.redis.blpop([self.key], timeout=1), 5.0)
                failing = False
            except (RedisError, OSError, TimeoutError) as exc:
                if not failing:
                    log.warning("agent commands: Redis unavailable (%s); retrying", exc)
                failing = True
                await asyncio.sleep(1.0)  # bounded retry pause while Redis is down
                continue
            if item is None:
                continue
            await self._serve(item[1])

    async def _serve(self, raw: bytes | str) -> None:
        try:
            cmd = json.loads(raw)
            rid, op, agent = str(cmd["id"]), str(cmd["op"]), str(cmd["agent"])
        except (ValueError, KeyError, TypeError):
            log.warning("agent commands: malformed request %r", raw)
            return
        if float(cmd.get("expires_at") or 0) < time.time():
            log.info("agent commands: dropped expired %s %s", op, agent)
            return
        reply: dict[str, Any] = {"ok": True, "error": ""}
        try:
            d = self.dispatcher
            if op == "pause":
                await d.pause(agent, str(cmd.get("reason") or "break"))
            elif op == "login":
                await d.login(agent)
            elif op == "logout":
                await d.logout(agent)
            elif op == "ready":
                await d.ready(agent)
            else:
                raise AgentCommandError(f"unknown command {op!r}")
            st = self.dispatcher.agent_state(agent)
            reply.update(status=st.status.value, reason=st.reason)
        except (QueuesError, KeyError) as exc:
            reply = {"ok": False, "error": str(exc)}
        self.served += 1
        reply_key = f"{self.key}:reply:{rid}"
        try:
            await asyncio.wait_for(self.redis.lpush(reply_key, json.dumps(reply)), 5.0)
            await asyncio.wait_for(self.redis.expire(reply_key, 30), 5.0)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("agent commands: cannot reply to %s: %s", rid, exc)


async def send_agent_command(redis: Redis, key: str, op: str, agent: str, reason: str | None = None,
                             timeout_s: float = 5.0) -> dict[str, Any]:
    """Send one command to the running service and wait for its answer.

    Returns:
        The reply: ``{"ok": True, "status": "ready", "reason": None}``.
    Raises:
        AgentCommandError: refused by the routing core (the message says why), or no answer within
            ``timeout_s`` (the service is not running, or not connected to this Redis).
    """
    if op not in OPS:
        raise AgentCommandError(f"unknown command {op!r} (one of {', '.join(OPS)})")
    rid = uuid.uuid4().hex
    cmd = {"id": rid, "op": op, "agent": agent, "reason": reason, "expires_at": time.time() + timeout_s}
    try:
        await asyncio.wait_for(redis.rpush(key, json.dumps(cmd)), timeout_s)
        got = await asyncio.wait_for(redis.blpop([f"{key}:reply:{rid}"], timeout=max(1, round(timeout_s))),
                                     timeout_s + 2)
    except (RedisError, OSError, TimeoutError) as exc:
        raise AgentCommandError(f"Redis unavailable: {exc}") from exc
    if got is None:
        raise AgentCommandError(f"no answer from the routing service within {timeout_s:.0f}s "
                                "(is `hotline run` up and using the same Redis?)")
    reply: dict[str, Any] = json.loads(got[1])
    if not reply.get("ok"):
        raise AgentCommandError(f"agent {agent}: {reply.get('error')}")
    return reply


def agent_rows(snapshot: RoutingSnapshot, now: float) -> list[str]:
    """Lines for ``hotline agent status``: agent, status, reason, seconds in state (logged-out agents skipped)."""
    rows = []
    for st in snapshot.agent_states:
        if st.status.value == "logged_out":
            continue
        rows.append(f"{st.agent_id:8} {st.status.value:10} {st.reason or '':12} {st.time_in_state_s(now):8.0f}s"
                    + (f"  call {st.linkedid}" if st.linkedid else ""))
    return rows
