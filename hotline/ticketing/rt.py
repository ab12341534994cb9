"""Request Tracker 5 over its REST2 API: a ticket per work order, the transcript as a comment.

Talks to ``{base_url}/REST/2.0/`` (RT 5.0, REST2 and RT::Authen::Token in core), authenticated
with ``Authorization: token <token>`` or HTTP basic auth. The lab's RT (``lab/rt.sh``) writes the
URL and both credentials to ``rt.env``.

RT facts this module relies on (checked against Debian's request-tracker5 5.0.3):

* Dates are sent as naive ``"YYYY-MM-DD HH:MM:SS"`` strings in the RT user's time zone; the lab
  RT runs with ``$Timezone = 'UTC'``, so we always send UTC (:func:`rt_datetime`). RT returns
  ``"2025-10-14T02:00:00Z"``; an unset date is ``"1970-01-01T00:00:00Z"``.
* Create answers 201 and update answers 200 even when a custom field is unknown, not applied to
  the queue, or given a value outside a Select list: the field is silently dropped. Every write
  of custom fields is therefore read back and checked (:class:`FieldsNotApplied`).
* Custom fields are addressed by name (``"Call Type"``) in writes and TicketSQL
  (``'CF.{Linkedid}' = '...'``); reads list them with ``name`` and ``values``.

Custom fields on every department queue (made by ``lab/rt-bootstrap.pl``):
``Caller Number``, ``Call Type`` (Select: consultation/request/complaint/suggestion),
``District``, ``Linkedid``, ``Recording``, ``Satisfaction`` (Select: satisfied/
basically_satisfied/dissatisfied), ``Hotline Events`` (multi-value: outbox event ids applied to
the ticket; the idempotency record).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp

from hotline.ticketing.connector import (
    WORK_ORDER_CREATED,
    WORK_ORDER_TRANSCRIPT,
    WORK_ORDER_UPDATED,
    OutboxEvent,
)
from hotline.ticketing.errors import (
    FieldsNotApplied,
    TicketingRejected,
    TicketingUnavailable,
    UnknownEventKind,
    WorkOrderNotFound,
)

FIELD_CALLER_NUMBER = "Caller Number"
FIELD_CALL_TYPE = "Call Type"
FIELD_DISTRICT = "District"
FIELD_LINKEDID = "Linkedid"
FIELD_RECORDING = "Recording"
FIELD_SATISFACTION = "Satisfaction"
FIELD_EVENTS = "Hotline Events"

_RT_UNSET = "1970-01-01T00:00:00Z"

FieldValue = str | Sequence[str]


# --- pure helpers ------------------------------------------------------------------------------
def rt_datetime(when: dt.datetime) -> str:
    """An aware datetime as RT's naive-UTC input string ``"YYYY-MM-DD HH:MM:SS"``.

    Raises:
        ValueError: ``when`` is naive (its zone would be guessed by RT).
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"RT dates must come from aware datetimes, got naive {when.isoformat()}")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_rt_datetime(text: str | None) -> dt.datetime | None:
    """RT's ``"2025-10-14T02:00:00Z"`` as an aware UTC datetime; None for unset (epoch 0) or empty."""
    if not text or text == _RT_UNSET:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _as_list(value: FieldValue | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def custom_field_values(ticket: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{field name: values}`` from a REST2 ticket document (``GET /ticket/{id}``)."""
    return {
        str(cf["name"]): [str(v) for v in cf.get("values") or []]
        for cf in ticket.get("CustomFields") or []
        if "name" in cf
    }


def missing_fields(
    wanted: Mapping[str, FieldValue | None], stored: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """The wanted custom fields whose stored values differ (as sets); ``{name: wanted values}``."""
    return {
        name: _as_list(value)
        for name, value in wanted.items()
        if set(_as_list(value)) != set(stored.get(name, []))
    }


def ticketsql_equals(field: str, value: str) -> str:
    """A TicketSQL clause ``'CF.{field}' = 'value'`` with quotes and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'CF.{{{field}}}' = '{escaped}'"


# --- the client --------------------------------------------------------------------------------
class RtClient:
    """A small RT 5 REST2 client: tickets, custom fields, comments, search.

    Every request has a total timeout. Errors are translated here: connection errors, timeouts
    and 5xx raise :class:`TicketingUnavailable`; 4xx raise :class:`TicketingRejected` with RT's
    body (``{"message": "..."}``).

    Args:
        session: an open aiohttp session, owned by the caller.
        base_url: RT's web root, e.g. ``"http://127.0.0.1:8480"`` (no ``/REST/2.0``).
        token: an RT auth token (``Authorization: token ...``); preferred over basic auth.
        user: basic-auth user name, when no token.
        password: basic-auth password.
        timeout_s: total seconds per HTTP request.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        token: str | None = None,
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not token and not (user and password):
            raise ValueError("RtClient needs a token or a user and password")
        self._session = session
        self._api = base_url.rstrip("/") + "/REST/2.0"
        if token:
            authorization = f"token {token}"
        else:
            authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._headers = {"Authorization": authorization}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _request(
        self, method: str, path: str, *, body: Any = None, params: Mapping[str, str] | None = None
    ) -> Any:
        url = f"{self._api}/{path}"
        try:
            request = self._session.request(
                method, url, json=body, params=params, headers=self._headers, timeout=self._timeout
            )
            async with request as resp:
                status = resp.status
                text = await resp.text(errors="replace")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TicketingUnavailable(url, f"{type(exc).__name__}: {exc}") from exc
        if status >= 500:
            raise TicketingUnavailable(url, f"HTTP {status}: {text[:200]}", status)
        if status >= 400:
            raise TicketingRejected(url, status, text)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            reason = f"HTTP {status} with a non-JSON body: {text[:200]}"
            raise TicketingUnavailable(url, reason, status) from exc

    async def get_ticket(self, ticket_id: int) -> dict[str, Any]:
        """The REST2 ticket document (``Subject``, ``Due``, ``CustomFields``...).

        Raises:
            TicketingRejected: 404 for an unknown ticket (or one the user may not see).
            TicketingUnavailable: see the class docstring.
        """
        return dict(await self._request("GET", f"ticket/{int(ticket_id)}"))

    async def create_ticket(
        self,
        queue: str,
        subject: str,
        *,
        custom_fields: Mapping[str, FieldValue | None] | None = None,
        due: dt.datetime | None = None,
        content: str | None = None,
    ) -> int:
        """Create a ticket, read it back and check that every field took.

        Args:
            queue: queue name (``"commerce"``) or id.
            subject: ticket subject.
            custom_fields: ``{name: value or values}``; None/empty values are not sent.
            due: the deadline, aware (sent as naive UTC).
            content: the ticket's first message (text/plain), e.g. the call summary.
        Returns:
            The new ticket id.
        Raises:
            FieldsNotApplied: the ticket exists but some custom fields or ``Due`` did not take.
            TicketingRejected: 4xx (unknown queue: 403 "No permission to create tickets").
            TicketingUnavailable: see the class docstring.
        """
        fields = {k: _as_list(v) for k, v in (custom_fields or {}).items() if _as_list(v)}
        doc: dict[str, Any] = {"Queue": queue, "Subject": subject}
        if fields:
            doc["CustomFields"] = {k: v[0] if len(v) == 1 else v for k, v in fields.items()}
        if due is not None:
            doc["Due"] = rt_datetime(due)
        if content:
            doc["Content"] = content
            doc["ContentType"] = "text/plain"
        created = await self._request("POST", "ticket", body=doc)
        ticket_id = int(created["id"])
        ticket = await self.get_ticket(ticket_id)
        missing = missing_fields(fields, custom_field_values(ticket))
        if due is not None:
            stored_due = parse_rt_datetime(ticket.get("Due"))
            if stored_due != due.astimezone(dt.UTC).replace(microsecond=0):
                missing["Due"] = [rt_datetime(due)]
        if missing:
            raise FieldsNotApplied(ticket_id, missing)
        return ticket_id

    async def update_custom_fields(self, ticket_id: int, fields: Mapping[str, FieldValue]) -> None:
        """Set custom fields (a list replaces a multi-value field's values), then verify.

        Raises:
            FieldsNotApplied: some fields did not take (RT's messages attached).
            TicketingRejected, TicketingUnavailable: see the class docstring.
        """
        await self.update_ticket(ticket_id, custom_fields=fields)

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        custom_fields: Mapping[str, FieldValue | None] | None = None,
        due: dt.datetime | None = None,
        subject: str | None = None,
    ) -> None:
        """Set custom fields (None/empty values are not sent), ``Due`` and ``Subject`` in one PUT, then
        read the ticket back and check that every custom field and ``Due`` took.

        Raises:
            FieldsNotApplied: some fields did not take (RT's messages attached).
            TicketingRejected, TicketingUnavailable: see the class docstring.
        """
        wanted = {k: _as_list(v) for k, v in (custom_fields or {}).items() if _as_list(v)}
        doc: dict[str, Any] = {}
        if wanted:
            doc["CustomFields"] = {k: v[0] if len(v) == 1 else v for k, v in wanted.items()}
        if due is not None:
            doc["Due"] = rt_datetime(due)
        if subject:
            doc["Subject"] = subject
        if not doc:
            return
        messages = await self._request("PUT", f"ticket/{int(ticket_id)}", body=doc)
        ticket = await self.get_ticket(ticket_id)
        missing = missing_fields(wanted, custom_field_values(ticket))
        if due is not None and parse_rt_datetime(ticket.get("Due")) != due.astimezone(dt.UTC).replace(microsecond=0):
            missing["Due"] = [rt_datetime(due)]
        if missing:
            said = [str(m) for m in messages] if isinstance(messages, list) else []
            raise FieldsNotApplied(ticket_id, missing, said)

    async def comment(self, ticket_id: int, text: str, *, subject: str | None = None) -> None:
        """Add a private comment (text/plain, UTF-8), e.g. the call transcript.

        Raises:
            TicketingRejected, TicketingUnavailable: see the class docstring.
        """
        doc: dict[str, Any] = {"Content": text, "ContentType": "text/plain"}
        if subject:
            doc["Subject"] = subject
        await self._request("POST", f"ticket/{int(ticket_id)}/comment", body=doc)

    async def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's attachments (messages and comments), oldest first, up to 100.

        Returns:
            Dicts with ``id``, ``TransactionId``, ``Subject``, ``ContentType`` and ``Content``
            (decoded text for text parts).
        Raises:
            TicketingRejected, TicketingUnavailable: see the class docstring.
        """
        params = {"fields": "Content,ContentType,Subject,TransactionId", "per_page": "100", "orderby": "id"}
        found = await self._request("GET", f"ticket/{int(ticket_id)}/attachments", params=params)
        return [dict(item) for item in (found or {}).get("items") or []]

    async def find_ticket_ids(self, field: str, value: str) -> list[int]:
        """Ids of tickets (any status) whose custom field ``field`` has ``value``, ascending.

        Raises:
            TicketingRejected: 400 for bad TicketSQL.
            TicketingUnavailable: see the class docstring.
        """
        params = {"query": ticketsql_equals(field, value), "fields": "id", "per_page": "100", "orderby": "id"}
        found = await self._request("GET", "tickets", params=params)
        return sorted(int(item["id"]) for item in (found or {}).get("items") or [])

    async def search_ticket_ids(self, query: str, *, orderby: str = "id", max_pages: int = 50) -> list[int]:
        """Ids of tickets matching a TicketSQL ``query`` (e.g. ``Status = 'resolved'``), in ``orderby``
        order, ascending, every page (100 a page) up to ``max_pages``.

        Raises:
            TicketingRejected: 400 for bad TicketSQL.
            TicketingUnavailable: see the class docstring.
        """
        ids: list[int] = []
        for page in range(1, max_pages + 1):
            params = {"query": query, "fields": "id", "per_page": "100", "orderby": orderby, "order": "ASC",
                      "page": str(page)}
            found = await self._request("GET", "tickets", params=params) or {}
            ids += [int(item["id"]) for item in found.get("items") or []]
            if not found.get("next_page") and page >= int(found.get("pages") or 1):
                break
        return ids

    async def queue_name(self, queue_id: int | str) -> str:
        """The ``Name`` of a queue (a ticket document's ``Queue`` holds only its id)."""
        found = await self._request("GET", f"queue/{queue_id}")
        return str((found or {}).get("Name", ""))

    async def set_status(self, ticket_id: int, status: str) -> None:
        """Set a ticket's ``Status`` (``resolved`` closes a work order).

        Raises:
            TicketingRejected, TicketingUnavailable: see the class docstring.
        """
        await self._request("PUT", f"ticket/{int(ticket_id)}", body={"Status": status})

    async def find_ticket_id(self, field: str, value: str) -> int | None:
        """The oldest ticket whose custom field ``field`` has ``value``, or None."""
        ids = await self.find_ticket_ids(field, value)
        return ids[0] if ids else None


# --- the connector -----------------------------------------------------------------------------
class RtConnector:
    """The RT sink: a :class:`hotline.ticketing.connector.Connector` for work-order events.

    Idempotency: the ``event_id`` of every applied event is added to the ticket's ``Hotline
    Events`` field, and only once the write was read back and every field had taken. So an event
    whose fields RT would not store (:class:`FieldsNotApplied`, dead-lettered) is *not* recorded,
    and ``hotline outbox replay`` applies it again: ``work_order.created`` looks for its event id,
    then for a ticket of the call (``Linkedid``: made by an earlier attempt, or opened by a
    transcript) which it completes, and only then creates one. Later events find the ticket by
    ``Linkedid`` and skip if their id is already recorded. A comment is recorded *after* it is
    posted, so a crash in between repeats the comment on retry (a duplicate rather than a loss).

    A transcript or update whose ticket is not there yet waits for it (``ticket_wait_s``, polling);
    a transcript that carries its work order's index record (``payload["work_order"]``: queue,
    call_type, received, due) then opens the ticket itself, so it never outruns its work order
    into the dead letters. A department queue RT does not have (403 on create) falls back to
    ``default_queue``, the department named in the ticket's first message.

    Args:
        client: the REST2 client.
        default_queue: queue for a work order whose payload names none, or names one RT lacks.
        name: sink name for logs and the outbox stream.
        ticket_wait_s: how long a transcript or update waits for its ticket, seconds.
        sleep: ``asyncio.sleep`` (tests pass their own).
    """

    def __init__(self, client: RtClient, *, default_queue: str = "general", name: str = "rt",
                 ticket_wait_s: float = 10.0, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.name = name
        self._client = client
        self._default_queue = default_queue
        self.ticket_wait_s = ticket_wait_s
        self._sleep = sleep

    async def deliver(self, event: OutboxEvent) -> None:
        """Apply one event (see the module docstring of :mod:`hotline.ticketing.connector` for payloads).

        Raises:
            WorkOrderNotFound: an update or transcript without work-order facts came before its
                ticket, and the ticket did not appear within ``ticket_wait_s`` (retryable).
            UnknownEventKind: not a work-order event.
            FieldsNotApplied, TicketingRejected, TicketingUnavailable: from :class:`RtClient`.
        """
        if event.kind == WORK_ORDER_CREATED:
            await self._create(event)
        elif event.kind == WORK_ORDER_TRANSCRIPT:
            await self._transcript(event)
        elif event.kind == WORK_ORDER_UPDATED:
            await self._update(event)
        else:
            raise UnknownEventKind(event.kind)

    async def ticket_for_call(self, linkedid: str) -> int | None:
        """The work-order ticket of a call, or None."""
        return await self._client.find_ticket_id(FIELD_LINKEDID, linkedid)

    async def _create(self, event: OutboxEvent) -> None:
        if await self._client.find_ticket_id(FIELD_EVENTS, event.event_id) is not None:
            return
        p = event.payload
        due = dt.datetime.fromisoformat(p["due"]) if p.get("due") else None
        fields: dict[str, FieldValue | None] = {
            FIELD_CALLER_NUMBER: p.get("caller_number"),
            FIELD_CALL_TYPE: p.get("call_type"),
            FIELD_DISTRICT: p.get("district"),
            FIELD_LINKEDID: event.linkedid,
            FIELD_RECORDING: p.get("recording_url"),
        }
        subject = p.get("subject") or f"12345 {p.get('call_type', 'work order')} {event.linkedid}"
        ticket_id = await self.ticket_for_call(event.linkedid)
        if ticket_id is None:
            ticket_id = await self._open(p.get("queue"), subject, fields, due, p.get("description"))
        else:  # an earlier attempt made it (some field did not take), or a transcript opened it
            await self._client.update_ticket(ticket_id, custom_fields=fields, due=due, subject=subject)
        await self._mark_applied(ticket_id, event.event_id)

    async def _open(self, queue: str | None, subject: str, fields: Mapping[str, FieldValue | None],
                    due: dt.datetime | None, content: str | None) -> int:
        """Create the ticket in ``queue``; in ``default_queue`` if RT refuses that queue (it has none such)."""
        queue = queue or self._default_queue
        try:
            return await self._client.create_ticket(queue, subject, custom_fields=fields, due=due, content=content)
        except TicketingRejected as exc:
            if queue == self._default_queue or exc.status not in (400, 403):  # RT 5 says 403 (or 400)
                raise
        note = f"部门队列 department queue {queue!r} is not in RT: filed in {self._default_queue!r}"
        return await self._client.create_ticket(self._default_queue, subject, custom_fields=fields, due=due,
                                                content=f"{note}\n\n{content}" if content else note)

    async def _mark_applied(self, ticket_id: int, event_id: str, applied: Sequence[str] | None = None) -> None:
        if applied is None:
            applied = custom_field_values(await self._client.get_ticket(ticket_id)).get(FIELD_EVENTS, [])
        if event_id not in applied:
            await self._client.update_custom_fields(ticket_id, {FIELD_EVENTS: [*applied, event_id]})

    async def _wait_for_ticket(self, linkedid: str) -> int | None:
        """The call's ticket, polling for up to ``ticket_wait_s`` (0.25 s doubling to 2 s between looks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ticket_wait_s
        pause = 0.25
        while True:
            ticket_id = await self.ticket_for_call(linkedid)
            left = deadline - loop.time()
            if ticket_id is not None or left <= 0:
                return ticket_id
            await self._sleep(min(pause, left))
            pause = min(2.0, pause * 2)

    async def _ticket_and_applied(self, event: OutboxEvent) -> tuple[int, list[str]]:
        ticket_id = await self._wait_for_ticket(event.linkedid)
        if ticket_id is None:
            ticket_id = await self._open_from_record(event)
        ticket = await self._client.get_ticket(ticket_id)
        return ticket_id, custom_field_values(ticket).get(FIELD_EVENTS, [])

    async def _open_from_record(self, event: OutboxEvent) -> int:
        """Open the ticket from the work order's index record carried by the event.

        Raises:
            WorkOrderNotFound: the event carries no record (retryable: the ticket may still come).
        """
        record = event.payload.get("work_order")
        if not isinstance(record, Mapping) or not record.get("due"):
            raise WorkOrderNotFound(event.linkedid)
        call_type = str(record.get("call_type") or "consultation")
        fields: dict[str, FieldValue | None] = {FIELD_CALL_TYPE: call_type, FIELD_LINKEDID: event.linkedid}
        note = (f"工单由转写事件创建 opened from the {event.kind} event: the work order's own event had not "
                f"arrived (received {record.get('received', '-')}); it completes this ticket when it does.")
        return await self._open(str(record.get("queue") or "") or None, f"12345 {call_type} {event.linkedid}",
                                fields, dt.datetime.fromisoformat(str(record["due"])), note)

    async def _transcript(self, event: OutboxEvent) -> None:
        ticket_id, applied = await self._ticket_and_applied(event)
        if event.event_id in applied:
            return
        subject = event.payload.get("subject") or "通话转写 transcript"
        await self._client.comment(ticket_id, str(event.payload["text"]), subject=subject)
        await self._mark_applied(ticket_id, event.event_id, applied)

    async def _update(self, event: OutboxEvent) -> None:
        ticket_id, applied = await self._ticket_and_applied(event)
        if event.event_id in applied:
            return
        p = event.payload
        fields: dict[str, FieldValue] = {str(k): v for k, v in (p.get("custom_fields") or {}).items()}
        if p.get("satisfaction"):
            fields[FIELD_SATISFACTION] = str(p["satisfaction"])
        if p.get("note"):
            await self._client.comment(ticket_id, str(p["note"]), subject="回访 callback")
        if fields:
            await self._client.update_custom_fields(ticket_id, fields)
        # Recorded only once the fields took: a rejected update is not marked as applied.
        await self._mark_applied(ticket_id, event.event_id, applied)
