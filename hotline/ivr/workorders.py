"""Self-service work-order status and repeat-caller detection, behind one small interface.

:class:`WorkOrderLookup` is what the IVR adapter asks; :class:`RtWorkOrders` answers from Request
Tracker 5 (``ticketing.rt.RtClient``: the work-order number is the RT ticket id, the caller's number
is the ``Caller Number`` custom field), :class:`InMemoryWorkOrders` is the stand-in for tests and
labs without RT. Status ids are those of the menu's ``status_prompts``: ``received``,
``in_progress``, ``replied``, ``closed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hotline.kernel.errors import HotlineError
from hotline.ticketing.errors import TicketingError, TicketingRejected
from hotline.ticketing.rt import FIELD_CALLER_NUMBER, RtClient

#: RT 5 lifecycle status -> hotline status id
RT_STATUS: Mapping[str, str] = {
    "new": "received",
    "open": "in_progress",
    "stalled": "in_progress",
    "resolved": "closed",
    "rejected": "closed",
}
#: RT statuses counted as "open work order" for repeat callers
RT_ACTIVE = frozenset({"new", "open", "stalled"})


class WorkOrderLookupError(HotlineError):
    """The work-order system could not answer (down, timeout, refused). ``cause`` says why."""

    def __init__(self, what: str, cause: str) -> None:
        self.cause = cause
        super().__init__(f"work-order lookup {what} failed: {cause}")


@runtime_checkable
class WorkOrderLookup(Protocol):
    """Work orders as the IVR sees them."""

    async def status(self, number: str) -> str | None:
        """Status id of work order ``number`` (digits as typed), or None if there is none.

        Raises:
            WorkOrderLookupError: the system could not answer (the caller hears "unavailable").
        """
        ...

    async def open_for_caller(self, caller_num: str) -> tuple[str, ...]:
        """Numbers of the caller's open work orders, newest first (empty: not a repeat caller).

        Raises:
            WorkOrderLookupError: the system could not answer (the IVR then offers no follow-up).
        """
        ...


@dataclass
class InMemoryWorkOrders:
    """A stand-in: ``orders`` maps number -> (caller number, status id). ``closed`` is not open."""

    orders: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail: bool = False  # answer every call with WorkOrderLookupError (fault tests)

    def add(self, number: str, caller_num: str, status: str = "received") -> None:
        self.orders[number] = (caller_num, status)

    async def status(self, number: str) -> str | None:
        if self.fail:
            raise WorkOrderLookupError(f"status({number})", "stand-in set to fail")
        found = self.orders.get(number.lstrip("0") or "0") or self.orders.get(number)
        return found[1] if found else None

    async def open_for_caller(self, caller_num: str) -> tuple[str, ...]:
        if self.fail:
            raise WorkOrderLookupError(f"open_for_caller({caller_num})", "stand-in set to fail")
        found = [n for n, (c, s) in self.orders.items() if c == caller_num and s != "closed"]
        return tuple(sorted(found, reverse=True))


class RtWorkOrders:
    """Work orders in Request Tracker 5.

    Args:
        client: an :class:`hotline.ticketing.rt.RtClient` (its own timeouts apply per request).
        status_map: RT status -> status id (default :data:`RT_STATUS`; unknown -> ``unknown``).
        max_checked: newest tickets of a caller whose status is read (one GET each).
    """

    def __init__(self, client: RtClient, *, status_map: Mapping[str, str] = RT_STATUS, max_checked: int = 5) -> None:
        self._client = client
        self._map = status_map
        self._max = max_checked

    async def status(self, number: str) -> str | None:
        digits = number.strip()
        if not digits.isdigit() or int(digits) == 0:
            return None
        try:
            ticket = await self._client.get_ticket(int(digits))
        except TicketingRejected as exc:
            if getattr(exc, "status", None) in (403, 404):
                return None
            raise WorkOrderLookupError(f"status({number})", str(exc)) from exc
        except TicketingError as exc:
            raise WorkOrderLookupError(f"status({number})", str(exc)) from exc
        return self._map.get(str(ticket.get("Status", "")).lower(), "unknown")

    async def open_for_caller(self, caller_num: str) -> tuple[str, ...]:
        if not caller_num:
            return ()
        try:
            ids = await self._client.find_ticket_ids(FIELD_CALLER_NUMBER, caller_num)
            open_ids = []
            for ticket_id in sorted(ids, reverse=True)[: self._max]:
                ticket = await self._client.get_ticket(ticket_id)
                if str(ticket.get("Status", "")).lower() in RT_ACTIVE:
                    open_ids.append(str(ticket_id))
        except TicketingError as exc:
            raise WorkOrderLookupError(f"open_for_caller({caller_num})", str(exc)) from exc
        return tuple(open_ids)
