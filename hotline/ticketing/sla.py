"""Work-order SLA clock: due dates on the Chinese working calendar, yellow and red cards.

Pure: no clock is read here (``now`` is an argument), nothing is published. The working calendar
(statutory holidays, make-up working days, the operator's calendar file) is one
:class:`hotline.kernel.calendar.WorkingCalendar`, built in the composition root and shared with the IVR's
business hours and the callbacks dialler so that all agree on what a working day is.

Deadlines, by call type (defaults; each one is configurable in :class:`SlaPolicy`):

* consultation (咨询): 24 calendar hours after receipt;
* request (求助): 5 working days;
* complaint (投诉): 5 working days;
* suggestion (建议): 10 working days.

"N working days" follows :meth:`hotline.kernel.calendar.WorkingCalendar.add_working_days`: the same
clock time on the N-th
working day after the day of receipt (the day of receipt never counts). A request received on
Tuesday 2025-09-30 10:00 is due Tuesday 2025-10-14 10:00: Oct 1-8 are the National Day and
Mid-Autumn holidays, then Oct 9, 10, 11 (a make-up Saturday), 13 and 14.

A due date is never refused: :func:`due_for` says which source(s) the counted days came from
(``file``, ``chinese-calendar``, ``holidays``) and is ``provisional`` when a year had no official
data: then the statutory holidays computed by law (``holidays-statutory``, no make-up working days)
or, without the ``holidays`` package, the weekday rule (``weekdays``) were used (a WARNING is logged
once for that year by the calendar).

Cards (督办 yellow/red cards), for an open work order at ``now``:

* red: ``now >= due``;
* yellow: not red, and the time left is at most ``yellow_ratio`` of the whole allowance
  (``due - received``) or at most ``yellow_within``, whichever threshold is larger;
* otherwise none. A closed work order never has a card.

Times are aware datetimes; the calendar is evaluated in ``SlaPolicy.zone`` (Asia/Shanghai).
Adapters convert at the edge (RT wants naive UTC strings: :func:`hotline.ticketing.rt.rt_datetime`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from hotline.kernel.calendar import DEFAULT_CALENDAR, DueDate, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

Card = Literal["yellow", "red"]


class CallType(StrEnum):
    """What the citizen wanted; decides the deadline. Values match RT's ``Call Type`` field."""

    CONSULTATION = "consultation"
    REQUEST = "request"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


@dataclass(frozen=True, slots=True)
class Allowance:
    """Time allowed to close a work order: calendar hours or working days (exactly one).

    Attributes:
        hours: calendar hours (holidays count), > 0.
        working_days: working days on the Chinese calendar, > 0.
    """

    hours: float | None = None
    working_days: int | None = None

    def __post_init__(self) -> None:
        if (self.hours is None) == (self.working_days is None):
            raise ValueError("an allowance is either hours or working_days, not both or neither")
        if (self.hours is not None and self.hours <= 0) or (
            self.working_days is not None and self.working_days <= 0
        ):
            raise ValueError(f"an allowance must be positive: {self}")


def _default_allowances() -> Mapping[CallType, Allowance]:
    return {
        CallType.CONSULTATION: Allowance(hours=24),
        CallType.REQUEST: Allowance(working_days=5),
        CallType.COMPLAINT: Allowance(working_days=5),
        CallType.SUGGESTION: Allowance(working_days=10),
    }


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Deadlines and card thresholds.

    Attributes:
        allowances: allowance per call type; every :class:`CallType` must be present.
        yellow_ratio: yellow when the time left is at most this fraction (0-1) of the allowance.
        yellow_within: yellow when the time left is at most this duration (None: ratio only).
        zone: the zone in which calendar days are counted.
        calendar: the service's working calendar (:func:`hotline.kernel.calendar.build_calendar`).
    """

    allowances: Mapping[CallType, Allowance] = field(default_factory=_default_allowances)
    yellow_ratio: float = 0.2
    yellow_within: dt.timedelta | None = dt.timedelta(hours=4)
    zone: ZoneInfo = SHANGHAI
    calendar: WorkingCalendar = DEFAULT_CALENDAR

    def __post_init__(self) -> None:
        missing = [t.value for t in CallType if t not in self.allowances]
        if missing:
            raise ValueError(f"SLA policy has no allowance for: {', '.join(missing)}")
        if not 0 <= self.yellow_ratio < 1:
            raise ValueError(f"yellow_ratio must be in [0, 1), got {self.yellow_ratio}")


DEFAULT_POLICY = SlaPolicy()


@dataclass(frozen=True, slots=True)
class WorkOrderClock:
    """The SLA-relevant part of a work order.

    Attributes:
        received: when the hotline accepted it (aware).
        due: the deadline (aware), from :func:`due_date`.
        closed: when it was closed (aware), or None while open.
    """

    received: dt.datetime
    due: dt.datetime
    closed: dt.datetime | None = None


def _require_aware(name: str, value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")


def due_for(call_type: CallType | str, received: dt.datetime, policy: SlaPolicy = DEFAULT_POLICY) -> DueDate:
    """The deadline of a work order, with the calendar source(s) it used.

    Args:
        call_type: a :class:`CallType` or its value (``"consultation"``...).
        received: when the work order was accepted; aware (any zone).
        policy: allowances, zone and the working calendar.
    Returns:
        ``DueDate.at`` is aware, in ``policy.zone``; ``sources`` is ``()`` for calendar hours;
        ``provisional`` when a counted day is from a provisional tier (``holidays-statutory`` or
        ``weekdays``: a year with no official data).
    Raises:
        ValueError: ``received`` is naive, or ``call_type`` is unknown. Never for a calendar year.
    """
    _require_aware("received", received)
    allowance = policy.allowances[CallType(call_type)]
    if allowance.hours is not None:
        # Calendar hours: add in UTC so that a zone's offset change cannot shift the deadline.
        return DueDate((received.astimezone(dt.UTC) + dt.timedelta(hours=allowance.hours)).astimezone(policy.zone))
    assert allowance.working_days is not None
    return policy.calendar.add_working_days(received.astimezone(policy.zone), allowance.working_days)


def due_date(
    call_type: CallType | str, received: dt.datetime, policy: SlaPolicy = DEFAULT_POLICY
) -> dt.datetime:
    """The deadline only (see :func:`due_for`, which also says the calendar source).

    Raises:
        ValueError: ``received`` is naive, or ``call_type`` is unknown.
    """
    return due_for(call_type, received, policy).at


def card_for(work_order: WorkOrderClock, now: dt.datetime, policy: SlaPolicy = DEFAULT_POLICY) -> Card | None:
    """The card a work order carries at ``now``.

    Args:
        work_order: received/due/closed times (aware).
        now: the current instant (aware).
        policy: ``yellow_ratio`` and ``yellow_within`` thresholds.
    Returns:
        ``"red"`` when overdue, ``"yellow"`` when near due (see the module docstring), None when
        on time or closed (not an error).
    Raises:
        ValueError: a naive datetime.
    """
    _require_aware("now", now)
    _require_aware("due", work_order.due)
    _require_aware("received", work_order.received)
    if work_order.closed is not None:
        return None
    left = work_order.due - now
    if left <= dt.timedelta(0):
        return "red"
    threshold = (work_order.due - work_order.received) * policy.yellow_ratio
    if policy.yellow_within is not None:
        threshold = max(threshold, policy.yellow_within)
    return "yellow" if left <= threshold else None
