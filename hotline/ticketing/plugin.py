"""Builds the ticketing component from its settings slice and named collaborators.

Called by the composition root (:mod:`hotline.app.service`); the cross-domain links (callbacks'
SLA cards and closed work orders, the web's backlog gauges) are made by :mod:`hotline.app.wiring`.
What is built here (see :mod:`hotline.ticketing.component` for the data flow):

* the outbox, its writer and the work-order index on Redis at ``ticketing.redis_url`` or ``redis.url``;
* the work orders from calls (:class:`hotline.ticketing.component.WorkOrders`) and the transcript follower;
* one sink per enabled route: Request Tracker, the signed webhook, the MQTT bus (``ticketing.mqtt``
  over the top-level ``mqtt:`` section);
* the closed-work-order watcher (with RT) and the SLA monitor (``ticketing.monitor.enabled``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import aiohttp

from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.kernel.settings import MqttConfig, RedisConfig
from hotline.telephony.tracker import CallTracker
from hotline.ticketing.bus import MqttBus
from hotline.ticketing.closed import ClosedWatcher
from hotline.ticketing.component import FactsProvider, Ticketing, TranscriptFollower, WorkOrders
from hotline.ticketing.connector import Connector
from hotline.ticketing.monitor import CardHook, SlaMonitor, WorkOrderIndex, rt_closed_probe
from hotline.ticketing.outbox import OutboxWriter, RedisOutbox, connect
from hotline.ticketing.rt import RtClient, RtConnector
from hotline.ticketing.settings import TicketingSettings
from hotline.ticketing.webhook import WebhookSink

__all__ = ["build_ticketing"]


def build_ticketing(
    cfg: TicketingSettings,
    tracker: CallTracker,
    *,
    redis: RedisConfig,
    mqtt: MqttConfig | None = None,
    facts: FactsProvider | None = None,
    card_hook: CardHook | None = None,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> Ticketing:
    """Build the ticketing component (nothing connects until ``start``).

    Args:
        cfg: the ``ticketing:`` section.
        tracker: the service's call tracker (subscribed to here).
        redis: the top-level ``redis:`` section; its ``url`` is used unless ``ticketing.redis_url`` is set.
        mqtt: the top-level ``mqtt:`` section (each field overridden by ``ticketing.mqtt``); None: its
            defaults.
        facts: the IVR/routing facts provider (see :class:`hotline.ticketing.component.WorkOrders`).
        card_hook: the department-reminder hook (see :class:`hotline.ticketing.monitor.SlaMonitor`).
        calendar: the service's working calendar (due dates; :func:`hotline.kernel.calendar.build_calendar`).
    Raises:
        ValueError: RT is enabled but has no URL or credentials (the message names the file).
    """
    s = cfg
    top_mqtt = mqtt or MqttConfig()
    redis_url = redis.url
    mqtt_host, mqtt_port, mqtt_prefix = top_mqtt.host, top_mqtt.port, top_mqtt.topic_prefix
    client = connect(s.redis_url or redis_url)
    outbox = RedisOutbox(client, s.routes(), prefix=s.outbox.prefix)
    writer = OutboxWriter(outbox, max_buffer=s.outbox.max_buffer)
    wo = s.work_orders
    index = WorkOrderIndex(client, wo.index_key, wo.cards_key)
    policy = s.monitor.policy(calendar)
    work_orders = WorkOrders(
        tracker, writer, index, facts=facts, publish_call_events=wo.publish_call_events,
        default_queue=wo.default_queue, recording_url_template=wo.recording_url_template,
        first_seat=wo.first_seat, last_seat=wo.last_seat, policy=policy,
    )
    transcripts = TranscriptFollower(
        client, outbox, index, s.outbox.consumer, stream=wo.transcripts_stream, results_hash=wo.transcripts_hash,
        group=wo.transcripts_group, grace_s=wo.transcript_grace_s,
    )
    sinks = s.enabled_sinks()
    factories: dict[str, Callable[[aiohttp.ClientSession], Connector]] = {}
    rt_factory: Callable[[aiohttp.ClientSession], RtClient] | None = None
    if "rt" in sinks:
        url, token, user, password = s.rt.credentials()

        def rt_factory(http: aiohttp.ClientSession) -> RtClient:
            return RtClient(http, url, token=token, user=user, password=password, timeout_s=s.rt.timeout_s)

        factories["rt"] = lambda http: RtConnector(rt_factory(http), default_queue=s.rt.default_queue,
                                                   ticket_wait_s=s.rt.ticket_wait_s)
    if "webhook" in sinks:
        assert s.webhook.url is not None
        hook_url, secret = s.webhook.url, s.webhook.secret_value()
        factories["webhook"] = lambda http: WebhookSink(http, hook_url, secret, timeout_s=s.webhook.timeout_s)
    bus = None
    if "mqtt" in sinks:
        m = s.mqtt
        bus = MqttBus(m.host or mqtt_host, m.port or mqtt_port, prefix=m.topic_prefix or mqtt_prefix,
                      client_id=m.client_id, username=m.username, password=m.password, keepalive_s=m.keepalive_s,
                      publish_timeout_s=m.publish_timeout_s, backoff_max_s=m.backoff_max_s)
        mqtt_bus = bus
        factories["mqtt"] = lambda http: mqtt_bus
    component = Ticketing(s, client, outbox, writer, index, work_orders, transcripts, None, factories, bus)
    if rt_factory is not None:
        closed_client = rt_factory

        def watcher_client() -> RtClient:
            assert component._http is not None
            return closed_client(component._http)

        component.closed = ClosedWatcher(watcher_client)
    if s.monitor.enabled:
        probe = None
        if rt_factory is not None and s.monitor.check_closed_in_rt:
            make_client = rt_factory

            def probe_factory(ids: Sequence[str]) -> Awaitable[set[str]]:
                assert component._http is not None
                return rt_closed_probe(make_client(component._http))(ids)

            probe = probe_factory
        component.monitor = SlaMonitor(index, outbox, policy=policy, interval_s=s.monitor.interval_s,
                                       hook=card_hook, closed_probe=probe)
    return component
