"""The callbacks component of ``hotline run``: the dialler, the callback offer and their acceptance.

Built by :func:`hotline.callbacks.plugin.build_callbacks`; the cross-domain subscriptions (routing's
answered calls -> :meth:`Dialler.on_agent_answered`, routing's ``OfferCallback`` -> the offer, SLA cards ->
:meth:`Dialler.on_sla_card`, closed work orders -> :meth:`CallbacksComponent.on_work_order_closed`) are
made by :mod:`hotline.app.wiring`. :meth:`CallbacksComponent.accept_callback` is what the offer calls when
a caller accepts the callback (``OfferCallback``): it stores the request and tells routing
``CallbackRequested`` (counted as a callback, not an abandon). :func:`routing_connect` hands an answered
citizen back to routing (keep-my-place).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from hotline.callbacks.api import CallbacksApi
from hotline.callbacks.dialler import Answered, Connect, Dialler
from hotline.callbacks.errors import InvalidNumber
from hotline.callbacks.keepplace import CallbackRequest, RequestStatus, close
from hotline.callbacks.numbers import normalise_number
from hotline.callbacks.offering import Accept, CallbackOffers
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.queues.events import CallbackRequested
from hotline.queues.exceptions import CallNotQueued
from hotline.queues.handover import QueueRequest
from hotline.ticketing.closed import WorkOrderClosed

log = logging.getLogger("hotline.callbacks")


class CallbacksComponent:
    """``start``/``stop`` for the service; ``api`` for the web app; ``accept_callback`` for the offer.

    Args:
        dialler: the dialler (callbacks, reminders, satisfaction and deadline calls).
        store: its Redis store (closed by :meth:`stop`).
        callback_requested: tells routing a caller accepted a callback (``Dispatcher.callback_requested``).
        clock: epoch seconds.
        make_offers: builds the callback offer to waiting callers given this component's
            :meth:`accept_callback` (:func:`hotline.callbacks.plugin.build_offers`); None: no offer.
    """

    def __init__(self, dialler: Dialler, store: CallbackStore, settings: CallbacksSettings,
                 callback_requested: Callable[[CallbackRequested], Awaitable[None]] | None = None,
                 clock: Callable[[], float] = time.time,
                 make_offers: Callable[[Accept], CallbackOffers] | None = None) -> None:
        self.dialler = dialler
        self.store = store
        self.settings = settings
        self.api = CallbacksApi(store, settings, clock, calendar=dialler.policy.calendar)  # one calendar
        self.callback_requested = callback_requested
        self.clock = clock
        #: the callback offer to waiting callers, or None
        self.offers: CallbackOffers | None = make_offers(self.accept_callback) if make_offers is not None else None

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

    async def on_work_order_closed(self, closed: WorkOrderClosed) -> None:
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
