"""The SLA monitor: raises yellow (near due) and red (overdue) cards on open work orders.

Where due dates come from: a **local index** kept when work orders are created, not RT. The index
(a Redis hash, ``hotline:ticketing:workorders``: field = linkedid, value =
:class:`hotline.ticketing.workorders.WorkOrderRecord` JSON) is written in the same MULTI/EXEC as the
``work_order.created`` outbox entry, so it exists even while RT is down, costs no HTTP request per
sweep, and works with the webhook sink alone. RT is asked only about work orders that would get a
card now (``closed_probe``: is the ticket resolved/rejected?); closed ones leave the index.

Each sweep (every ``interval_s``) computes the cards with :func:`hotline.ticketing.workorders.card_changes`
(pure; thresholds from :func:`hotline.ticketing.sla.card_for`) and, for every card that went up:

* enqueues a ``work_order.card`` event in the outbox (MQTT ``hotline/workorders/{id}/events``, the
  webhook), atomically with the index update, and with an id that carries the level, so a card is
  announced once even across restarts;
* hands each card event to its subscribers (:meth:`SlaMonitor.subscribe_cards`; the department reminders
  of the callbacks plug in here; sync or async, each given ``hook_timeout_s``; failures are logged, never retried);
* keeps the card in the hash ``hotline:ticketing:cards`` (field = linkedid, value = the event
  payload JSON): what the wallboard reads (:meth:`WorkOrderIndex.cards`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from redis.asyncio import Redis

from hotline.kernel.background import BackgroundTask, periodically
from hotline.kernel.subscribers import AsyncSubscribers
from hotline.ticketing.connector import OutboxEvent
from hotline.ticketing.errors import OutboxUnavailable, TicketingError
from hotline.ticketing.outbox import CALL_TIMEOUT_S, PipelineStep, RedisOutbox, redis_call
from hotline.ticketing.rt import FIELD_LINKEDID, RtClient
from hotline.ticketing.sla import DEFAULT_POLICY, SlaPolicy, card_for
from hotline.ticketing.workorders import CardChange, WorkOrderRecord, card_changes, card_event

log = logging.getLogger("hotline.sla")

CardHook = Callable[[OutboxEvent], Awaitable[None] | None]
ClosedProbe = Callable[[Sequence[str]], Awaitable[set[str]]]

#: RT statuses of a work order that needs no card any more.
CLOSED_STATUSES = frozenset({"resolved", "rejected", "deleted"})


class WorkOrderIndex:
    """Open work orders and their current cards, in Redis.

    Args:
        redis: a client with ``decode_responses=True``.
        key: hash of :class:`WorkOrderRecord` by linkedid.
        cards_key: hash of current cards by linkedid (the wallboard's view).
        call_timeout_s: budget of one Redis call, seconds.
    """

    def __init__(
        self,
        redis: Redis,
        key: str = "hotline:ticketing:workorders",
        cards_key: str = "hotline:ticketing:cards",
        *,
        call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        self.redis = redis
        self.key = key
        self.cards_key = cards_key
        self.call_timeout_s = call_timeout_s

    def add_step(self, record: WorkOrderRecord) -> PipelineStep:
        """A pipeline step that indexes a new work order (unless already indexed: HSETNX)."""
        return lambda pipe: pipe.hsetnx(self.key, record.work_order_id, record.to_json())

    def card_step(self, change: CardChange, event: OutboxEvent) -> PipelineStep:
        """A pipeline step that records a raised card in the index and the wallboard hash."""
        record = change.record
        updated = WorkOrderRecord(record.work_order_id, record.queue, record.call_type, record.received,
                                  record.due, change.card)
        card_doc = json.dumps(dict(event.payload), ensure_ascii=False, separators=(",", ":"))

        def step(pipe: Any) -> None:
            pipe.hset(self.key, record.work_order_id, updated.to_json())
            pipe.hset(self.cards_key, record.work_order_id, card_doc)

        return step

    async def has(self, linkedid: str) -> bool:
        return bool(await redis_call("HEXISTS", self.redis.hexists(self.key, linkedid), self.call_timeout_s))

    async def get(self, linkedid: str) -> WorkOrderRecord | None:
        raw = await redis_call("HGET", self.redis.hget(self.key, linkedid), self.call_timeout_s)
        return WorkOrderRecord.from_json(raw) if raw else None

    async def records(self, limit: int = 100_000) -> list[WorkOrderRecord]:
        """Every open work order (HSCAN, at most ``limit``); malformed entries are logged and skipped."""
        out: list[WorkOrderRecord] = []
        cursor = 0
        while True:
            cursor, page = await redis_call(
                "HSCAN", self.redis.hscan(self.key, cursor, count=1000), self.call_timeout_s
            )
            for linkedid, raw in cast("dict[str, str]", page).items():  # a dict (no NOVALUES)
                try:
                    out.append(WorkOrderRecord.from_json(raw))
                except (ValueError, KeyError) as exc:
                    log.warning("work-order index entry %s is malformed: %s", linkedid, exc)
            if cursor == 0 or len(out) >= limit:
                return out[:limit]

    async def close(self, linkedids: Sequence[str]) -> None:
        """Drop closed work orders from the index and the wallboard."""
        if linkedids:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hdel(self.key, *linkedids)
            pipe.hdel(self.cards_key, *linkedids)
            await redis_call("HDEL", pipe.execute(), self.call_timeout_s)

    async def cards(self) -> list[dict[str, Any]]:
        """Current cards for the wallboard: ``work_order.card`` payloads, reddest and most overdue first."""
        raw = await redis_call("HGETALL", self.redis.hgetall(self.cards_key), self.call_timeout_s)
        cards = [json.loads(v) for v in raw.values()]
        return sorted(cards, key=lambda c: (c.get("card") != "red", -float(c.get("overdue_s", 0))))


def rt_closed_probe(client: RtClient) -> ClosedProbe:
    """A ``closed_probe`` that asks RT for the status of each work order's ticket.

    A work order with no ticket yet (RT down, or the outbox still behind) counts as open.
    Raises nothing: RT errors are logged and the work orders are taken as open.
    """

    async def probe(linkedids: Sequence[str]) -> set[str]:
        closed: set[str] = set()
        for linkedid in linkedids:
            try:
                ticket_id = await client.find_ticket_id(FIELD_LINKEDID, linkedid)
                if ticket_id is None:
                    continue
                ticket = await client.get_ticket(ticket_id)
            except TicketingError as exc:
                log.info("SLA monitor: cannot ask RT about %s: %s", linkedid, exc)
                return closed
            if str(ticket.get("Status", "")).lower() in CLOSED_STATUSES:
                closed.add(linkedid)
        return closed

    return probe


class SlaMonitor:
    """Periodic sweep of the index (see the module docstring).

    Args:
        index: the work-order index.
        outbox: where card events go (routes decide the sinks).
        policy: card thresholds.
        interval_s: seconds between sweeps.
        hook: a first card subscriber (see :meth:`subscribe_cards`), or None.
        hook_timeout_s: budget of one subscriber call, seconds.
        closed_probe: tells which work orders are closed (e.g. :func:`rt_closed_probe`).
        clock: epoch seconds.
    """

    def __init__(
        self,
        index: WorkOrderIndex,
        outbox: RedisOutbox,
        *,
        policy: SlaPolicy = DEFAULT_POLICY,
        interval_s: float = 60.0,
        hook: CardHook | None = None,
        hook_timeout_s: float = 5.0,
        closed_probe: ClosedProbe | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.index = index
        self.outbox = outbox
        self.policy = policy
        self.interval_s = interval_s
        self.hook_timeout_s = hook_timeout_s
        self.cards: AsyncSubscribers[OutboxEvent] = AsyncSubscribers("SLA card", hook_timeout_s, _event_id)
        if hook is not None:
            self.cards.subscribe(hook)
        self.closed_probe = closed_probe
        self.clock = clock
        self.sweeps = 0
        self._bg = BackgroundTask("sla-monitor")
        self._stop = self._bg.stopping

    def subscribe_cards(self, fn: CardHook) -> None:
        """``fn(event)`` (sync or async) for each SLA card event raised (``sla.card.*`` outbox events), after
        it is in the outbox; in subscription order, each within ``hook_timeout_s``; a failure is logged,
        never retried, and does not stop the others (the department reminders of the callbacks plug in here)."""
        self.cards.subscribe(fn)

    async def sweep(self, now: float | None = None) -> list[OutboxEvent]:
        """One pass: close what RT says is closed, raise the cards that went up.

        Args:
            now: epoch seconds (default: the clock).
        Returns:
            The card events raised in this pass.
        Raises:
            OutboxUnavailable: Redis failed (the next sweep tries again; nothing is half-done:
                each card's event and index update are one transaction).
        """
        at = dt.datetime.fromtimestamp(self.clock() if now is None else now, dt.UTC)
        records = await self.index.records()
        if self.closed_probe is not None:
            candidates = [r.work_order_id for r in records if card_for(r.clock(), at, self.policy) is not None]
            closed = await self.closed_probe(candidates) if candidates else set()
            if closed:
                await self.index.close(sorted(closed))
                records = [r for r in records if r.work_order_id not in closed]
        raised: list[OutboxEvent] = []
        for change in card_changes(records, at, self.policy):
            event = card_event(change, at)
            await self.outbox.enqueue(event, also=[self.index.card_step(change, event)])
            raised.append(event)
            log.info("SLA card %s on work order %s (queue %s, due %s)", change.card,
                     change.record.work_order_id, change.record.queue, change.record.due)
            await self.cards.publish(event)
        self.sweeps += 1
        return raised

    async def start(self) -> None:
        """Start the task (returns at once; idempotent)."""
        self._bg.start(self._run)

    async def stop(self) -> None:
        """Ask the task to stop, cancel it and wait for it to end (idempotent)."""
        await self._bg.stop()

    async def _run(self) -> None:
        await periodically(self.sweep, self.interval_s, self._stop, what="SLA monitor", expected=(OutboxUnavailable,),
                           logger=log)


def _event_id(event: OutboxEvent) -> str:
    return f"event_id={event.event_id}"
