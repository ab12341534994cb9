"""Builds the web component from its settings slice and named collaborators.

Called by the wiring (:func:`hotline.app.wiring.build_web_component`), which gathers the providers of the
other domains (routing's floor, callbacks, the IVR's announcements, ticketing's SLA panel, the ``/metrics``
gauges) and the QA sub-app (:func:`hotline.web.qa_pages.build_qa_app`); see
:class:`hotline.web.component.WebComponent` for what each one serves.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from hotline.queues.dispatch import Dispatcher
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline.web.audit import AuditLog
from hotline.web.component import WebComponent
from hotline.web.config import WebConfig
from hotline.web.providers import (
    AnnouncementsProvider,
    CallbacksProvider,
    OpsGauges,
    RemindersProvider,
    WorkOrderSlaProvider,
)
from hotline.web.routing_floor import RoutingFloor

__all__ = ["build_web"]


def build_web(config: WebConfig, ami: AmiClient, tracker: CallTracker, *, dispatcher: Dispatcher | None = None,
              audit: AuditLog | None = None, subapps: Sequence[tuple[str, web.Application]] = (),
              callbacks: CallbacksProvider | None = None, reminders: RemindersProvider | None = None,
              announcements: AnnouncementsProvider | None = None, sla: WorkOrderSlaProvider | None = None,
              gauges: Sequence[OpsGauges] = ()) -> WebComponent:
    """The web component of ``hotline run`` (called by :func:`hotline.app.wiring.build_web_component`).

    Args:
        config: the ``web:`` settings.
        dispatcher: the routing dispatcher or None: with it the floor is a
            :class:`hotline.web.routing_floor.RoutingFloor` (subscribed to its changes); without it a
            :class:`hotline.web.floor.StandaloneFloor` is kept by the web layer.
        audit, subapps, callbacks ... gauges: see :class:`hotline.web.component.WebComponent`.
    """
    floor = RoutingFloor(dispatcher) if dispatcher is not None else None
    return WebComponent(config, ami=ami, tracker=tracker, floor=floor, callbacks=callbacks, reminders=reminders,
                        announcements=announcements, sla=sla, gauges=gauges, audit=audit, subapps=subapps)
