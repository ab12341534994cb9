"""Helpers for the outbox tests: a private-Redis outbox with its workers, a webhook receiver, AMI frames."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hotline.ticketing.connector import Connector
from hotline.ticketing.delivery import RetryPolicy
from hotline.ticketing.outbox import OutboxWriter, RedisOutbox, SinkWorker, connect
from hotline.ticketing.signature import SIGNATURE_HEADER, verify
from hotline.ticketing.webhook import IDEMPOTENCY_HEADER
from tests.support.wait import free_port

SECRET = "outbox-test-secret"
FAST = RetryPolicy(max_attempts=4, base_s=0.05, cap_s=0.5, jitter=0.0)


@dataclass
class Outbox:
    """An outbox on the private Redis under a unique prefix, with a writer and a worker per sink."""

    outbox: RedisOutbox
    writer: OutboxWriter
    workers: dict[str, SinkWorker] = field(default_factory=dict)

    async def add_worker(self, connector: Connector, consumer: str = "test-1", **kwargs: Any) -> SinkWorker:
        kwargs.setdefault("policy", FAST)
        kwargs.setdefault("block_ms", 100)
        worker = SinkWorker(self.outbox, connector, consumer, **kwargs)
        self.workers[f"{connector.name}/{consumer}"] = worker
        await worker.start()
        return worker

    async def stop_workers(self) -> None:
        for worker in self.workers.values():
            await worker.stop()
        self.workers.clear()


@asynccontextmanager
async def private_outbox(redis_url: str, routes: dict[str, list[str]]) -> AsyncIterator[Outbox]:
    redis = connect(redis_url, block_ms=100)
    prefix = f"test:{uuid.uuid4().hex[:8]}:outbox:"
    outbox = RedisOutbox(redis, routes, prefix=prefix)
    writer = OutboxWriter(outbox, policy=RetryPolicy(base_s=0.05, cap_s=0.5))
    await writer.start()
    box = Outbox(outbox, writer)
    try:
        yield box
    finally:
        await box.stop_workers()
        await writer.stop(flush_timeout_s=1.0)
        await redis.aclose()


@dataclass
class Receiver:
    """A department's webhook endpoint: verifies signatures, keeps one copy per Idempotency-Key.

    ``fail_first`` requests are answered ``fail_status``; ``hold`` makes requests wait until set.
    """

    url: str
    fail_first: int = 0
    fail_status: int = 500
    posts: int = 0
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    hold: asyncio.Event | None = None


@asynccontextmanager
async def webhook_receiver(**kwargs: Any) -> AsyncIterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}/hook", **kwargs)

    async def hook(request: web.Request) -> web.Response:
        rec.posts += 1
        if rec.hold is not None:
            await rec.hold.wait()
        if rec.posts <= rec.fail_first:
            return web.Response(status=rec.fail_status, text="failing on purpose")
        body = await request.read()
        try:
            verify(SECRET, request.headers.get(SIGNATURE_HEADER), body, now=time.time())
        except Exception as exc:
            rec.rejected.append(type(exc).__name__)
            return web.Response(status=401)
        rec.accepted.setdefault(request.headers[IDEMPOTENCY_HEADER], json.loads(body))
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield rec
    finally:
        if rec.hold is not None:
            rec.hold.set()
        await runner.cleanup()


def ami_call_frames(linkedid: str, caller: str, seat: str, t0: float, *, answered: bool = True) -> bytes:
    """AMI frames of a citizen call on the trunk answered by an agent seat, then hung up (Asterisk 22 headers)."""
    agent_uid = f"{linkedid}1"
    frames = [
        ("Newchannel", linkedid, "PJSIP/trunk-0000a001", t0, {"CallerIDNum": caller, "ChannelStateDesc": "Ring"}),
        ("Newstate", linkedid, "PJSIP/trunk-0000a001", t0 + 0.5, {"CallerIDNum": caller, "ChannelStateDesc": "Up"}),
        ("Newchannel", agent_uid, f"PJSIP/{seat}-0000a002", t0 + 1, {"CallerIDNum": seat, "ChannelStateDesc": "Down"}),
    ]
    if answered:
        frames.append(("Newstate", agent_uid, f"PJSIP/{seat}-0000a002", t0 + 3, {"ChannelStateDesc": "Up"}))
    frames += [
        ("Hangup", agent_uid, f"PJSIP/{seat}-0000a002", t0 + 30, {"Cause": "16", "Cause-txt": "Normal Clearing"}),
        ("Hangup", linkedid, "PJSIP/trunk-0000a001", t0 + 30.2, {"Cause": "16", "Cause-txt": "Normal Clearing"}),
    ]
    out = []
    for name, uid, channel, at, extra in frames:
        headers = {"Event": name, "Channel": channel, "Uniqueid": uid, "Linkedid": linkedid,
                   "Timestamp": f"{at:.6f}", **extra}
        out.append("".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
    return "".join(out).encode()
