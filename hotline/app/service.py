"""The composition root: the only place that builds adapters; the cross-domain links are made by
:mod:`hotline.app.wiring`.

``Service`` owns the AMI client (with the append-only event log), the call tracker, and
a list of components. A component is anything with ``async start()`` / ``async stop()``
that subscribes to the AMI pump or the call tracker in its constructor; later capabilities
(IVR over AsyncAGI, routing dispatch, recording, outbox, web) are added here as
components, built from the same settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from typing import Protocol

from hotline.app import wiring
from hotline.app.config import Settings
from hotline.app.facts import CallFactsBook
from hotline.callbacks.plugin import build_callbacks
from hotline.ivr.agi import RecordingHandOver
from hotline.ivr.plugin import build_ivr
from hotline.kernel.calendar import build_calendar, calendar_warning
from hotline.queues.handover import HandOver, SessionListener
from hotline.queues.plugin import build_routing
from hotline.recording.plugin import build_recorder
from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import CallEnded, CallEvent, CallMerged, CallStarted
from hotline.telephony.eventlog import EventLogWriter
from hotline.telephony.tracker import CallTracker
from hotline.ticketing.plugin import build_ticketing
from hotline.ticketing.sla import SHANGHAI

log = logging.getLogger("hotline.app.service")


class Component(Protocol):
    """A part of the running service."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class CallCounters:
    """Counts calls seen by the tracker (for the demo summary and ``/metrics``)."""

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0
        self.lost = 0
        self.total_duration_s = 0.0

    def __call__(self, event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            self.started += 1
        elif isinstance(event, CallMerged) and event.emptied:
            self.started -= 1  # it was a leg of another call, not a call of its own
        elif isinstance(event, CallEnded):
            self.ended += 1
            self.total_duration_s += event.duration_s
            if event.reason == "lost":
                self.lost += 1


class Service:
    """The running hotline service.

    Args:
        settings: the validated configuration tree.
        event_log: write the AMI event log (default True; the path is ``settings.event_log.path``).
        hand_over: where the IVR hands callers over (the routing component's); default: a
            :class:`hotline.ivr.agi.RecordingHandOver` that logs and keeps them (``self.handovers``).
    Raises:
        OSError: the event log cannot be opened.
        ivr.calendar.CalendarFileError: ``calendar.file`` is set but unreadable or invalid.
    """

    def __init__(self, settings: Settings, *, event_log: bool = True, hand_over: HandOver | None = None) -> None:
        self.settings = settings
        self.event_log = EventLogWriter(settings.event_log.path) if event_log else None
        self.ami = AmiClient(settings.ami, event_log=self.event_log)
        self.calls = CallTracker(self.ami)
        self.counters = CallCounters()
        self.calls.subscribe(self.counters)
        self.components: list[Component] = []
        # one working calendar (calendar.file, chinese-calendar, holidays; provisional: holidays-statutory, weekday
        # rule) for the IVR's schedule nodes, SLA due dates and the callbacks dialler
        # (hotline/kernel/calendar.py); read at start
        self.calendar = build_calendar(settings.calendar.file)
        today = dt.datetime.now(SHANGHAI).date()
        if (warning := calendar_warning(self.calendar, today, settings.calendar.warn_days)) is not None:
            log.warning("calendar: %s", warning)
        # IVR over AsyncAGI on 12345 (hotline/ivr/agi.py), menu from settings.ivr.menu_path, reloaded on change
        self.handovers = RecordingHandOver()
        # skill-based routing (hotline/queues/component.py), started before the IVR that hands callers to it
        self.routing = (build_routing(settings.routing, settings.redis, self.ami, self.calls)
                        if settings.routing.enabled else None)
        if self.routing is not None:
            self.components.append(self.routing)
        hand_over = hand_over or (self.routing.enqueue if self.routing is not None else self.handovers)
        # what the IVR and routing learnt about each call, for work orders and QA (hotline/app/facts.py)
        self.facts = CallFactsBook(self.calls)
        hand_over = self.facts.wrap(hand_over)
        # every IVR session start and end: the call outcomes of the statistics (routing event log) and
        # the IVR path of every call, queued or not (call facts)
        listeners: list[SessionListener] = [self.facts.ivr_session]
        if self.routing is not None:
            listeners.insert(0, self.routing.ivr_session)
        self.ivr = (build_ivr(settings.ivr, settings.redis, self.ami, hand_over, self.calendar, listeners)
                    if settings.ivr.enabled else None)
        if self.ivr is not None:
            self.components.append(self.ivr)
            if self.routing is not None:
                wiring.link_ivr(self.routing, self.ivr)
        # MixMonitor on every answered call, catalog, transcription jobs (hotline/recording/plugin.py)
        self.recorder = (build_recorder(settings.recording, self.ami, redis=settings.redis, speech=settings.speech,
                                        calls=self.calls)
                         if settings.recording.enabled else None)
        if self.recorder is not None:
            self.components.append(self.recorder)
        # work orders, durable outbox (RT, webhook, MQTT bus), SLA cards (hotline/ticketing/plugin.py)
        catalog = self.recorder.catalog if self.recorder is not None else None
        if catalog is not None:
            from hotline.qa.store import QaStore

            self.facts.connect_qa_store(QaStore(catalog.engine))
        self.components.append(self.facts)
        self.ticketing = (build_ticketing(settings.ticketing, self.calls, redis=settings.redis, mqtt=settings.mqtt,
                                          facts=self.facts.ticket_facts, calendar=self.calendar)
                          if settings.ticketing.enabled else None)
        if self.ticketing is not None:
            self.components.append(self.ticketing)
        # callbacks, voice reminders, satisfaction and deadline calls (hotline/callbacks/plugin.py); after
        # ticketing (outbox for ratings, SLA cards, closed work orders) and routing (keep-my-place hand-over)
        self.callbacks = (build_callbacks(settings.callbacks, settings.redis.url, self.ami,
                                          routing=wiring.routing_links(self.routing) if self.routing else None,
                                          publish=self.ticketing.outbox.enqueue if self.ticketing else None,
                                          calendar=self.calendar)
                          if settings.callbacks.enabled else None)
        if self.callbacks is not None:
            self.components.append(self.callbacks)
            wiring.link_callbacks(self.callbacks, routing=self.routing, ticketing=self.ticketing)
        # HTTP API, wallboard, supervisor console, /metrics on settings.web.host:port (hotline/web/component.py)
        if settings.web.enabled:
            backlog = wiring.backlog_gauges(settings, self.ticketing)  # /metrics (hotline/app/ops_feed.py)
            web_component = wiring.build_web_component(settings, self.ami, self.calls, routing=self.routing,
                                                       callbacks=self.callbacks, ticketing=self.ticketing,
                                                       ivr=self.ivr, calendar=self.calendar, backlog=backlog)
            self.components.append(backlog)  # before the web app (appended next), so stopped after it
            self.components.append(web_component)

    async def start(self, connect_timeout_s: float = 15.0) -> None:
        """Start the AMI connection and every component.

        Raises:
            AmiAuthError / AmiConnectionError: AMI not reachable within ``connect_timeout_s``.
        """
        await self.ami.start()
        await self.ami.wait_connected(timeout=connect_timeout_s)
        for component in self.components:
            await component.start()
        log.info("hotline service started (Asterisk AMI %s)", self.ami.version)

    async def stop(self) -> None:
        """Stop components (in reverse order), then AMI, then flush the event log."""
        for component in reversed(self.components):
            with contextlib.suppress(Exception):
                await component.stop()
        await self.ami.stop()
        if self.event_log is not None:
            await asyncio.to_thread(self.event_log.close)

    async def run_until_signalled(self) -> None:
        """Run until SIGINT or SIGTERM."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
