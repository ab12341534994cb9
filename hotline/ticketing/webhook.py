"""Webhook sink: POST each outbox event as signed JSON to a receiver's URL.

Request::

    POST <url>
    Content-Type: application/json; charset=utf-8
    X-Hotline-Signature: t=<epoch s>,v1=<hex HMAC-SHA256(secret, f"{t}." + body)>
    X-Hotline-Event: <event kind>
    Idempotency-Key: <event_id>

    {"created_at": 1759284000.0, "event_id": "...", "kind": "work_order.created",
     "linkedid": "1759284000.42", "payload": {...}}

The body is compact JSON with sorted keys, UTF-8 (Chinese text is not escaped). Any 2xx means
delivered; 409 is taken as "already have it" (a receiver that deduplicates on the
Idempotency-Key may answer so); other 4xx raise :class:`TicketingRejected`; 5xx, connection
errors and timeouts raise :class:`TicketingUnavailable`. Signing and verification are in
:mod:`hotline.ticketing.signature` (pure) and re-exported here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import aiohttp

from hotline.ticketing.connector import OutboxEvent
from hotline.ticketing.errors import TicketingRejected, TicketingUnavailable
from hotline.ticketing.signature import SIGNATURE_HEADER, parse_header, sign, verify

__all__ = ["SIGNATURE_HEADER", "WebhookSink", "encode_body", "parse_header", "sign", "verify"]

EVENT_HEADER = "X-Hotline-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def encode_body(event: OutboxEvent) -> bytes:
    """The exact bytes POSTed for an event (compact, sorted keys, UTF-8)."""
    text = json.dumps(event.to_json_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode()


class WebhookSink:
    """A :class:`hotline.ticketing.connector.Connector` that POSTs signed events to one URL.

    Idempotency is the receiver's: every retry of an event carries the same ``Idempotency-Key``
    (``event_id``) and a fresh signature timestamp.

    Args:
        session: an open aiohttp session, owned by the caller (the composition root).
        url: the receiver's endpoint.
        secret: the shared HMAC secret.
        timeout_s: total time allowed per POST, seconds.
        clock: epoch-seconds clock used for the signature timestamp (tests pass a fake).
        name: sink name for logs and the outbox stream.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        secret: str | bytes,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        name: str = "webhook",
    ) -> None:
        self.name = name
        self._session = session
        self._url = url
        self._secret = secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock

    async def deliver(self, event: OutboxEvent) -> None:
        """POST one event.

        Raises:
            TicketingUnavailable: connection error, timeout or 5xx (retry later).
            TicketingRejected: 4xx other than 409, with the response body.
        """
        body = encode_body(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self._secret, int(self._clock()), body),
            EVENT_HEADER: event.kind,
            IDEMPOTENCY_HEADER: event.event_id,
        }
        try:
            post = self._session.post(self._url, data=body, headers=headers, timeout=self._timeout)
            async with post as resp:
                if 200 <= resp.status < 300 or resp.status == 409:
                    return
                text = await resp.text(errors="replace")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TicketingUnavailable(self._url, f"{type(exc).__name__}: {exc}") from exc
        if resp.status >= 500:
            raise TicketingUnavailable(self._url, f"HTTP {resp.status}: {text[:200]}", resp.status)
        raise TicketingRejected(self._url, resp.status, text)
