"""The MQTT topic tree and message body of every hotline event. Pure: no broker, no clock.

Topics (``{prefix}`` is ``ticketing.mqtt.topic_prefix``, ``hotline`` by default)::

    {prefix}/calls/{linkedid}/events        call.started, call.leg_added, call.leg_ended, call.merged,
                                            call.ended
    {prefix}/queues/{queue}/stats           queue.stats          retained: the latest snapshot
    {prefix}/agents/{agent_id}/state        agent.state          retained: the latest state
    {prefix}/workorders/{work_order_id}/events
                                            work_order.created, work_order.transcript,
                                            work_order.updated, work_order.card

Every message is published with QoS 1. The body is UTF-8 JSON (Chinese not escaped), the
envelope described by ``hotline/ticketing/schema/events.schema.json``::

    {"event_id": "c2f1...", "type": "call.ended", "at": 1759284000.25,
     "linkedid": "1759284000.42", "data": {...}}

* ``event_id``: unique per event and stable across redeliveries (the outbox's idempotency key):
  a subscriber that sees an id twice (at-least-once after a broker restart) drops the second;
* ``type``: the event kind; ``at``: epoch seconds of the fact (the AMI ``Timestamp`` for call
  events); ``linkedid``: the call, ``""`` for agent and queue events;
* ``data``: the kind's fields (see the schema).

A topic level taken from data (linkedid, queue, agent id) has MQTT's reserved characters
``/ + # \\0`` replaced by ``_`` so that it stays one level and never becomes a wildcard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from hotline.ticketing.connector import OutboxEvent

CALL_STARTED = "call.started"
CALL_LEG_ADDED = "call.leg_added"
CALL_LEG_ENDED = "call.leg_ended"
CALL_ENDED = "call.ended"
CALL_MERGED = "call.merged"
AGENT_STATE = "agent.state"
QUEUE_STATS = "queue.stats"
WORK_ORDER_CARD = "work_order.card"

_RESERVED = str.maketrans({"/": "_", "+": "_", "#": "_", "\0": "_"})


class NoTopic(ValueError):
    """An event kind (or its data) that has no place in the topic tree."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where one event is published: topic and retain flag (QoS is always 1)."""

    topic: str
    retain: bool = False


def level(value: object) -> str:
    """One topic level from a value: reserved characters replaced, never empty.

    Raises:
        NoTopic: the value is empty.
    """
    text = str(value).translate(_RESERVED)
    if not text:
        raise NoTopic("an empty topic level")
    return text


def route_for(event: OutboxEvent, prefix: str = "hotline") -> Route:
    """The topic of an event (see the module docstring).

    Raises:
        NoTopic: an unknown kind, or a kind without its key (``queue``, ``agent_id``, linkedid).
    """
    kind = event.kind
    if kind.startswith("call."):
        return Route(f"{prefix}/calls/{level(event.linkedid)}/events")
    if kind == QUEUE_STATS:
        return Route(f"{prefix}/queues/{level(event.payload.get('queue', ''))}/stats", retain=True)
    if kind == AGENT_STATE:
        return Route(f"{prefix}/agents/{level(event.payload.get('agent_id', ''))}/state", retain=True)
    if kind.startswith("work_order."):
        work_order_id = event.payload.get("work_order_id") or event.linkedid
        return Route(f"{prefix}/workorders/{level(work_order_id)}/events")
    raise NoTopic(f"no topic for event kind {kind!r}")


def message_body(event: OutboxEvent) -> bytes:
    """The JSON envelope of an event (compact, sorted keys, UTF-8)."""
    doc = {
        "event_id": event.event_id,
        "type": event.kind,
        "at": event.created_at,
        "linkedid": event.linkedid,
        "data": dict(event.payload),
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
