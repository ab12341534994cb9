"""The working calendar for operators: ``hotline calendar show|due``, the check line, the /metrics gauge.

    hotline calendar show [YEAR]                               holidays and make-up working days, with sources
    hotline calendar due "2026-12-28 16:00" --type request     a due date, the days counted, the source(s)

Times without an offset are Asia/Shanghai. The calendar is the service's one
(:func:`hotline.kernel.calendar.build_calendar` from the root ``calendar:`` settings), so what these commands
print is what the IVR, the SLA clock and the dialler use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any

from hotline.app.check import Probe
from hotline.app.config import Settings
from hotline.kernel.calendar import (
    WEEKDAYS,
    CalendarSettings,
    DayInfo,
    WorkingCalendar,
    build_calendar,
    calendar_warning,
)
from hotline.ticketing.sla import DEFAULT_POLICY, SHANGHAI, CallType, SlaPolicy, due_for

WEEKDAYS_ZH = "一二三四五六日"
CALL_TYPE_ZH = {"consultation": "咨询", "request": "求助", "complaint": "投诉", "suggestion": "建议"}


class CalendarGauges:
    """``calendar_days_left`` for ``/metrics`` (``hotline_calendar_days_left``): days until the official
    holiday data ends, from ``clock`` in Asia/Shanghai. Cheap after the first call (cached years)."""

    def __init__(self, calendar: WorkingCalendar, clock: Callable[[], float] = time.time) -> None:
        self.calendar = calendar
        self.clock = clock

    def gauges(self) -> Mapping[str, float]:
        today = dt.datetime.fromtimestamp(self.clock(), SHANGHAI).date()
        return {"calendar_days_left": float(self.calendar.days_left(today))}


def coverage(calendar: WorkingCalendar, today: dt.date) -> str:
    """``"2026: chinese-calendar, 2027: none (holidays-statutory, provisional)"``: the source of this year
    and the next (an unknown year names the provisional tier it uses, logged once by the calendar)."""
    parts = []
    for year in (today.year, today.year + 1):
        data = calendar.known(year)
        source = data.source if data is not None else f"none ({calendar.year(year).source}, provisional)"
        parts.append(f"{year}: {source}")
    return ", ".join(parts)


def _provisional_text(calendar: WorkingCalendar, year: int) -> str:
    """What a provisional year follows: ``"holidays-statutory: statutory holidays computed by law, ..."``."""
    source = calendar.year(year).source
    if source == WEEKDAYS:
        return f"{source}: weekday rule Mon-Fri, no holidays"
    return f"{source}: statutory holidays computed by law, no make-up working days (调休上班)"


def probe_for(calendar: WorkingCalendar, today: dt.date, warn_days: int = 60) -> Probe:
    """The ``hotline check`` line (pure given ``today``): ok, or WARN within ``warn_days`` of the end of
    the official data. Never a failure: a provisional due date is still a due date."""
    warning = calendar_warning(calendar, today, warn_days)
    cover = coverage(calendar, today)
    if warning is not None:
        return Probe("calendar", True, f"{warning} ({cover})", warn=True)
    end = calendar.known_until(today) - dt.timedelta(days=1)
    return Probe("calendar", True, f"official holiday data through {end} ({calendar.days_left(today)} days; {cover})")


def calendar_probe(settings: CalendarSettings, today: dt.date | None = None) -> Probe:
    """Load ``calendar.file`` and check the data's end (blocking: run in a thread).

    Returns:
        FAIL when the file is set and invalid; otherwise :func:`probe_for`.
    """
    from hotline.kernel.calendar import CalendarFileError

    try:
        calendar = build_calendar(settings.file)
    except CalendarFileError as exc:
        return Probe("calendar", False, f"{exc} -- fix calendar.file (see hotline/ivr/examples/calendar.yaml)")
    return probe_for(calendar, today or dt.datetime.now(SHANGHAI).date(), settings.warn_days)


# --- CLI --------------------------------------------------------------------------------------------


def _day(d: dt.date) -> str:
    return f"{d.isoformat()} 周{WEEKDAYS_ZH[d.weekday()]}"


def show_lines(calendar: WorkingCalendar, year: int) -> list[str]:
    """``hotline calendar show YEAR``: every holiday and make-up working day of ``year``, with sources."""
    data = calendar.year(year)
    head = f"{year} 年  来源 source: {data.source}"
    if data.note:
        head += f"  ({data.note})"
    lines = [head]
    if data.provisional:
        official = ", ".join(s.name for s in calendar.sources) or "no source"
        lines.append(f"  暂定 PROVISIONAL: no official data for {year} ({official}); "
                     f"{_provisional_text(calendar, year)} -- add {year} to calendar.file when the State "
                     f"Council publishes it")
    days = [calendar.day(dt.date(year, 1, 1) + dt.timedelta(days=i))
            for i in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
    holidays = [d for d in days if d.kind == "holiday"]
    makeup = [d for d in days if d.kind == "working" and d.day.weekday() >= 5]
    lines.append(f"节假日 holidays ({len(holidays)}):")
    lines += [_show(d, folded=d.day not in data.holidays) for d in holidays] or ["  (none)"]
    lines.append(f"调休上班 make-up working days ({len(makeup)}):")
    lines += [_show(d) for d in makeup] or ["  (none)"]
    return lines


def _show(d: DayInfo, folded: bool = False) -> str:
    extra = "  (周末并入 weekend joined to the holiday)" if folded else ""
    return f"  {_day(d.day)}  [{d.source}]  {d.name or '-'}{extra}"


def parse_local(text: str) -> dt.datetime:
    """``"2026-12-28 16:00"`` (Asia/Shanghai when no offset) -> aware datetime.

    Raises:
        ValueError: not ISO 8601.
    """
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=SHANGHAI)


def due_lines(calendar: WorkingCalendar, received: dt.datetime, call_type: str,
              policy: SlaPolicy = DEFAULT_POLICY) -> list[str]:
    """``hotline calendar due``: the due time, the working days counted, the source(s), provisional or not."""
    from dataclasses import replace

    policy = replace(policy, calendar=calendar)
    due = due_for(call_type, received, policy)
    allowance = policy.allowances[CallType(call_type)]
    local = received.astimezone(policy.zone)
    at = due.at.astimezone(policy.zone)
    lines = [f"受理 received    {_day(local.date())} {local:%H:%M}",
             f"类型 type        {call_type} {CALL_TYPE_ZH.get(call_type, '')}: " + (
                 f"{allowance.hours:g} 小时 calendar hours" if allowance.hours is not None
                 else f"{allowance.working_days} 个工作日 working days"),
             f"办理时限 due     {_day(at.date())} {at:%H:%M}"]
    if due.working_days is not None:
        counted: list[str] = []
        day = local.date()
        while day < at.date():
            day += dt.timedelta(days=1)
            info = calendar.day(day)
            if info.kind == "working":
                counted.append(day.isoformat() + (f" ({info.name})" if info.name else ""))
        lines.append(f"工作日 counted   {len(counted)}: {', '.join(counted)}")
        lines.append(f"来源 source      {due.source}")
    else:
        lines.append("来源 source      clock (calendar hours: holidays do not change it)")
    if due.provisional:
        years = [y for y in range(local.year, at.year + 1) if calendar.known(y) is None]
        lines.append("暂定 provisional yes: no official holiday data for "
                     + "; ".join(f"{y} ({_provisional_text(calendar, y)})" for y in years)
                     + " -- add it to calendar.file when the State Council publishes it")
    else:
        lines.append("暂定 provisional no")
    return lines


def _cmd_calendar(args: argparse.Namespace, settings: Settings) -> int:
    calendar = build_calendar(settings.calendar.file)  # CalendarFileError: one line, exit 2 (HotlineError)
    if args.calendar_cmd == "show":
        year = args.year or dt.datetime.now(SHANGHAI).year
        print("\n".join(show_lines(calendar, year)))
        return 0
    try:
        received = parse_local(args.received)
    except ValueError:
        print(f"hotline: {args.received!r} is not a time like '2026-12-28 16:00'")
        return 2
    print("\n".join(due_lines(calendar, received, args.type)))
    return 0


def add_parser(sub: Any) -> None:
    """Add ``calendar show|due`` to the ``hotline`` subparsers (``func(args, settings) -> int``)."""
    cal = sub.add_parser("calendar", help="working calendar: holidays, make-up days, due dates (with sources)")
    cal_sub = cal.add_subparsers(dest="calendar_cmd", required=True)
    show = cal_sub.add_parser("show", help="holidays and make-up working days of a year, with their source")
    show.add_argument("year", nargs="?", type=int, help="default: this year (Asia/Shanghai)")
    show.set_defaults(func=_cmd_calendar)
    due = cal_sub.add_parser("due", help="the due date of a work order received at a time")
    due.add_argument("received", help="e.g. '2026-12-28 16:00' (Asia/Shanghai unless an offset is given)")
    due.add_argument("--type", default="request", choices=[t.value for t in CallType])
    due.set_defaults(func=_cmd_calendar)
