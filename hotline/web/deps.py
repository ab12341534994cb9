"""What the web app is built from: one record of collaborators, injected by the composition root."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import CallModel
from hotline.web.audit import AuditLog
from hotline.web.auth import Authenticator
from hotline.web.config import WebConfig
from hotline.web.hub import WallboardHub
from hotline.web.providers import (
    AnnouncementsProvider,
    CallbacksProvider,
    Floor,
    OpsGauges,
    RemindersProvider,
    WorkOrderSlaProvider,
)


@dataclass
class WebDeps:
    """Collaborators of the web app.

    Attributes:
        floor: agents, queues, waiting calls and statistics.
        ami: the AMI client (listen/whisper/barge, ``/metrics``); None = those answer 503.
        calls: the live call model (``CallTracker.model``); None = ``/api/calls`` is empty.
        callbacks / reminders / announcements / sla: optional providers (503 ``not-configured``).
        gauges: extra numbers for ``/metrics`` (outbox, transcription, workers).
        clock: epoch-seconds clock.
        subapps: (prefix, app) mounted by :func:`hotline.web.app.make_app`
            (``/qa``: :func:`hotline.web.qa_pages.build_qa_app`);
            their handlers are behind the same guard (roles, CSRF) as the app's own.
    """

    config: WebConfig
    floor: Floor
    audit: AuditLog
    auth: Authenticator
    ami: AmiClient | None = None
    calls: CallModel | None = None
    callbacks: CallbacksProvider | None = None
    reminders: RemindersProvider | None = None
    announcements: AnnouncementsProvider | None = None
    sla: WorkOrderSlaProvider | None = None
    gauges: Sequence[OpsGauges] = field(default_factory=tuple)
    clock: Callable[[], float] = time.time
    subapps: Sequence[tuple[str, web.Application]] = field(default_factory=tuple)


DEPS = web.AppKey("hotline_web_deps", WebDeps)
HUB = web.AppKey("hotline_wallboard_hub", WallboardHub)
