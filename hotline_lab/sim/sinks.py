"""Sinks the demo and the tests can watch: a signed-webhook receiver, an MQTT bus subscriber, outbox counts.

Not production code: small, bounded helpers for ``make demo`` and integration tests.

* :class:`WebhookReceiver`: an aiohttp server on a free loopback port that verifies
  ``X-Hotline-Signature`` exactly as :mod:`hotline.ticketing.signature` documents (HMAC-SHA256 over
  ``f"{t}." + raw body``, ``|now - t| <= tolerance_s``), answers 401 to a bad signature and 200
  otherwise (a repeated ``Idempotency-Key`` / event id too: it is counted, not refused);
* :class:`BusSubscriber`: an aiomqtt client on the lab Mosquitto subscribed to ``{prefix}/#``
  (QoS 1) that validates every message against ``hotline/ticketing/schema/events.schema.json``;
* :func:`outbox_counts`: delivered / pending / dead per enabled sink of the ticketing outbox.

Both watchers count per event type (``by_type``), count duplicates by ``event_id`` (the ids are kept
in a bounded set: the oldest forgotten past ``max_ids``), and keep at most ``max_errors`` examples
of what they refused. ``wait_for(n, timeout_s)`` waits (on an event, not a sleep loop) until ``n``
valid events have arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web
import aiomqtt
import jsonschema

from hotline.ticketing.bus import settle_disconnect
from hotline.ticketing.errors import SignatureError
from hotline.ticketing.settings import TicketingSettings
from hotline.ticketing.signature import DEFAULT_TOLERANCE_S, SIGNATURE_HEADER, verify

log = logging.getLogger("hotline_lab.sim.sinks")

#: The bus message schema (``hotline/ticketing/schema/events.schema.json``).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "hotline" / "ticketing" / "schema" / "events.schema.json"


class _Tally:
    """Counts per type, duplicates by event id (bounded), refused examples (bounded); wakes waiters."""

    def __init__(self, max_ids: int, max_errors: int) -> None:
        self.by_type: Counter[str] = Counter()
        self.duplicates = 0
        self.errors: deque[str] = deque(maxlen=max_errors)
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._max_ids = max_ids
        self._changed = asyncio.Event()

    @property
    def received(self) -> int:
        """Valid events received, duplicates included."""
        return sum(self.by_type.values())

    def seen(self, event_id: str, kind: str) -> None:
        self.by_type[kind] += 1
        if event_id in self._ids:
            self.duplicates += 1
            self._ids.move_to_end(event_id)
        else:
            self._ids[event_id] = None
            while len(self._ids) > self._max_ids:
                self._ids.popitem(last=False)
        self._changed.set()

    def refused(self, why: str) -> None:
        self.errors.append(why[:300])
        self._changed.set()

    async def wait_for(self, count: int, timeout_s: float) -> int:
        """Wait until ``count`` valid events arrived; returns how many did.

        Raises:
            TimeoutError: fewer within ``timeout_s`` seconds.
        """
        async with asyncio.timeout(timeout_s):
            while self.received < count:
                self._changed.clear()
                await self._changed.wait()
        return self.received


class WebhookReceiver:
    """A receiver of the signed webhook sink on ``127.0.0.1`` (a free port unless ``port`` is given).

    Args:
        secret: the shared secret (``ticketing.webhook.secret``).
        host: the address to bind (loopback).
        port: 0 for a free port.
        path: the URL path it answers on.
        tolerance_s: allowed ``|now - t|`` of the signature, seconds.
        max_ids: event ids kept for duplicate counting.
        max_errors: refused-request examples kept.
        clock: epoch seconds (the signature's age).

    Attributes:
        by_type: ``Counter`` of valid events per kind (body ``kind``).
        bad_signatures: requests refused with 401 (missing, mismatched or expired signature).
        bad_bodies: signed requests refused with 400 (not JSON, no ``event_id`` / ``kind``).
        duplicates: valid events whose ``event_id`` was already seen (at-least-once redeliveries).
        errors: the last refused requests, why.
    """

    #: the outbox sink it checks (:class:`hotline_lab.demo.SinkCheck`)
    sink: str = "webhook"

    def __init__(self, secret: str, *, host: str = "127.0.0.1", port: int = 0, path: str = "/hotline/hook",
                 tolerance_s: float = DEFAULT_TOLERANCE_S, max_ids: int = 100_000, max_errors: int = 20,
                 clock: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.host = host
        self.port = port
        self.path = path
        self.tolerance_s = tolerance_s
        self.clock = clock
        self.bad_signatures = 0
        self.bad_bodies = 0
        self._tally = _Tally(max_ids, max_errors)
        self._runner: aiohttp.web.AppRunner | None = None

    by_type = property(lambda self: self._tally.by_type)
    duplicates = property(lambda self: self._tally.duplicates)
    errors = property(lambda self: self._tally.errors)
    received = property(lambda self: self._tally.received)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/hotline/hook`` (the port is known after :meth:`start`)."""
        return f"http://{self.host}:{self.port}{self.path}"

    async def start(self) -> None:
        """Bind and serve (the port is picked by the OS when 0).

        Raises:
            OSError: the address could not be bound.
        """
        if self._runner is not None:
            return
        app = aiohttp.web.Application()
        app.router.add_post(self.path, self._handle)
        runner = aiohttp.web.AppRunner(app, access_log=None)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop serving (at most a few seconds)."""
        if self._runner is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout_s: float) -> int:
        """See :meth:`_Tally.wait_for`."""
        return await self._tally.wait_for(count, timeout_s)

    def counts(self) -> dict[str, int]:
        """``{"received", "bad", "duplicates"}``: valid events (duplicates included), requests refused (bad
        signature or body), redelivered event ids."""
        return {"received": self.received, "bad": self.bad_signatures + self.bad_bodies,
                "duplicates": self.duplicates}

    async def _handle(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        body = await request.read()
        try:
            verify(self.secret, request.headers.get(SIGNATURE_HEADER), body, self.clock(), self.tolerance_s)
        except SignatureError as exc:
            self.bad_signatures += 1
            self._tally.refused(f"{type(exc).__name__}: {exc}")
            return aiohttp.web.json_response({"error": type(exc).__name__}, status=401)
        try:
            doc = json.loads(body)
            event_id, kind = str(doc["event_id"]), str(doc["kind"])
        except (ValueError, KeyError, TypeError) as exc:
            self.bad_bodies += 1
            self._tally.refused(f"bad body: {exc!r}")
            return aiohttp.web.json_response({"error": "bad body"}, status=400)
        self._tally.seen(event_id, kind)
        return aiohttp.web.json_response({"ok": True})


class BusSubscriber:
    """A subscriber of the MQTT bus that validates every message (QoS 1, clean session).

    Args:
        host, port: the broker (the lab Mosquitto: 127.0.0.1:1883).
        topic_prefix: subscribes to ``{topic_prefix}/#`` (``ticketing.mqtt.topic_prefix``).
        schema_path: the JSON schema of a message body.
        client_id: MQTT client id (default: a unique one).
        connect_timeout_s: budget of connect + SUBACK, seconds.
        max_ids, max_errors: see :class:`WebhookReceiver`.

    Attributes:
        by_type: ``Counter`` of valid messages per ``type``.
        invalid: messages that are not JSON or fail the schema.
        duplicates: valid messages whose ``event_id`` was already seen.
        errors: the last invalid messages, why (topic and the schema's message).
        topics: ``Counter`` of the first two topic levels (``hotline/calls``...), valid or not.
    """

    #: the outbox sink it checks (:class:`hotline_lab.demo.SinkCheck`)
    sink: str = "mqtt"

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, *, topic_prefix: str = "hotline",
                 schema_path: Path = SCHEMA_PATH, client_id: str | None = None, connect_timeout_s: float = 10.0,
                 max_ids: int = 100_000, max_errors: int = 20) -> None:
        self.host = host
        self.port = port
        self.topic_prefix = topic_prefix.rstrip("/")
        self.client_id = client_id or f"hotline-sim-{uuid.uuid4().hex[:10]}"
        self.connect_timeout_s = connect_timeout_s
        self.invalid = 0
        self.topics: Counter[str] = Counter()
        self._validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))
        self._tally = _Tally(max_ids, max_errors)
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    by_type = property(lambda self: self._tally.by_type)
    duplicates = property(lambda self: self._tally.duplicates)
    errors = property(lambda self: self._tally.errors)
    received = property(lambda self: self._tally.received)

    async def start(self) -> None:
        """Connect and subscribe; returns once the broker acknowledged the subscription.

        Raises:
            aiomqtt.MqttError: the broker refused or is unreachable.
            TimeoutError: no connection or SUBACK within ``connect_timeout_s``.
        """
        if self._client is not None:
            return
        client = aiomqtt.Client(self.host, self.port, identifier=self.client_id, clean_session=True,
                                timeout=self.connect_timeout_s)
        async with asyncio.timeout(self.connect_timeout_s):
            await client.__aenter__()
            try:
                await client.subscribe(f"{self.topic_prefix}/#", qos=1)
            except BaseException:
                await client.__aexit__(None, None, None)
                raise
        self._client = client
        self._task = asyncio.create_task(self._read(client), name="bus-subscriber")

    async def stop(self) -> None:
        """Stop reading and disconnect (at most a few seconds)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._client.__aexit__(None, None, None)
            settle_disconnect(self._client)
            self._client = None

    async def wait_for(self, count: int, timeout_s: float) -> int:
        """See :meth:`_Tally.wait_for`."""
        return await self._tally.wait_for(count, timeout_s)

    def counts(self) -> dict[str, int]:
        """``{"received", "bad", "duplicates"}``: valid messages (duplicates included), messages that are not
        JSON or fail the schema, redelivered event ids."""
        return {"received": self.received, "bad": self.invalid, "duplicates": self.duplicates}

    def check(self, topic: str, payload: bytes) -> None:
        """Validate and count one message (what the reader does with each)."""
        self.topics["/".join(topic.split("/")[:2])] += 1
        try:
            doc: Any = json.loads(payload)
            self._validator.validate(doc)
        except (ValueError, jsonschema.ValidationError) as exc:
            self.invalid += 1
            reason = exc.message if isinstance(exc, jsonschema.ValidationError) else repr(exc)
            self._tally.refused(f"{topic}: {reason}")
            return
        self._tally.seen(str(doc["event_id"]), str(doc["type"]))

    async def _read(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                payload = message.payload if isinstance(message.payload, bytes | bytearray) else b""
                self.check(str(message.topic), bytes(payload))
        except aiomqtt.MqttError as exc:
            log.warning("bus subscriber lost the broker: %s", exc)
        finally:
            settle_disconnect(client)


@dataclass(frozen=True, slots=True)
class SinkCounts:
    """One sink's outbox figures.

    Attributes:
        sink: the sink name (``rt``, ``webhook``, ``mqtt``).
        delivered: entries delivered and acknowledged (the outbox's ``:delivered`` counter).
        pending: entries not delivered yet: unread by the sink's group plus read and not acknowledged.
        dead: entries in the dead-letter stream.
    """

    sink: str
    delivered: int
    pending: int
    dead: int


async def outbox_counts(settings: TicketingSettings, redis_url: str) -> dict[str, SinkCounts]:
    """Delivered / pending / dead per enabled sink of the outbox, read from Redis.

    Args:
        settings: the ``ticketing:`` section (outbox prefix, enabled sinks).
        redis_url: ``settings.redis_url`` or the top-level ``redis.url``.
    Raises:
        ticketing.errors.OutboxUnavailable: Redis failed or did not answer in time.
    """
    from hotline.ticketing.outbox import RedisOutbox, connect

    redis = connect(settings.redis_url or redis_url)
    try:
        outbox = RedisOutbox(redis, settings.routes(), prefix=settings.outbox.prefix)
        out: dict[str, SinkCounts] = {}
        for sink in settings.enabled_sinks():
            s = await outbox.status(sink, time.time())
            out[sink] = SinkCounts(sink, s.delivered, (s.lag or 0) + s.pending, s.dead)
        return out
    finally:
        await redis.aclose()
