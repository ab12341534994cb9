"""The signed webhook sink against a real HTTP receiver (aiohttp server on a free loopback port)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hotline.ticketing.connector import WORK_ORDER_CREATED, OutboxEvent
from hotline.ticketing.errors import SignatureError, TicketingRejected, TicketingUnavailable
from hotline.ticketing.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, WebhookSink, encode_body, sign, verify
from tests.support.wait import free_port

pytestmark = pytest.mark.integration

SECRET = "lab-webhook-secret"


@dataclass
class Receiver:
    """A department system's endpoint: verifies signatures, deduplicates on Idempotency-Key."""

    url: str
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    posts: int = 0
    fail_with: int | None = None


async def _receiver_app(receiver: Receiver) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        receiver.posts += 1
        if receiver.fail_with:
            return web.Response(status=receiver.fail_with, text="receiver failing on purpose")
        body = await request.read()  # the raw bytes: never verify re-serialised JSON
        try:
            verify(SECRET, request.headers.get(SIGNATURE_HEADER), body, now=time.time())
        except SignatureError as exc:
            receiver.rejected.append(type(exc).__name__)
            return web.json_response({"error": type(exc).__name__, "detail": str(exc)}, status=401)
        key = request.headers[IDEMPOTENCY_HEADER]
        if key in receiver.accepted:
            return web.json_response({"duplicate": key}, status=200)
        receiver.accepted[key] = json.loads(body)
        return web.json_response({"ok": key}, status=201)

    app = web.Application()
    app.router.add_post("/hook", hook)
    return app


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}/hook")
    runner = web.AppRunner(await _receiver_app(rec))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield rec
    finally:
        await runner.cleanup()


def event(event_id: str = "evt-1") -> OutboxEvent:
    payload = {"queue": "environment", "subject": "油烟扰民", "due": "2025-10-14T10:00:00+08:00"}
    return OutboxEvent(event_id, WORK_ORDER_CREATED, "1759197600.7", payload, 1759197600.0)


async def test_given_signed_event_then_receiver_verifies_and_stores_it(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    sink = WebhookSink(http, receiver.url, SECRET, timeout_s=5)

    await sink.deliver(event())

    assert receiver.accepted["evt-1"]["payload"]["subject"] == "油烟扰民"
    assert receiver.rejected == []


async def test_given_redelivery_then_receiver_keeps_one_copy(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    sink = WebhookSink(http, receiver.url, SECRET, timeout_s=5)

    await sink.deliver(event())
    await sink.deliver(event())

    assert receiver.posts == 2 and list(receiver.accepted) == ["evt-1"]


async def test_given_tampered_body_then_receiver_rejects_401(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    body = encode_body(event())
    header = sign(SECRET, int(time.time()), body)
    tampered = body.replace("油烟扰民".encode(), "已办结".encode())

    async with http.post(receiver.url, data=tampered, headers={SIGNATURE_HEADER: header, IDEMPOTENCY_HEADER: "x"}) as r:
        assert r.status == 401
    assert receiver.rejected == ["SignatureMismatch"] and not receiver.accepted


async def test_given_unsigned_post_then_receiver_rejects_401(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    async with http.post(receiver.url, data=encode_body(event()), headers={IDEMPOTENCY_HEADER: "x"}) as r:
        assert r.status == 401
    assert receiver.rejected == ["SignatureMissing"]


async def test_given_replayed_old_request_then_rejected_and_sink_raises_rejected(
    receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    sink = WebhookSink(http, receiver.url, SECRET, timeout_s=5, clock=lambda: time.time() - 3600)

    with pytest.raises(TicketingRejected) as info:
        await sink.deliver(event())

    assert info.value.status == 401 and "SignatureExpired" in info.value.body
    assert not info.value.retryable and receiver.rejected == ["SignatureExpired"]


async def test_given_wrong_secret_then_rejected(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    with pytest.raises(TicketingRejected):
        await WebhookSink(http, receiver.url, "not-the-secret", timeout_s=5).deliver(event())
    assert receiver.rejected == ["SignatureMismatch"]


async def test_given_receiver_5xx_then_unavailable_retryable(receiver: Receiver, http: aiohttp.ClientSession) -> None:
    receiver.fail_with = 503
    with pytest.raises(TicketingUnavailable) as info:
        await WebhookSink(http, receiver.url, SECRET, timeout_s=5).deliver(event())
    assert info.value.status == 503 and info.value.retryable


async def test_given_receiver_down_then_unavailable(http: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens
    with pytest.raises(TicketingUnavailable) as info:
        await WebhookSink(http, url, SECRET, timeout_s=2).deliver(event())
    assert info.value.status is None
