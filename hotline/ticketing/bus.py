"""The MQTT event bus: a sink of the outbox that publishes hotline events with QoS 1 (aiomqtt >= 2).

Topic tree (details and the JSON envelope in :mod:`hotline.ticketing.topics`; the JSON Schema of the
bodies is ``hotline/ticketing/schema/events.schema.json``)::

    hotline/calls/{linkedid}/events          call.started | call.leg_added | call.leg_ended | call.ended
    hotline/queues/{queue}/stats             queue.stats              (retained)
    hotline/agents/{agent_id}/state          agent.state              (retained)
    hotline/workorders/{work_order_id}/events
                                             work_order.created | .transcript | .updated | .card

    body: {"event_id": ..., "type": ..., "at": <epoch s>, "linkedid": ..., "data": {...}}

How nothing is lost: events reach this class only through the outbox (sink ``mqtt``), which
acknowledges an entry only after :meth:`MqttBus.deliver` returned, i.e. after the broker's PUBACK.
While the broker is down ``deliver`` raises :class:`hotline.ticketing.errors.BusUnavailable` (an outage:
the outbox pauses and keeps the entries); after a broker restart they are published again.
Delivery is at-least-once: a subscriber that must see each event once drops repeated
``event_id`` values. Subscribers that must not miss events while *they* are offline use a
persistent session (``clean_session=False``, a fixed client id, QoS 1 subscriptions).

Connection: a task keeps one connection; every attempt builds a fresh :class:`aiomqtt.Client`
(aiomqtt clients are not meant to be reconnected) and failed attempts back off exponentially from
``backoff_min_s`` to ``backoff_max_s``. A dead TCP connection is noticed by MQTT keepalive.
Publishing never blocks the AMI pump: the pump only appends to the outbox writer's buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid

import aiomqtt

from hotline.kernel.background import BackgroundTask
from hotline.ticketing.connector import OutboxEvent
from hotline.ticketing.delivery import RetryPolicy, backoff_s
from hotline.ticketing.errors import BusUnavailable, UnknownEventKind
from hotline.ticketing.topics import NoTopic, message_body, route_for

log = logging.getLogger("hotline.bus")

QOS = 1


def settle_disconnect(client: aiomqtt.Client) -> None:
    """Mark an ended client's disconnect outcome as seen.

    aiomqtt (2.x) sets an ``MqttCodeError("Unexpected disconnection")`` on the client's private
    ``_disconnected`` future when the broker drops it; ``__aexit__`` returns early without reading
    it, and asyncio then logs "Future exception was never retrieved" at ERROR when the future is
    collected. The drop itself was already handled (logged once, reconnect with backoff), so the
    outcome is read here and dropped.
    """
    fut = getattr(client, "_disconnected", None)
    if isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled():
        fut.exception()


class MqttBus:
    """A :class:`hotline.ticketing.connector.Connector` (name ``mqtt``) publishing to one broker.

    Args:
        host: broker host.
        port: broker port.
        prefix: first topic level.
        client_id: MQTT client id (default ``hotline-<random>``).
        username: optional broker user.
        password: optional broker password.
        keepalive_s: MQTT keepalive, seconds (a silent broker is noticed within 1.5 x this).
        connect_timeout_s: budget of one connection attempt (TCP + CONNACK), seconds.
        publish_timeout_s: budget of one publish until PUBACK, seconds.
        backoff_min_s: first reconnect delay, seconds.
        backoff_max_s: longest reconnect delay, seconds.
        name: sink name in the outbox.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        prefix: str = "hotline",
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 10,
        connect_timeout_s: float = 5.0,
        publish_timeout_s: float = 5.0,
        backoff_min_s: float = 0.2,
        backoff_max_s: float = 30.0,
        name: str = "mqtt",
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.prefix = prefix
        self.client_id = client_id or f"hotline-{uuid.uuid4().hex[:12]}"
        self.username = username
        self.password = password
        self.keepalive_s = keepalive_s
        self.connect_timeout_s = connect_timeout_s
        self.publish_timeout_s = publish_timeout_s
        self._backoff = RetryPolicy(base_s=backoff_min_s, cap_s=max(backoff_min_s, backoff_max_s))
        self.connections = 0
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._bg = BackgroundTask("mqtt-bus")
        self._stop = self._bg.stopping

    @property
    def broker(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout_s: float) -> None:
        """Wait until connected.

        Raises:
            BusUnavailable: not connected within ``timeout_s``.
        """
        try:
            async with asyncio.timeout(timeout_s):
                await self._connected.wait()
        except TimeoutError as exc:
            raise BusUnavailable(self.broker, f"not connected within {timeout_s:.1f}s") from exc

    async def wait_ready(self) -> None:
        """Return once connected (unbounded: the outbox calls it under its own timeout)."""
        await self._connected.wait()

    async def deliver(self, event: OutboxEvent) -> None:
        """Publish one event (QoS 1, retained for agent state and queue stats) and wait for PUBACK.

        Raises:
            BusUnavailable: not connected, or no PUBACK within ``publish_timeout_s`` (an outage).
            UnknownEventKind: the kind has no topic (dead-lettered by the outbox).
        """
        try:
            route = route_for(event, self.prefix)
        except NoTopic as exc:
            raise UnknownEventKind(event.kind) from exc
        client = self._client
        if client is None or not self._connected.is_set():
            raise BusUnavailable(self.broker, "not connected")
        try:
            await client.publish(
                route.topic, message_body(event), qos=QOS, retain=route.retain, timeout=self.publish_timeout_s
            )
        except aiomqtt.MqttError as exc:
            raise BusUnavailable(self.broker, f"publish to {route.topic}: {exc}") from exc

    async def start(self) -> None:
        """Start the task (returns at once; idempotent)."""
        self._bg.start(self._run)

    async def stop(self) -> None:
        """Ask the task to stop, cancel it and wait for it to end (idempotent)."""
        await self._bg.stop()

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            client = aiomqtt.Client(  # a fresh client per attempt
                self.host, self.port, identifier=self.client_id, username=self.username,
                password=self.password, keepalive=self.keepalive_s, timeout=self.connect_timeout_s,
                clean_session=True,
            )
            try:
                async with client:
                    self._client = client
                    self._connected.set()
                    self.connections += 1
                    failures = 0
                    log.info("MQTT connected to %s as %s", self.broker, self.client_id)
                    # Nothing is subscribed: the iterator only ends (MqttError) when the connection drops.
                    async for _ in client.messages:
                        pass
            except aiomqtt.MqttError as exc:
                if failures == 0:
                    log.warning("MQTT %s: %s", self.broker, exc)
            finally:
                self._connected.clear()
                self._client = None
                settle_disconnect(client)
            failures += 1
            delay = backoff_s(failures, self._backoff, random.random())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
