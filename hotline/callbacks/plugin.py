"""Builds the callbacks component from its settings slice and named collaborators.

Called by the wiring module (:mod:`hotline.app.wiring`), which also makes the cross-domain
subscriptions (routing's answered calls and callback offers, ticketing's SLA cards and closed work
orders). What is built here:

* store: Redis at ``redis_url`` under ``callbacks.key_prefix``;
* ``publish``: the ticketing outbox's ``enqueue`` (satisfaction results go to the work order as
  ``work_order.updated`` events); None without ticketing (results are only counted);
* keep-my-place, with routing: ``waiting_calls`` is routing's waiting list and ``connect`` hands the
  answered citizen to routing (:func:`hotline.callbacks.component.routing_connect`, the caller's priority +
  ``callback_priority_boost``), so the next free agent takes them; with ``callback_mode: agent_first``
  a Local placeholder is queued instead and the citizen is dialled once routing says an agent answered
  (:meth:`hotline.callbacks.dialler.Dialler.on_agent_answered`, subscribed by the wiring);
* the callback offer to waiting callers (``callbacks.offer_enabled``, routing needed):
  :class:`hotline.callbacks.offering.CallbackOffers`, accepting through
  :meth:`hotline.callbacks.component.CallbacksComponent.accept_callback`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hotline.callbacks.component import CallbacksComponent, routing_connect
from hotline.callbacks.dialler import Dialler, Publish
from hotline.callbacks.offering import Accept, CallbackOffers
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import open_store
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.queues.dispatch import Dispatcher
from hotline.queues.events import CallbackRequested
from hotline.queues.handover import HandOver
from hotline.queues.model import WaitingCall
from hotline.queues.routing import QueuePosition
from hotline.telephony.ami import AmiClient

__all__ = ["RoutingLinks", "build_callbacks", "build_offers"]


@dataclass(frozen=True, slots=True)
class RoutingLinks:
    """What the callbacks use of routing.

    Attributes:
        waiting: calls waiting for an agent, in arrival order (``Dispatcher.waiting``).
        position: (linkedid, serving-agents cache) -> position and EWT, None if not queued
            (``Dispatcher.position``).
        enqueue: the hand-over to routing (``Routing.enqueue``).
        callback_requested: tells routing a caller accepted a callback (``Dispatcher.callback_requested``).
        caller_number: caller leg uniqueid -> ``CALLERID(num)`` from the call model ('' if unknown).
    """

    waiting: Callable[[], Sequence[WaitingCall]]
    position: Callable[[str, dict[frozenset[str], int]], QueuePosition | None]
    enqueue: HandOver
    callback_requested: Callable[[CallbackRequested], Awaitable[None]]
    caller_number: Callable[[str], str]

    @classmethod
    def of(cls, dispatcher: Dispatcher, enqueue: HandOver | None = None) -> RoutingLinks:
        """The links of a routing dispatcher (``enqueue`` defaults to ``dispatcher.enqueue``)."""

        def caller_number(uniqueid: str) -> str:
            leg = dispatcher.tracker.model.legs.get(uniqueid)
            return (leg.caller_num or "") if leg is not None else ""

        return cls(waiting=dispatcher.waiting, position=dispatcher.position,
                   enqueue=enqueue or dispatcher.enqueue, callback_requested=dispatcher.callback_requested,
                   caller_number=caller_number)


def build_offers(cfg: CallbacksSettings, ami: AmiClient, routing: RoutingLinks, accept: Accept,
                 excluded: set[str] | None = None) -> CallbackOffers:
    """The callback offer on routing's waiting calls and EWT; ``excluded``: linkedids never offered (the
    citizens being called back; shared with :func:`routing_connect`). The core's ``OfferCallback`` reaches
    it through a subscription (:meth:`hotline.queues.dispatch.Dispatcher.subscribe_offer_callback`)."""
    offers = CallbackOffers(ami, cfg, waiting=routing.waiting, position=routing.position,
                            caller_number=routing.caller_number, accept=accept)
    if excluded is not None:
        offers.excluded = excluded
    return offers


def build_callbacks(cfg: CallbacksSettings, redis_url: str, ami: AmiClient, *, routing: RoutingLinks | None = None,
                    publish: Publish | None = None,
                    calendar: WorkingCalendar = DEFAULT_CALENDAR) -> CallbacksComponent:
    """The callbacks component (nothing connects until ``start``).

    Args:
        cfg: the ``callbacks:`` section.
        redis_url: the top-level ``redis.url`` (the store).
        routing: routing's links, or None (routing disabled: no keep-my-place hand-over, no offer).
        publish: the ticketing outbox's ``enqueue``, or None (ticketing disabled).
        calendar: the service's working calendar (:func:`hotline.kernel.calendar.build_calendar`).
    """
    store = open_store(redis_url, cfg.key_prefix)
    called_back: set[str] = set()
    dialler = Dialler(ami, store, cfg, publish=publish,
                      waiting_calls=routing.waiting if routing is not None else None,
                      connect=(routing_connect(routing.enqueue, cfg.callback_priority_boost, called_back)
                               if routing is not None else None),
                      calendar=calendar)
    make_offers: Callable[[Accept], CallbackOffers] | None = None
    if routing is not None and cfg.offer_enabled:
        links = routing

        def make_offers(accept: Accept) -> CallbackOffers:
            return build_offers(cfg, ami, links, accept, called_back)

    return CallbacksComponent(dialler, store, cfg, routing.callback_requested if routing is not None else None,
                              make_offers=make_offers)
