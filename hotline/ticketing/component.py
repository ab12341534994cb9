"""The ticketing components of the service: work orders from calls, transcripts, sinks, SLA monitor.

Built by :func:`hotline.ticketing.plugin.build_ticketing` from the ``ticketing:`` settings and wired into
:class:`hotline.app.service.Service` as one component (:class:`Ticketing`):

    CallTracker ──CallEnded──> WorkOrders ──submit──> OutboxWriter ──XADD──> hotline:outbox:{rt,webhook,mqtt}
    (call.* events too)                                   (+ index HSETNX, one MULTI)     │ one SinkWorker each
    speech: hotline:speech:transcripts:events ──> TranscriptFollower ──XADD──┘            v
    SlaMonitor (index sweep) ──work_order.card──> outbox + hook + wallboard hash   RtConnector / WebhookSink / MqttBus

Nothing here runs on the AMI pump but :meth:`WorkOrders.on_call_event`, which reads the call
model and appends to the writer's buffer (no I/O, no await unless the facts provider is async).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from hotline.kernel.background import BackgroundTask
from hotline.speech.jobs import JobOutcome
from hotline.telephony.calls import CallEnded, CallEvent
from hotline.telephony.tracker import CallTracker
from hotline.ticketing.bus import MqttBus
from hotline.ticketing.closed import ClosedWatcher
from hotline.ticketing.connector import Connector
from hotline.ticketing.delivery import RetryPolicy, backoff_s, entry_time_s
from hotline.ticketing.errors import OutboxUnavailable
from hotline.ticketing.monitor import SlaMonitor, WorkOrderIndex
from hotline.ticketing.outbox import OutboxWriter, RedisOutbox, SinkWorker, redis_call
from hotline.ticketing.settings import TicketingSettings
from hotline.ticketing.sla import DEFAULT_POLICY, SlaPolicy
from hotline.ticketing.workorders import (
    CallFacts,
    EndedCall,
    call_event,
    ended_call,
    merge_ended,
    record_of,
    transcript_action,
    transcript_event,
    work_order_created,
)

log = logging.getLogger("hotline.workorders")

FactsProvider = Callable[[str], CallFacts | Awaitable[CallFacts | None] | None]


class WorkOrders:
    """Turns call-model events into bus events and work orders (a :class:`CallTracker` subscriber).

    Args:
        tracker: the call tracker (its model is read when a call ends).
        writer: the outbox writer (non-blocking submit).
        index: the work-order index (written with the created event, atomically).
        facts: ``facts(linkedid) -> CallFacts | None`` from the IVR/routing engineers; keep it
            in-memory and sync (an async one is awaited on the AMI pump, capped at
            ``facts_timeout_s``, after which the defaults are used).
        publish_call_events: also send ``call.*`` events to the bus.
        default_queue, recording_url_template, first_seat, last_seat, policy: see
            :func:`hotline.ticketing.workorders.work_order_created` and :func:`hotline.ticketing.workorders.ended_call`.
        keep_unanswered: how many calls that ended without an agent are remembered (oldest
            forgotten first), in case Asterisk re-links their agent leg only at its hang-up
            (see :func:`hotline.ticketing.workorders.merge_ended`).

    Every kind of call event is accepted: those that are not ``CallEnded`` only become ``call.*``
    bus events (``call_event`` returns None for a kind it does not know: ignored, never raised on
    the AMI pump, where it would cost the other subscribers the rest of the batch).
    """

    def __init__(
        self,
        tracker: CallTracker,
        writer: OutboxWriter,
        index: WorkOrderIndex,
        *,
        facts: FactsProvider | None = None,
        facts_timeout_s: float = 0.5,
        publish_call_events: bool = True,
        default_queue: str = "general",
        recording_url_template: str | None = None,
        first_seat: int = 1001,
        last_seat: int = 1300,
        policy: SlaPolicy = DEFAULT_POLICY,
        keep_unanswered: int = 10_000,
    ) -> None:
        self.tracker = tracker
        self.writer = writer
        self.index = index
        self.facts = facts
        self.facts_timeout_s = facts_timeout_s
        self.publish_call_events = publish_call_events
        self.default_queue = default_queue
        self.recording_url_template = recording_url_template
        self.first_seat = first_seat
        self.last_seat = last_seat
        self.policy = policy
        self.created = 0
        self.keep_unanswered = keep_unanswered
        self._unanswered: OrderedDict[str, EndedCall] = OrderedDict()
        tracker.subscribe(self.on_call_event)

    def on_call_event(self, event: CallEvent) -> Awaitable[None] | None:
        """Called in pump order by the tracker; returns a coroutine only for an async facts provider."""
        if self.publish_call_events:
            bus_event = call_event(event)
            if bus_event is not None:
                self.writer.submit(bus_event)
        if not isinstance(event, CallEnded):
            return None
        if self.facts is None:
            self._create(event, None)
            return None
        facts = self.facts(event.linkedid)
        if inspect.isawaitable(facts):
            return self._create_after(event, facts)
        self._create(event, facts)
        return None

    async def _create_after(self, event: CallEnded, pending: Awaitable[CallFacts | None]) -> None:
        facts: CallFacts | None = None
        try:
            async with asyncio.timeout(self.facts_timeout_s):
                facts = await pending
        except Exception:  # a facts provider that fails must not lose the work order
            log.exception("facts provider failed for %s; using defaults", event.linkedid)
        self._create(event, facts)

    def _create(self, event: CallEnded, facts: CallFacts | None) -> None:
        call = self.tracker.model.calls.get(event.linkedid)
        if call is None:
            return
        ended = ended_call(call, self.first_seat, self.last_seat)
        earlier = self._unanswered.pop(event.linkedid, None)
        if earlier is not None:  # the agent leg was re-linked into this call after it had ended
            ended = merge_ended(earlier, ended)
        try:
            created = work_order_created(
                ended, facts,
                default_queue=self.default_queue, recording_url_template=self.recording_url_template,
                policy=self.policy,
            )
        except ValueError as exc:  # e.g. an unknown call type in the facts
            log.error("no work order for %s: %s", event.linkedid, exc)
            return
        if created is None:
            self._unanswered[event.linkedid] = ended
            while len(self._unanswered) > self.keep_unanswered:
                self._unanswered.popitem(last=False)
            return
        self.writer.submit(created, also=[self.index.add_step(record_of(created))])
        self.created += 1


class TranscriptFollower:
    """Reads the speech pipeline's announcements and enqueues ``work_order.transcript`` events.

    Source: the stream ``hotline:speech:transcripts:events`` (entries ``job_id``, ``linkedid``,
    ``status``, written once per stored outcome by :class:`hotline.speech.store.RedisTranscriptSink`),
    read with its own consumer group (``ticketing``) so that a restart resumes where it stopped;
    the transcript itself is ``HGET hotline:speech:transcripts <job_id>`` (:class:`JobOutcome` JSON).
    An announcement is XACKed only after its event is in the outbox. See
    :func:`hotline.ticketing.workorders.transcript_action` for calls without a work order.

    Args:
        redis: client with ``decode_responses=True``.
        outbox: where transcript events go.
        index: to know which calls have a work order.
        consumer: consumer name in the group.
        stream, results_hash, group: the speech keys.
        grace_s: how long an announcement waits for its call's work order.
        block_ms: XREADGROUP BLOCK, milliseconds.
        clock: epoch seconds.
    """

    def __init__(
        self,
        redis: Redis,
        outbox: RedisOutbox,
        index: WorkOrderIndex,
        consumer: str,
        *,
        stream: str,
        results_hash: str,
        group: str = "ticketing",
        grace_s: float = 120.0,
        block_ms: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.outbox = outbox
        self.index = index
        self.consumer = consumer
        self.stream = stream
        self.results_hash = results_hash
        self.group = group
        self.grace_s = grace_s
        self.block_ms = block_ms
        self.clock = clock
        self.emitted = 0
        self._waiting: set[str] = set()
        self._bg = BackgroundTask("transcript-follower")
        self._stop = self._bg.stopping

    async def _ensure_group(self) -> None:
        try:
            await redis_call("XGROUP CREATE", self.redis.xgroup_create(self.stream, self.group, id="0",
                                                                        mkstream=True), 5.0)
        except OutboxUnavailable as exc:
            if not (isinstance(exc.__cause__, ResponseError) and "BUSYGROUP" in str(exc.__cause__)):
                raise

    async def _read(self, start: str, block_ms: int | None) -> list[tuple[str, dict[str, str]]]:
        reply = cast("list[list[Any]] | None", await redis_call(  # RESP2: [[stream, [(id, fields), ...]]]
            "XREADGROUP",
            self.redis.xreadgroup(self.group, self.consumer, {self.stream: start}, count=50, block=block_ms),
            5.0 + (block_ms or 0) / 1000.0,
        ))
        return [(str(eid), dict(fields or {})) for _s, entries in reply or [] for eid, fields in entries]

    async def poll(self, block_ms: int | None = None) -> int:
        """One pass: re-check waiting announcements, then read new ones. Returns events emitted."""
        await self._ensure_group()
        before = self.emitted
        pending = await self._read("0", None)
        for entry_id, fields in pending:
            await self._handle(entry_id, fields)
        new = await self._read(">", self.block_ms if block_ms is None else block_ms)
        for entry_id, fields in new:
            await self._handle(entry_id, fields)
        return self.emitted - before

    async def _handle(self, entry_id: str, fields: dict[str, str]) -> None:
        if not fields:  # trimmed away
            await redis_call("XACK", self.redis.xack(self.stream, self.group, entry_id), 5.0)
            return
        linkedid = fields.get("linkedid", "")
        indexed = bool(linkedid) and await self.index.has(linkedid)
        age_s = self.clock() - entry_time_s(entry_id)
        action = transcript_action(fields.get("status", ""), indexed, age_s, self.grace_s)
        if action == "wait":
            self._waiting.add(entry_id)
            return
        self._waiting.discard(entry_id)
        if action == "emit":
            raw = await redis_call("HGET", self.redis.hget(self.results_hash, fields["job_id"]), 5.0)
            outcome = JobOutcome.from_json(raw) if raw else None
            if outcome is not None and outcome.transcript is not None:
                record = await self.index.get(linkedid)
                event = transcript_event(linkedid, outcome.job_id, outcome.transcript.text, outcome.finished_at,
                                         no_speech=outcome.transcript.no_speech, work_order=record)
                await self.outbox.enqueue(event)
                self.emitted += 1
        elif linkedid:
            log.info("transcript %s of %s: no work order, not sent", fields.get("job_id"), linkedid)
        await redis_call("XACK", self.redis.xack(self.stream, self.group, entry_id), 5.0)

    async def start(self) -> None:
        """Start the task (returns at once; idempotent)."""
        self._bg.start(self._run)

    async def stop(self) -> None:
        """Ask the task to stop, cancel it and wait for it to end (idempotent)."""
        await self._bg.stop()

    async def _run(self) -> None:
        failures = 0
        policy = RetryPolicy(base_s=0.5, cap_s=30.0)
        while not self._stop.is_set():
            try:
                await self.poll()
                failures = 0
            except OutboxUnavailable as exc:
                failures += 1
                log.warning("transcript follower: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=backoff_s(failures, policy))


class Ticketing:
    """The service component: everything above, started and stopped together.

    Build it with :func:`build`. Attributes are the parts (``outbox``, ``writer``, ``workers``,
    ``work_orders``, ``transcripts``, ``monitor``, ``bus``), exposed for the CLI, tests and
    the wallboard (``index.cards()``).
    """

    def __init__(self, settings: TicketingSettings, redis: Redis, outbox: RedisOutbox, writer: OutboxWriter,
                 index: WorkOrderIndex, work_orders: WorkOrders, transcripts: TranscriptFollower,
                 monitor: SlaMonitor | None, connectors: dict[str, Callable[[aiohttp.ClientSession], Connector]],
                 bus: MqttBus | None) -> None:
        self.settings = settings
        self.redis = redis
        self.outbox = outbox
        self.writer = writer
        self.index = index
        self.work_orders = work_orders
        self.transcripts = transcripts
        self.monitor = monitor
        self.bus = bus
        self.workers: list[SinkWorker] = []
        #: resolved work orders announced in-process (hotline/ticketing/closed.py; with the RT sink only)
        self.closed: ClosedWatcher | None = None
        self._connector_factories = connectors
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start the bus connection, one delivery loop per sink, the writer, the follower, the monitor."""
        s = self.settings
        self._http = aiohttp.ClientSession()
        policy = RetryPolicy(max_attempts=s.outbox.max_attempts, base_s=s.outbox.backoff_min_s,
                             cap_s=max(s.outbox.backoff_min_s, s.outbox.backoff_max_s))
        if self.bus is not None:
            await self.bus.start()
        for make in self._connector_factories.values():
            worker = SinkWorker(self.outbox, make(self._http), s.outbox.consumer, policy=policy,
                                deliver_timeout_s=s.outbox.deliver_timeout_s,
                                claim_idle_ms=int(s.outbox.claim_idle_s * 1000),
                                parallel_calls=s.outbox.parallel_calls)
            self.workers.append(worker)
            await worker.start()
        await self.writer.start()
        await self.transcripts.start()
        if self.monitor is not None:
            await self.monitor.start()
        if self.closed is not None:
            await self.closed.start()

    async def stop(self) -> None:
        """Stop in reverse order; the writer gets a few seconds to flush its buffer to Redis."""
        if self.closed is not None:
            await self.closed.stop()
        if self.monitor is not None:
            await self.monitor.stop()
        await self.transcripts.stop()
        await self.writer.stop(flush_timeout_s=5.0)
        for worker in reversed(self.workers):
            await worker.stop()
        self.workers.clear()
        if self.bus is not None:
            await self.bus.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.redis.aclose()
