"""Work orders closed in the ticketing system, announced in-process (the satisfaction follow-up hook).

What is observed: a ticket whose ``Status`` became ``resolved`` in Request Tracker (an operator or
a department closed the work order; RT REST2, polled: RT 5 has no outgoing notification without a
scrip). Every ``interval_s`` the watcher asks RT for ``Status = 'resolved' AND Resolved >
'<since>'`` (``since`` = start - ``lookback_s``, then the latest ``Resolved`` seen), reads each new
ticket and hands a :class:`WorkOrderClosed` to every subscriber (``subscribe(handler)``; async
handlers, each with ``handler_timeout_s``; a failing handler is logged, never retried). A ticket is
announced once per process; across restarts the lookback may announce it again, so subscribers
must be idempotent (the callbacks dialler's job id ``sat-<work order>`` is).

Pure part: :func:`closed_from_ticket` (REST2 ticket document -> event).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hotline.kernel.background import BackgroundTask, periodically
from hotline.ticketing.errors import TicketingError
from hotline.ticketing.rt import (
    FIELD_CALLER_NUMBER,
    FIELD_LINKEDID,
    RtClient,
    custom_field_values,
    parse_rt_datetime,
    rt_datetime,
)

log = logging.getLogger("hotline.ticketing.closed")

#: RT statuses that close a work order and call for a satisfaction follow-up
CLOSED_FOR_SURVEY = frozenset({"resolved"})


@dataclass(frozen=True, slots=True)
class WorkOrderClosed:
    """A closed work order.

    Attributes:
        work_order_id: the call's linkedid (RT custom field ``Linkedid``), the work order's id.
        ticket_id: RT ticket id.
        department: RT queue name (the department that handled it).
        caller_number: RT custom field ``Caller Number`` ('' if none).
        closed_at: epoch s (RT ``Resolved``), None if RT has none.
    """

    work_order_id: str
    ticket_id: int
    department: str
    caller_number: str
    closed_at: float | None


def closed_from_ticket(ticket: Mapping[str, Any], department: str) -> WorkOrderClosed | None:
    """The event for a REST2 ticket document, or None (not resolved, or no ``Linkedid``: not ours)."""
    if str(ticket.get("Status", "")).lower() not in CLOSED_FOR_SURVEY:
        return None
    cf = custom_field_values(ticket)
    linkedid = (cf.get(FIELD_LINKEDID) or [""])[0]
    if not linkedid:
        return None
    resolved = parse_rt_datetime(ticket.get("Resolved"))
    closed_at = resolved.timestamp() if resolved is not None and resolved.year > 1970 else None
    return WorkOrderClosed(linkedid, int(ticket["id"]), department, (cf.get(FIELD_CALLER_NUMBER) or [""])[0],
                           closed_at)


Handler = Callable[[WorkOrderClosed], Awaitable[None]]


class ClosedWatcher:
    """Polls RT for resolved work orders and announces them (see the module docstring).

    Args:
        client: a factory of the RT client (called once per sweep: the HTTP session is the
            ticketing component's, opened at its start).
        interval_s: seconds between sweeps.
        lookback_s: at start, how far back resolved tickets are still announced.
        handler_timeout_s: budget of one subscriber call.
        clock: epoch seconds.
    """

    def __init__(self, client: Callable[[], RtClient], *, interval_s: float = 30.0, lookback_s: float = 3600.0,
                 handler_timeout_s: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.interval_s = interval_s
        self.handler_timeout_s = handler_timeout_s
        self.clock = clock
        self.since_at = clock() - lookback_s
        self.seen: set[int] = set()
        self.handlers: list[Handler] = []
        self.announced = 0
        self._bg = BackgroundTask("work-orders-closed")
        self._stop = self._bg.stopping

    def subscribe(self, handler: Handler) -> None:
        """Call ``handler(event)`` for each closed work order (in-process, in order)."""
        self.handlers.append(handler)

    async def sweep(self) -> list[WorkOrderClosed]:
        """One pass. Returns the events announced.

        Raises:
            TicketingError: RT is unreachable or refused the search (the next sweep tries again).
        """
        client = self.client()
        since = dt.datetime.fromtimestamp(self.since_at - 1, dt.UTC)
        ids = await client.search_ticket_ids(f"Status = 'resolved' AND Resolved > '{rt_datetime(since)}'",
                                             orderby="Resolved")
        out: list[WorkOrderClosed] = []
        newest = self.since_at
        for ticket_id in ids:
            if ticket_id in self.seen:
                continue
            ticket = await client.get_ticket(ticket_id)
            queue = ticket.get("Queue") or {}
            department = await client.queue_name(queue.get("id", "")) if isinstance(queue, Mapping) else str(queue)
            self.seen.add(ticket_id)
            event = closed_from_ticket(ticket, department)
            if event is None:
                continue
            if event.closed_at is not None:
                newest = max(newest, event.closed_at)
            out.append(event)
            await self._announce(event)
        self.since_at = newest  # only after a whole sweep: a ticket that failed midway is searched again
        return out

    async def _announce(self, event: WorkOrderClosed) -> None:
        self.announced += 1
        log.info("work order %s closed (ticket %d, %s)", event.work_order_id, event.ticket_id, event.department)
        for handler in self.handlers:
            try:
                async with asyncio.timeout(self.handler_timeout_s):
                    await handler(event)
            except Exception:  # a subscriber must not stop the watcher
                log.exception("work-order-closed handler failed for %s", event.work_order_id)

    async def start(self) -> None:
        """Start the task (returns at once; idempotent)."""
        self._bg.start(self._run)

    async def stop(self) -> None:
        """Ask the task to stop, cancel it and wait for it to end (idempotent)."""
        await self._bg.stop()

    async def _run(self) -> None:
        # a malformed ticket or an unwrapped client error is logged by periodically() and does not end the watcher
        await periodically(self.sweep, self.interval_s, self._stop, what="closed work orders sweep",
                           expected=(TicketingError,), warning="closed work orders: RT: %s", logger=log)
