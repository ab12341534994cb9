"""Working calendar: Chinese statutory holidays, make-up working days and business hours.

Pure functions over dates and datetimes (no clock is read here: ``now``/``when`` is passed in).

Day kinds, for a calendar date in local time:

* ``"working"``: Monday to Friday that is not a statutory holiday, or a make-up working day
  (调休上班, e.g. Sunday 2025-09-28 and Saturday 2025-10-11 before and after Golden Week).
* ``"holiday"``: a statutory holiday (e.g. 2025-10-01..08 National Day + Mid-Autumn), including
  the weekends folded into it, or a date declared a holiday in the local overrides.
* ``"rest"``: an ordinary weekend day.

Sources, highest priority first: the local overrides (dates declared ``holidays`` or ``workdays``),
then the ``chinese-calendar`` package (``chinese_calendar``; it knows 2004 up to the year its
release covers), then, only if the overrides say ``unknown_year: weekends``, the plain
weekends-only rule. By default a year the library does not know raises
:class:`UnknownCalendarYear`: an SLA deadline or a holiday greeting that is silently wrong for a
whole year is worse than a loud error at start. The IVR interpreter, which must never raise
mid-call, catches it and falls back to weekends-only for that decision with a warning.

Business hours are given per *day kind* rather than per weekday name. That is deliberate: a
make-up Saturday must get working-day hours and a statutory holiday on a Wednesday must not, which
a ``mon-fri`` table cannot express.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline.errors import HotlineError

DayKind = Literal["working", "rest", "holiday"]
Status = Literal["open", "closed", "holiday"]
UnknownYearPolicy = Literal["error", "weekends"]

_MAX_SCAN_DAYS = 3660  # ten years: bounds every day-by-day loop


class CalendarError(HotlineError, ValueError):
    """Base class for working-calendar errors."""


class UnknownCalendarYear(CalendarError):
    """The holiday library has no data for a year and the overrides do not allow a fallback.

    Attributes:
        year: the year asked about.
    """

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"no Chinese holiday data for {year} (chinese-calendar {_library_version()} does not know it): "
            f"declare that year's holidays and make-up workdays in the calendar overrides file, "
            f"or set 'unknown_year: weekends' there to fall back to weekends-only"
        )


class CalendarOverridesError(CalendarError):
    """The calendar overrides file is unreadable or invalid.

    Attributes:
        source: the file name (or ``"<dict>"``).
        problems: one human-readable line per problem.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _library_version() -> str:
    return str(getattr(chinese_calendar, "__version__", "?"))


@dataclass(frozen=True, slots=True)
class CalendarOverrides:
    """Local corrections to the holiday library.

    Attributes:
        holidays: dates that are holidays whatever the library says (local events, typhoon days).
        workdays: dates that are working days whatever the library says (local make-up days).
            A date in both sets is rejected by :func:`parse_overrides`.
        unknown_year: ``"error"`` (default) raises :class:`UnknownCalendarYear` for a year the
            library does not know and that has no override for that date; ``"weekends"`` treats
            such dates as Monday-Friday working, Saturday-Sunday rest.
    """

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    unknown_year: UnknownYearPolicy = "error"


NO_OVERRIDES = CalendarOverrides()


class _OverridesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holidays: list[dt.date] = Field(default_factory=list)
    workdays: list[dt.date] = Field(default_factory=list)
    unknown_year: UnknownYearPolicy = "error"

    @model_validator(mode="after")
    def _disjoint(self) -> _OverridesIn:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"dates declared both holiday and workday: {', '.join(map(str, both))}")
        return self


def parse_overrides(data: Mapping[str, Any] | None, source: str = "<dict>") -> CalendarOverrides:
    """Validate an overrides mapping.

    Args:
        data: ``{"holidays": ["2027-01-01", ...], "workdays": [...], "unknown_year": "error"}``;
            dates as ISO strings or ``datetime.date``. ``None`` means no overrides.
        source: the file name, for error messages.
    Returns:
        The overrides.
    Raises:
        CalendarOverridesError: unknown keys, bad dates, a date in both lists; all listed.
    """
    if data is None:
        return NO_OVERRIDES
    try:
        parsed = _OverridesIn.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()]
        raise CalendarOverridesError(source, problems) from None
    return CalendarOverrides(frozenset(parsed.holidays), frozenset(parsed.workdays), parsed.unknown_year)


