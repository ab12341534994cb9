"""Ticketing errors: one class per failure, each saying whether a retry can help.

The outbox delivery loop (another module) retries ``retryable`` errors with backoff and moves the
others to the dead-letter stream with the message. Library errors (aiohttp, asyncio timeouts) are
translated into these at the adapter boundary; nothing else escapes a connector.
"""

from __future__ import annotations

from hotline.kernel.errors import HotlineError


class TicketingError(HotlineError):
    """Base class of ticketing failures.

    Attributes:
        retryable: True when the same delivery may succeed later (sink down, ticket not yet there).
    """

    retryable: bool = False


class TicketingUnavailable(TicketingError, ConnectionError):
    """The sink could not be reached, timed out, or answered 5xx: retry later.

    Attributes:
        url: the request URL.
        status: the HTTP status, or None for a connection error or timeout.
    """

    retryable = True

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"ticketing sink unavailable: {url}: {reason}")


class TicketingRejected(TicketingError):
    """The sink answered 4xx: the request is wrong and a retry will not help.

    Attributes:
        url: the request URL.
        status: the HTTP status.
        body: the response body (truncated to 2000 characters), e.g. RT's ``{"message": ...}``.
    """

    def __init__(self, url: str, status: int, body: str) -> None:
        self.url = url
        self.status = status
        self.body = body[:2000]
        super().__init__(f"ticketing sink rejected {url} with HTTP {status}: {self.body}")


class FieldsNotApplied(TicketingError):
    """RT accepted a write but did not store some fields (custom fields, or ``Due``).

    RT 5 REST2 answers 201/200 even for an unknown custom field, one not applied to the queue, or
    a value outside a Select field's list; the only way to know is to read the ticket back.
    Not retryable: the lab/production RT lacks the field or the value (run ``lab/rt.sh install``).

    Attributes:
        ticket_id: the RT ticket (it exists; only the named fields are missing).
        fields: ``{name: wanted value(s)}`` for every field that did not take.
        messages: RT's per-field messages, if it gave any.
    """

    def __init__(
        self, ticket_id: int, fields: dict[str, list[str]], messages: list[str] | None = None
    ) -> None:
        self.ticket_id = ticket_id
        self.fields = fields
        self.messages = messages or []
        names = ", ".join(f"{k}={v}" for k, v in fields.items())
        extra = f" (RT said: {'; '.join(self.messages)})" if self.messages else ""
        super().__init__(f"RT ticket {ticket_id}: fields not applied: {names}{extra}")


class WorkOrderNotFound(TicketingError):
    """An update (transcript, satisfaction) arrived before the work order's ticket exists.

    Retryable: events for one call may be delivered out of order by the outbox.

    Attributes:
        linkedid: the call whose ticket was looked for.
    """

    retryable = True

    def __init__(self, linkedid: str) -> None:
        self.linkedid = linkedid
        super().__init__(f"no ticket yet for linkedid {linkedid}")


class UnknownEventKind(TicketingError, ValueError):
    """A connector got an event kind it does not handle (a programming or schema error).

    Attributes:
        kind: the event kind.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"unknown event kind {kind!r}")


class SignatureError(TicketingError, ValueError):
    """A webhook signature check failed; subclasses say why. Receivers answer 400/401."""


class SignatureMissing(SignatureError):
    """No signature header, or one without ``t=`` and ``v1=``."""


class SignatureMismatch(SignatureError):
    """No ``v1`` value matches the HMAC of the body: wrong secret or a tampered body."""


class SignatureExpired(SignatureError):
    """The signed timestamp is too far from ``now``: a replay (or a badly skewed clock).

    Attributes:
        timestamp: the signed timestamp, epoch seconds.
        now: the receiver's clock, epoch seconds.
        tolerance_s: the allowed skew, seconds.
    """

    def __init__(self, timestamp: int, now: float, tolerance_s: float) -> None:
        self.timestamp = timestamp
        self.now = now
        self.tolerance_s = tolerance_s
        super().__init__(
            f"signature timestamp {timestamp} is {now - timestamp:+.0f}s from now "
            f"(tolerance {tolerance_s:.0f}s)"
        )


class OutboxUnavailable(TicketingError, ConnectionError):
    """Redis (the outbox's store) failed or did not answer in time; the caller retries.

    Attributes:
        operation: the Redis command, e.g. ``"XADD"``.
    """

    retryable = True

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        super().__init__(f"outbox store unavailable during {operation}: {reason}")


class DeadEntryNotFound(TicketingError, LookupError):
    """``replay`` was given an id that is not in the sink's dead-letter stream.

    Attributes:
        sink: the sink name.
        entry_id: the dead-letter entry id asked for.
    """

    def __init__(self, sink: str, entry_id: str) -> None:
        self.sink = sink
        self.entry_id = entry_id
        super().__init__(f"no dead-letter entry {entry_id} for sink {sink!r}")


class BusUnavailable(TicketingError, ConnectionError):
    """The MQTT broker is not connected, or did not acknowledge (PUBACK) in time: retry later.

    Attributes:
        broker: ``host:port``.
    """

    retryable = True
    status = None  # no HTTP status: an outage (see :func:`hotline.ticketing.delivery.is_outage`)

    def __init__(self, broker: str, reason: str) -> None:
        self.broker = broker
        super().__init__(f"MQTT broker {broker} unavailable: {reason}")
