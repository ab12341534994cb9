"""The cross-domain links of ``hotline run``: the one place where one domain is connected to another.

:mod:`hotline.app.service` builds each component from its own settings slice (each domain's builder:
:func:`hotline.queues.plugin.build_routing`, :func:`hotline.ivr.plugin.build_ivr`,
:func:`hotline.callbacks.plugin.build_callbacks`, :func:`hotline.ticketing.plugin.build_ticketing` ...) and then
calls the functions here. Every link is a typed subscription to a publisher's list (an exception in one
subscriber is logged and does not stop the others; see :mod:`hotline.kernel.subscribers`) or a collaborator
passed at construction; the one late binding (routing learns the IVR's node kinds: the IVR is built after
routing, which it hands callers to) is an explicit one-time ``connect``.

================================  ==========================================  ==========================================
publisher                          what                                        subscriber
================================  ==========================================  ==========================================
routing dispatcher                 call answered (``CallAnswered``)            callbacks dialler (agent-first dial-out)
routing dispatcher                 ``OfferCallback`` (maximum wait reached)    callbacks offer
routing dispatcher                 state changed (``RoutingChanged``)          wallboard floor (in ``web``)
ticketing SLA monitor              SLA card raised (outbox event)              callbacks dialler (department deadline)
ticketing closed watcher           work order closed (``WorkOrderClosed``)     callbacks (satisfaction call)
IVR menus                          node kind (late, once)                      routing statistics (self-served)
================================  ==========================================  ==========================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hotline.app.calendar_ops import CalendarGauges
from hotline.app.ops_feed import BacklogGauges, SlaPanel
from hotline.callbacks.component import CallbacksComponent
from hotline.callbacks.plugin import RoutingLinks
from hotline.ivr.agi import IvrComponent
from hotline.kernel.calendar import WorkingCalendar
from hotline.queues.component import NodeKind, Routing
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline.ticketing.component import Ticketing

if TYPE_CHECKING:
    from hotline.app.config import Settings
    from hotline.web.component import WebComponent
    from hotline.web.providers import OpsGauges

__all__ = ["backlog_gauges", "build_web_component", "link_callbacks", "link_ivr", "node_kind_of", "routing_links"]


def node_kind_of(ivr: IvrComponent) -> NodeKind:
    """``(menu_id, node_id) -> kind`` from the IVR's current menu (None for a menu since replaced, or an
    unknown node)."""

    def kind(menu_id: str, node_id: str) -> str | None:
        try:
            menu = ivr.menus.current
        except Exception:  # no menu loaded (not started)
            return None
        node = menu.nodes.get(node_id) if menu.id == menu_id else None
        return node.kind if node is not None else None

    return kind


def link_ivr(routing: Routing, ivr: IvrComponent) -> None:
    """Routing's statistics learn the IVR's node kinds (a caller leaving at a goodbye node is self-served).

    Raises:
        AlreadyConnected: linked twice.
    """
    routing.connect_node_kind(node_kind_of(ivr))


def routing_links(routing: Routing) -> RoutingLinks:
    """What the callbacks use of routing: its waiting calls, positions, hand-over, callback acceptance."""
    return RoutingLinks.of(routing.dispatcher, routing.enqueue)


def link_callbacks(callbacks: CallbacksComponent, *, routing: Routing | None, ticketing: Ticketing | None) -> None:
    """Subscribe the callbacks to routing (answered calls, ``OfferCallback``) and ticketing (SLA cards, closed
    work orders). Call once per service."""
    dialler = callbacks.dialler
    if routing is not None:
        routing.dispatcher.subscribe_answered(dialler.on_agent_answered)  # agent first: then dial the citizen
        if callbacks.offers is not None:
            routing.dispatcher.subscribe_offer_callback(callbacks.offers.on_offer_callback)
    if ticketing is not None:
        if ticketing.monitor is not None:
            ticketing.monitor.subscribe_cards(dialler.on_sla_card)  # department deadline calls
        if ticketing.closed is not None:
            # resolved work orders in RT -> satisfaction calls (hotline/ticketing/closed.py)
            ticketing.closed.subscribe(callbacks.on_work_order_closed)


def build_web_component(settings: Settings, ami: AmiClient, calls: CallTracker, *, routing: Routing | None,
                        callbacks: CallbacksComponent | None, ticketing: Ticketing | None,
                        ivr: IvrComponent | None, calendar: WorkingCalendar,
                        backlog: BacklogGauges) -> WebComponent:
    """The web app with every provider passed at construction: the routing floor (pushed by routing's change
    notification), ``/api/callbacks`` and ``/api/reminders``, ``/api/announcements`` (the IVR's store), the
    SLA panel (ticketing's index), the ``/metrics`` gauges (backlog, working calendar, IVR) and the QA
    pages at ``/qa`` (sharing the web audit log)."""
    from hotline.ivr.announcement_store import AnnouncementsApi
    from hotline.web.audit import AuditLog
    from hotline.web.plugin import build_web
    from hotline.web.qa_pages import build_qa_app  # QA review pages at /qa (hotline/web/qa_pages.py)

    audit = AuditLog(settings.web.audit_log)
    gauges: Sequence[OpsGauges] = (backlog, CalendarGauges(calendar), *((ivr,) if ivr is not None else ()))
    store = ivr.announcements if ivr is not None else None
    return build_web(
        settings.web, ami, calls,
        dispatcher=routing.dispatcher if routing is not None else None,
        audit=audit, subapps=(("/qa", build_qa_app(settings.qa, settings.recording, audit)),),
        callbacks=callbacks.api if callbacks is not None else None,
        reminders=callbacks.api if callbacks is not None else None,
        announcements=AnnouncementsApi(store) if store is not None else None,  # add, list, remove (Redis, next call)
        sla=SlaPanel(ticketing.index) if ticketing is not None else None,
        gauges=gauges,
    )


def backlog_gauges(settings: Settings, ticketing: Ticketing | None) -> BacklogGauges:
    """Backlog gauges for ``/metrics``: the outbox streams of the enabled sinks and the transcription stream."""
    outbox = ([(ticketing.outbox.stream(sink), sink) for sink in settings.ticketing.enabled_sinks()]
              if ticketing is not None else [])
    return BacklogGauges(settings.redis.url, outbox, settings.speech.stream, settings.speech.group)
