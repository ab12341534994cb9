"""The callbacks component of ``hotline run``: the dialler plus its wiring to routing and ticketing.

Built by :func:`build_callbacks` (called from :mod:`hotline.app.service`):

* store: Redis at ``redis.url`` under ``callbacks.key_prefix``;
* ``publish``: the ticketing component's outbox (``RedisOutbox.enqueue``): satisfaction results go
  to the work order as ``work_order.updated`` events; without ticketing they are only counted;
* the SLA monitor's card hook is set to :meth:`Dialler.on_sla_card` (department deadline calls);
* keep-my-place: ``waiting_calls`` is the routing dispatcher's waiting list and ``connect`` hands the
  answered citizen to routing (``enqueue`` of a :class:`hotline.queues.handover.QueueRequest` with the
  caller's priority + ``callback_priority_boost``), so the next free agent takes them;
  with ``callback_mode: agent_first`` a Local placeholder is queued instead and the citizen is dialled
  once routing's ``call_answered_hook`` says an agent answered (:mod:`hotline.callbacks.agentfirst`);
  :meth:`CallbacksComponent.accept_callback` is what the IVR/routing calls when a caller accepts
  the callback offer (``OfferCallback``): it stores the request and tells routing
  ``CallbackRequested`` (counted as a callback, not an abandon).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from hotline.callbacks.api import CallbacksApi
from hotline.callbacks.dialler import Answered, Connect, Dialler
from hotline.callbacks.errors import InvalidNumber
from hotline.callbacks.keepplace import CallbackRequest, RequestStatus, close
from hotline.callbacks.numbers import normalise_number
from hotline.callbacks.offering import CallbackOffers
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore, open_store
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.queues.events import CallbackRequested
from hotline.queues.exceptions import CallNotQueued
from hotline.queues.handover import QueueRequest
from hotline.telephony.ami import AmiClient

log = logging.getLogger("hotline.callbacks")


class CallbacksComponent:
    """``start``/``stop`` for the service; ``api`` for the web app; ``accept_callback`` for the IVR."""

    def __init__(self, dialler: Dialler, store: CallbackStore, settings: CallbacksSettings,
                 callback_requested: Callable[[CallbackRequested], Awaitable[None]] | None = None,
                 clock: Callable[[], float] = time.time, offers: CallbackOffers | None = None) -> None:
        self.dialler = dialler
        self.offers = offers  # the callback offer to waiting callers (set by build_callbacks)
        self.store = store
        self.settings = settings
        self.api = CallbacksApi(store, settings, clock, calendar=dialler.policy.calendar)  # one calendar
        self.callback_requested = callback_requested
        self.clock = clock

    async def start(self) -> None:
        await self.dialler.start()
        if self.offers is not None:
            await self.offers.start()

    async def stop(self) -> None:
        if self.offers is not None:
            await self.offers.stop()
        await self.dialler.stop()
        await self.store.close()

    async def accept_callback(self, linkedid: str, number: str, queue: str, *, enqueued_at: float | None = None,
                              priority: int = 0, skills: Iterable[str] = (), language: str = "zh"
                              ) -> tuple[CallbackRequest, bool]:
        """A waiting caller accepted a keep-my-place callback.

        Args:
            linkedid: the call (AMI ``Linkedid``); the request id is ``cb-<linkedid>``.
            number: the calling number or one the caller keyed in (validated, normalised).
            enqueued_at: epoch s the caller first queued (their place); default now.
        Returns:
            ``(request, created)``: the pending request of this number and queue if there is one.
        Raises:
            callbacks.errors.InvalidNumber: not a mainland number (ask the caller again).
            queues.exceptions.CallNotQueued: routing no longer holds the call (an agent answered it
                meanwhile); the request just stored is cancelled.
        """
        now = self.clock()
        request = CallbackRequest(request_id=f"cb-{linkedid}", number=normalise_number(number), queue=queue,
                                  linkedid=linkedid, enqueued_at=enqueued_at if enqueued_at is not None else now,
                                  requested_at=now, priority=priority, skills=tuple(skills), language=language,
                                  mode=self.settings.callback_mode)
        stored, created = await self.dialler.request_callback(request)
        if self.callback_requested is not None:
            try:
                await self.callback_requested(CallbackRequested(linkedid, now))
            except CallNotQueued:
                if not created and stored.linkedid == linkedid:
                    return stored, created  # the same acceptance again: the call already left its queue
                if created:  # an agent answered the call meanwhile: no callback after all
                    await self.store.save_request(close(stored, RequestStatus.CANCELLED, self.clock(),
                                                        "answered before the acceptance"))
                raise
        return stored, created

    async def on_work_order_closed(self, closed: Any) -> None:
        """Subscriber of the ticketing side's work-order-closed events
        (:class:`hotline.ticketing.closed.WorkOrderClosed`):
        schedule the satisfaction call (idempotent per work order). A work order without a callable
        caller number is logged and skipped."""
        try:
            await self.dialler.on_work_order_closed(closed.work_order_id, closed.caller_number, closed.department,
                                                    linkedid=closed.work_order_id)
        except InvalidNumber as exc:
            log.info("work order %s closed: no satisfaction call (%s)", closed.work_order_id, exc)


def routing_connect(enqueue: Callable[[QueueRequest], Awaitable[None]], boost: int,
                    called_back: set[str] | None = None) -> Connect:
    """``connect`` through the routing component: the answered citizen (parked on MOH in
    ``hotline-hold``) is queued at the caller's priority + ``boost``; their call's id is added to
    ``called_back`` (the offer's exclusions: a citizen being called back is not offered a callback)."""

    async def connect(answered: Answered) -> None:
        r = answered.request
        if called_back is not None:
            called_back.add(answered.uniqueid)
        await enqueue(QueueRequest(
            linkedid=answered.uniqueid, uniqueid=answered.uniqueid, channel=answered.channel, caller_num=r.number,
            queue=r.queue, skills=r.skills, language=r.language, priority=r.priority + boost,
            at=time.time(), variables={"callback_id": r.request_id, "original_linkedid": r.linkedid,
                                       "callback_mode": r.mode}))

    return connect


def build_callbacks(settings: Any, ami: AmiClient, routing: Any = None,
                    components: Iterable[Any] = (), calendar: WorkingCalendar = DEFAULT_CALENDAR) -> CallbacksComponent:
    """Build the component from the service settings; ``routing`` is ``queues.component.Routing`` or None,
    ``components`` the ones built so far (the ticketing component is looked up there), ``calendar`` the
    service's working calendar (:func:`hotline.kernel.calendar.build_calendar`)."""
    cfg: CallbacksSettings = settings.callbacks
    store = open_store(settings.redis.url, cfg.key_prefix)
    ticketing = next((c for c in components if hasattr(c, "outbox") and hasattr(c, "monitor")), None)
    publish = ticketing.outbox.enqueue if ticketing is not None else None
    waiting = connect = requested = None
    called_back: set[str] = set()
    if routing is not None:
        dispatcher = routing.dispatcher
        waiting = dispatcher.waiting
        connect = routing_connect(routing.enqueue, cfg.callback_priority_boost, called_back)
        requested = dispatcher.callback_requested
    dialler = Dialler(ami, store, cfg, publish=publish, waiting_calls=waiting, connect=connect, calendar=calendar)
    if routing is not None:
        routing.dispatcher.call_answered_hook = dialler.on_agent_answered  # agent first: then dial the citizen
    if ticketing is not None and getattr(ticketing, "monitor", None) is not None:
        ticketing.monitor.hook = dialler.on_sla_card
    component = CallbacksComponent(dialler, store, cfg, requested)
    if routing is not None and cfg.offer_enabled:
        component.offers = build_offers(cfg, ami, routing.dispatcher, component.accept_callback)
        component.offers.excluded = called_back
    return component


def build_offers(cfg: CallbacksSettings, ami: AmiClient, dispatcher: Any, accept: Any) -> CallbackOffers:
    """The callback offer wired to a routing :class:`hotline.queues.dispatch.Dispatcher` (its waiting calls,
    EWT, the core's maximum-wait ``OfferCallback`` hook, the caller numbers of its call tracker)."""

    def caller_number(uniqueid: str) -> str:
        leg = dispatcher.tracker.model.legs.get(uniqueid)
        return (leg.caller_num or "") if leg is not None else ""

    offers = CallbackOffers(ami, cfg, waiting=dispatcher.waiting, position=dispatcher.position,
                            caller_number=caller_number, accept=accept)
    dispatcher.offer_callback_hook = offers.on_offer_callback
    return offers