def load_overrides(path: str | Path) -> CalendarOverrides:
    """Read and validate a calendar overrides file (``.yaml``/``.yml`` or ``.json``).

    Args:
        path: the file; an empty file means no overrides.
    Returns:
        The overrides.
    Raises:
        CalendarOverridesError: the file is missing, unparsable or invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise CalendarOverridesError(str(path), [str(exc)]) from None
    if data is not None and not isinstance(data, Mapping):
        raise CalendarOverridesError(str(path), ["expected a mapping with 'holidays' and 'workdays'"])
    return parse_overrides(data, str(path))


def day_kind(day: dt.date, overrides: CalendarOverrides = NO_OVERRIDES) -> DayKind:
    """Classify a local calendar date as ``"working"``, ``"rest"`` or ``"holiday"``.

    Args:
        day: a date in the hotline's local time (not UTC).
        overrides: local corrections; they win over the library.
    Returns:
        The day kind (see the module docstring).
    Raises:
        UnknownCalendarYear: the library does not know ``day.year``, the date is not overridden,
            and ``overrides.unknown_year`` is ``"error"``.
    """
    if day in overrides.holidays:
        return "holiday"
    if day in overrides.workdays:
        return "working"
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        if overrides.unknown_year == "weekends":
            return "working" if day.weekday() < 5 else "rest"
        raise UnknownCalendarYear(day.year) from None
    if not is_holiday:
        return "working"
    return "holiday" if name else "rest"


def is_working_day(day: dt.date, overrides: CalendarOverrides = NO_OVERRIDES) -> bool:
    """Whether a local date is a working day (make-up Saturdays are; weekday holidays are not).

    Raises:
        UnknownCalendarYear: see :func:`day_kind`.
    """
    return day_kind(day, overrides) == "working"


def add_working_days(start: dt.datetime, days: int, overrides: CalendarOverrides = NO_OVERRIDES) -> dt.datetime:
    """The same clock time on the ``days``-th working day after ``start``'s date.

    ``start``'s own date never counts, whether or not it is a working day: a request received on
    Tuesday 2025-09-30 10:00 with 5 working days is due 2025-10-14 10:00 (Oct 1-8 holidays; Oct 9,
    10, 11 (make-up Saturday), 13, 14). The time zone of ``start`` (aware or naive) is kept, so
    pass a datetime in the hotline's local zone (e.g. ``Asia/Shanghai``), not UTC.

    Args:
        start: when the clock starts.
        days: number of working days, >= 0; 0 returns ``start`` unchanged.
        overrides: local calendar corrections.
    Returns:
        The deadline, same ``tzinfo`` as ``start``.
    Raises:
        ValueError: ``days`` is negative.
        UnknownCalendarYear: a date on the way is in a year the calendar does not know.
    """
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    day = start.date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
    return dt.datetime.combine(day, start.timetz()) if days else start


class TimeRange(BaseModel):
    """An opening range within one local day, written ``"08:30-12:00"`` (end may be ``24:00``).

    Attributes:
        start_min: minutes after local midnight, inclusive.
        end_min: minutes after local midnight, exclusive; 1440 means end of day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_min: int = Field(ge=0, le=1440)
    end_min: int = Field(ge=0, le=1440)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                a, b = value.split("-")
                return {"start_min": _minutes(a), "end_min": _minutes(b)}
            except ValueError:
                raise ValueError(f"expected 'HH:MM-HH:MM', got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start_min >= self.end_min:
            raise ValueError("range must end after it starts")
        return self

    def __str__(self) -> str:
        return f"{_hhmm(self.start_min)}-{_hhmm(self.end_min)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hh, mm = text.strip().split(":")
    h, m = int(hh), int(mm)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m


class BusinessHours(BaseModel):
    """Opening hours per day kind, in a named time zone.

    Example (YAML)::

        tz: Asia/Shanghai
        working_days: ["08:30-12:00", "13:30-18:00"]
        rest_days: ["09:00-17:00"]     # ordinary weekends; empty = closed
        holidays: []                   # statutory holidays; empty = "holiday" status

    Attributes:
        tz: IANA zone name, resolved with ``zoneinfo``.
        working_days: ranges on working days (including make-up days).
        rest_days: ranges on ordinary weekends.
        holidays: ranges on holidays.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tz: str = "Asia/Shanghai"
    working_days: tuple[TimeRange, ...] = ()
    rest_days: tuple[TimeRange, ...] = ()
    holidays: tuple[TimeRange, ...] = ()

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The ``ZoneInfo`` for :attr:`tz`."""
        return ZoneInfo(self.tz)

    def ranges_for(self, kind: DayKind) -> tuple[TimeRange, ...]:
        """The opening ranges for a day kind."""
        return {"working": self.working_days, "rest": self.rest_days, "holiday": self.holidays}[kind]


def _local(hours: BusinessHours, when: float | dt.datetime) -> dt.datetime:
    if isinstance(when, dt.datetime):
        return when.astimezone(hours.zone) if when.tzinfo else when.replace(tzinfo=hours.zone)
    return dt.datetime.fromtimestamp(when, hours.zone)


def status_at(hours: BusinessHours, when: float | dt.datetime, overrides: CalendarOverrides = NO_OVERRIDES) -> Status:
    """Whether a line is ``"open"``, ``"closed"`` or closed for a ``"holiday"`` at an instant.

    Args:
        hours: the node's business hours.
        when: epoch seconds, or a datetime (aware: converted to ``hours.tz``; naive: taken as
            local time in ``hours.tz``).
        overrides: local calendar corrections.
    Returns:
        ``"open"`` inside a range for the day's kind; otherwise ``"holiday"`` on a holiday and
        ``"closed"`` on working and rest days.
    Raises:
        UnknownCalendarYear: see :func:`day_kind`.
    """
    local = _local(hours, when)
    kind = day_kind(local.date(), overrides)
    minute = local.hour * 60 + local.minute
    if any(r.start_min <= minute < r.end_min for r in hours.ranges_for(kind)):
        return "open"
    return "holiday" if kind == "holiday" else "closed"


def add_working_hours(
    start: dt.datetime,
    hours: float,
    business_hours: BusinessHours,
    overrides: CalendarOverrides = NO_OVERRIDES,
) -> dt.datetime:
    """The instant when ``hours`` of open time (per ``business_hours``) have elapsed after ``start``.

    Time outside the opening ranges does not count: 2 working hours from Friday 17:00 with
    ``working_days: ["08:30-18:00"]`` ends Monday 09:30 (unless Monday is a holiday).

    Args:
        start: aware datetime (naive: taken as local time in ``business_hours.tz``).
        hours: open hours to add, >= 0 (fractions allowed).
        business_hours: the opening ranges per day kind.
        overrides: local calendar corrections.
    Returns:
        An aware datetime in ``business_hours.tz``.
    Raises:
        ValueError: ``hours`` is negative, or no opening time within ten years.
        UnknownCalendarYear: see :func:`day_kind`.
    """
    if hours < 0:
        raise ValueError(f"hours must be >= 0, got {hours}")
    cursor = _local(business_hours, start)
    remaining = dt.timedelta(hours=hours)
    if not remaining:
        return cursor
    zone = business_hours.zone
    day = cursor.date()
    for _ in range(_MAX_SCAN_DAYS):
        midnight = dt.datetime.combine(day, dt.time(), zone)
        for r in business_hours.ranges_for(day_kind(day, overrides)):
            begin = max(midnight + dt.timedelta(minutes=r.start_min), cursor)
            end = midnight + dt.timedelta(minutes=r.end_min)
            if end <= begin:
                continue
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        day += dt.timedelta(days=1)
    raise ValueError("no opening time found within ten years: are the business hours empty?")


def working_days_between(first: dt.date, last: dt.date, overrides: CalendarOverrides = NO_OVERRIDES) -> int:
    """Number of working days in the closed range ``first..last`` (0 if ``last < first``).

    Raises:
        UnknownCalendarYear: see :func:`day_kind`.
    """
    return sum(1 for d in _days(first, last) if is_working_day(d, overrides))


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)
