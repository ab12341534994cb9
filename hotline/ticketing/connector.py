"""The one interface every ticketing sink implements, and the event it is handed.

The durable outbox (a Redis Stream, another module) stores :class:`OutboxEvent` values and calls
``await connector.deliver(event)`` until it returns; a delivery may be repeated (at-least-once),
so every connector is idempotent on ``event.event_id``.

Event kinds understood by the connectors here (``payload`` keys in brackets):

* ``work_order.created``: a call became a work order
  [``queue``, ``subject``, ``call_type``, ``caller_number``, ``district``, ``recording_url``,
  ``received`` and ``due`` (ISO 8601 with offset), optional ``description``];
* ``work_order.transcript``: the transcript is ready [``text``, optional ``subject``];
* ``work_order.updated``: a callback or survey changed the work order [``satisfaction``
  and/or ``custom_fields`` ``{name: value}``, optional ``note``].

The webhook connector forwards any kind unchanged; the RT connector raises
:class:`hotline.ticketing.errors.UnknownEventKind` for others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

WORK_ORDER_CREATED = "work_order.created"
WORK_ORDER_TRANSCRIPT = "work_order.transcript"
WORK_ORDER_UPDATED = "work_order.updated"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event on its way to a sink.

    Attributes:
        event_id: unique id, also the idempotency key at every sink (e.g. a UUID or the Redis
            stream entry id of the first enqueue; never regenerated on retry).
        kind: e.g. ``"work_order.created"`` (see the module docstring).
        linkedid: the Asterisk linkedid of the call the event belongs to.
        payload: JSON-serialisable data for the kind.
        created_at: epoch seconds when the event was first enqueued.
    """

    event_id: str
    kind: str
    linkedid: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    def to_json_dict(self) -> dict[str, Any]:
        """The event as a plain dict (the webhook body, the outbox record)."""
        data = asdict(self)
        data["payload"] = dict(self.payload)
        return data


@runtime_checkable
class Connector(Protocol):
    """A ticketing sink.

    Attributes:
        name: short sink name for logs, metrics and the outbox stream key (``"rt"``, ``"webhook"``).
    """

    name: str

    async def deliver(self, event: OutboxEvent) -> None:
        """Apply one event at the sink, exactly once in effect.

        Args:
            event: the event; a repeat of an already applied ``event_id`` is a no-op.
        Raises:
            ticketing.errors.TicketingError: ``retryable`` says whether the outbox should retry
                (sink down, 5xx, out-of-order update) or dead-letter it (4xx, bad fields).
        """
        ...
