"""Working calendar: Chinese statutory holidays, make-up working days and business hours.

One :class:`WorkingCalendar` object is built in the composition root (``hotline/app/service.py``, from
the root ``calendar:`` settings) and passed to the IVR (``schedule`` nodes), the SLA clock
(:mod:`hotline.ticketing.sla`) and the callbacks dialler (:mod:`hotline.callbacks.policy`), so all three agree on
what a working day is. No clock is read here (``now``/``today`` is passed in).

Day kinds, for a calendar date in local time:

* ``"working"``: Monday to Friday that is not a statutory holiday, or a make-up working day
  (调休上班, e.g. Sunday 2025-09-28 and Saturday 2025-10-11 before and after Golden Week).
* ``"holiday"``: a statutory holiday (e.g. 2025-10-01..08 National Day + Mid-Autumn), including
  the weekend days folded into it (a Saturday or Sunday joined to a holiday through weekend days
  only, as every State Council notice counts them).
* ``"rest"``: an ordinary weekend day.

Sources, decided **per year**: the first *official* source that knows the year wins; when none
does, the first *provisional* fallback that can compute the year; the weekday rule last:

1. ``file``: the operator's calendar file (``calendar.file``, :func:`load_calendar_file`); a year
   listed there is taken entirely from the file.
2. ``chinese-calendar``: the ``chinese_calendar`` package (official data, 2004 to the year of its
   release; 1.11.0 ends with 2026).
3. ``holidays``: the ``holidays`` package (``holidays.countries.china``). It *computes* the lunar
   holidays for any year up to 2100, but it carries the State Council's arrangement (the substituted
   days off and the make-up working days) only for the years listed in
   ``ChinaStaticHolidays.special_public_holidays`` (2001..2026 in 0.109). Only those years count as
   known: a computed year has no make-up working days and no bridging days, so it is not official.
4. ``holidays-statutory`` (fallback, **provisional**): the same package's holidays *computed by
   law* for a year without an official arrangement (:class:`StatutoryHolidaysSource`): 元旦, the
   Spring Festival days, 清明, 劳动节, 端午, 中秋, 国庆, with a holiday falling on a weekend moved
   to the next working day (``春节（补假）``). It has **no make-up working days** (调休上班): the
   State Council decides those each year, so a Saturday that will be worked is still a rest day here.
5. ``weekdays`` (last resort, **provisional**): Monday-Friday working, Saturday-Sunday rest, no
   holidays; used only when the ``holidays`` package is missing or fails for the year.

The first use of a provisional year is logged once (WARNING) with the year, the tier used and what
to do (add the year to ``calendar.file`` when the State Council publishes its notice). "Known"
(:meth:`WorkingCalendar.known`, :meth:`~WorkingCalendar.known_until`, the ``warn_days`` warning)
always means *official* data: a provisional tier never counts as known.

Nothing here raises for an uncovered year: a due date there is a provisional value, not an error.

Business hours are given per *day kind* rather than per weekday name. That is deliberate: a
make-up Saturday must get working-day hours and a statutory holiday on a Wednesday must not, which
a ``mon-fri`` table cannot express.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline.kernel.errors import HotlineError, ProblemsError

log = logging.getLogger("hotline.calendar")

DayKind = Literal["working", "rest", "holiday"]
Status = Literal["open", "closed", "holiday"]

FILE = "file"
CHINESE_CALENDAR = "chinese-calendar"
HOLIDAYS = "holidays"
HOLIDAYS_STATUTORY = "holidays-statutory"
WEEKDAYS = "weekdays"

_MAX_SCAN_DAYS = 3660  # ten years: bounds every day-by-day loop
_MAX_YEARS_AHEAD = 20  # bounds the "known until" scan


class CalendarError(HotlineError, ValueError):
    """Base class for working-calendar errors."""


class CalendarFileError(CalendarError, ProblemsError):
    """The operator's calendar file is unreadable or invalid.

    Attributes:
        source: the file name (or ``"<dict>"``).
        problems: one human-readable line per problem (``years.2027.holidays: ...``).
    """

    inline = True

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        super().__init__(problems, headline=source)


# --- what a source knows about one year -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YearData:
    """One year's official arrangement, as one source gives it.

    Attributes:
        year: the calendar year.
        source: ``"file"``, ``"chinese-calendar"``, ``"holidays"``, ``"holidays-statutory"`` or
            ``"weekdays"``.
        holidays: date -> name (Chinese where the source has it) of each statutory day off; weekend
            days folded into a holiday may be missing (see the module docstring).
        workdays: date -> name of each make-up working day (调休上班, a Saturday or Sunday).
        provisional: True for the provisional tiers (``holidays-statutory``, ``weekdays``): no official
            data for the year, so the dates may change once the State Council publishes it.
        note: e.g. the notice the operator copied the file from (``国办发明电〔2026〕7号``), or "".
    """

    year: int
    source: str
    holidays: Mapping[dt.date, str] = field(default_factory=dict)
    workdays: Mapping[dt.date, str] = field(default_factory=dict)
    provisional: bool = False
    note: str = ""


class YearSource(Protocol):
    """A source of holiday data: ``year(y)`` is its data for ``y``, or None if it does not know ``y``.

    Used as an official source (``WorkingCalendar(sources=...)``) or as a provisional fallback
    (``WorkingCalendar(..., fallbacks=...)``, whose data the calendar always marks provisional).
    """

    name: str

    def year(self, year: int) -> YearData | None: ...


@dataclass(frozen=True, slots=True)
class DayInfo:
    """A classified local date.

    Attributes:
        day: the date (local time, not UTC).
        kind: ``"working"``, ``"rest"`` or ``"holiday"``.
        name: the holiday's or make-up day's name ("" for an ordinary day).
        source: the source of the day's year (see :class:`YearData`).
        provisional: no official data for the year (statutory holidays only, or the weekday rule).
    """

    day: dt.date
    kind: DayKind
    name: str
    source: str
    provisional: bool


@dataclass(frozen=True, slots=True)
class DueDate:
    """A deadline and where it came from.

    Attributes:
        at: the deadline (same ``tzinfo`` as the start).
        sources: the sources of the days counted (sorted, no duplicates); ``()`` for an allowance in
            calendar hours, which no holiday changes.
        provisional: a day counted came from a provisional tier (``holidays-statutory`` or
            ``weekdays``): the deadline may move once the year's official arrangement is known.
        working_days: working days counted (None for calendar hours).
    """

    at: dt.datetime
    sources: tuple[str, ...] = ()
    provisional: bool = False
    working_days: int | None = None

    @property
    def source(self) -> str:
        """``"holidays"``, ``"chinese-calendar+holidays-statutory"``... or ``"clock"`` for calendar hours."""
        return "+".join(self.sources) or "clock"


# --- the package sources ----------------------------------------------------------------------------

#: chinese_calendar's English names -> the names Chinese staff read (国务院 notices' wording)
_CC_NAMES_ZH = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class ChineseCalendarSource:
    """The ``chinese_calendar`` package: knows a year when its tables list a holiday in that year.

    Names are given in Chinese (``元旦``, ``春节``...); a make-up day is ``"<holiday>调休上班"``.
    """

    name = CHINESE_CALENDAR

    def __init__(self) -> None:
        try:
            from chinese_calendar import constants
        except ImportError:  # not installed: knows nothing
            self._holidays: Mapping[dt.date, str] = {}
            self._workdays: Mapping[dt.date, str] = {}
        else:
            self._holidays = {d: str(n) for d, n in constants.holidays.items()}
            self._workdays = {d: str(n) for d, n in constants.workdays.items()}
        self._years = {d.year for d in self._holidays}

    def year(self, year: int) -> YearData | None:
        if year not in self._years:
            return None
        holidays = {d: _CC_NAMES_ZH.get(n, n) for d, n in self._holidays.items() if d.year == year}
        workdays = {d: f"{_CC_NAMES_ZH.get(n, n)}调休上班" for d, n in self._workdays.items() if d.year == year}
        return YearData(year, self.name, holidays, workdays)


def _import_holidays() -> Any | None:
    """The ``holidays`` module, or None when it is not installed (the import takes ~0.1 s)."""
    try:
        import holidays
    except ImportError:
        return None
    return holidays


def _computed_cn(lib: Any, year: int) -> dict[dt.date, str] | None:
    """China's holidays of ``year`` as ``lib`` (the ``holidays`` module) computes them, ``zh_CN`` names.

    Returns None (after a WARNING) when the library fails: a library change must not stop the service.
    """
    try:
        days = lib.country_holidays("CN", years=year, language="zh_CN")
        return {d: str(n) for d, n in days.items() if d.year == year}
    except Exception as exc:  # any library failure: then this source knows nothing for the year
        log.warning("holidays package failed for %d (%s): not used", year, exc)
        return None


class HolidaysSource:
    """The ``holidays`` package (China): knows a year only where it carries the official arrangement.

    ``holidays`` computes Chinese New Year, Qingming, Dragon Boat and Mid-Autumn for any year and
    moves a holiday on a weekend to the next working day, but the State Council's yearly notice
    (days off swapped for make-up working days) is in ``ChinaStaticHolidays.special_public_holidays``
    only. A year missing there is not known (its make-up working days are missing). Names are the
    package's ``zh_CN`` ones (``国庆节``, ``休息日（由 2026-09-20 调休）``); the make-up working days are
    the "substituted from" dates of that table.
    """

    name = HOLIDAYS

    def __init__(self) -> None:
        self._lib: Any = None
        self._table: Mapping[int, Any] | None = None  # imported on first use (the import takes ~0.1 s)

    def _load(self) -> Mapping[int, Any]:
        if self._table is None:
            try:
                from holidays.countries.china import ChinaStaticHolidays
            except ImportError:  # not installed: knows nothing
                self._table = {}
            else:
                self._lib = _import_holidays()
                self._table = dict(getattr(ChinaStaticHolidays, "special_public_holidays", {}) or {})
        return self._table

    def _substituted(self, year: int) -> dict[dt.date, dt.date]:
        """make-up working day -> the day off it pays for, from the notice of ``year``."""
        entries = self._load().get(year, ())
        if entries and isinstance(entries[0], int):  # a single entry, not a tuple of them
            entries = (entries,)
        out: dict[dt.date, dt.date] = {}
        for e in entries:
            if len(e) >= 4 and all(isinstance(x, int) for x in e[:4]):
                from_year = e[4] if len(e) >= 5 and isinstance(e[4], int) else year
                out[dt.date(from_year, e[2], e[3])] = dt.date(year, e[0], e[1])
        return out

    def year(self, year: int) -> YearData | None:
        if year not in self._load() or self._lib is None:
            return None
        holidays = _computed_cn(self._lib, year)
        if holidays is None:
            return None
        workdays: dict[dt.date, str] = {}
        for notice_year in (year, year + 1):  # a notice may place a make-up day in the year before
            for work, off in self._substituted(notice_year).items():
                if work.year == year:
                    workdays[work] = f"调休上班（{off.isoformat()} 休息）"
        return YearData(year, self.name, holidays, workdays)


class StatutoryHolidaysSource:
    """The ``holidays`` package's China holidays *computed by law*, for any year: a provisional fallback.

    For a year without the State Council's arrangement, ``holidays`` still computes the statutory
    holidays (全国年节及纪念日放假办法): 元旦, 春节 (with 农历除夕), 清明节, 劳动节, 端午节, 中秋节,
    国庆节, and moves a holiday that falls on a weekend to the next working day (``春节（补假）``).
    What it cannot know are the make-up working days (调休上班) and the bridging days the yearly notice
    adds, so :meth:`year` has **no workdays** and is ``provisional``. Use it only as a fallback
    (``WorkingCalendar(..., fallbacks=[StatutoryHolidaysSource()])``): it never makes a year known.

    ``year(y)`` is None when the package is not installed or fails for ``y`` (then the weekday rule).
    """

    name = HOLIDAYS_STATUTORY

    def __init__(self) -> None:
        self._lib: Any = None
        self._loaded = False  # imported on first use

    def year(self, year: int) -> YearData | None:
        if not self._loaded:
            self._lib, self._loaded = _import_holidays(), True
        if self._lib is None:
            return None
        holidays = _computed_cn(self._lib, year)
        if holidays is None:
            return None
        return YearData(year, self.name, holidays, {}, provisional=True)


# --- the operator's file ----------------------------------------------------------------------------


class _YearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = ""
    holidays: dict[str, str] = Field(default_factory=dict)
    workdays: dict[str, str] = Field(default_factory=dict)

    @field_validator("holidays", "workdays", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value


class _FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    years: dict[int, _YearIn] = Field(default_factory=dict)


def _date_span(text: str) -> list[dt.date]:
    """``"2027-10-01"`` or ``"2027-10-01..2027-10-07"`` (inclusive) -> the dates."""
    first, _, last = text.partition("..")
    a = dt.date.fromisoformat(first.strip())
    b = dt.date.fromisoformat(last.strip()) if last else a
    if b < a or (b - a).days > 31:
        raise ValueError(f"range {text!r} must run forwards and span at most 32 days")
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


class FileSource:
    """The operator's calendar: every year it lists is taken from it, whole.

    Args:
        years: year -> its data (``source="file"``), from :func:`parse_calendar_file`.
        path: where it was read from ("" for a mapping), for messages.
    """

    name = FILE

    def __init__(self, years: Mapping[int, YearData], path: str = "") -> None:
        self.years = dict(years)
        self.path = path

    def year(self, year: int) -> YearData | None:
        return self.years.get(year)


def parse_calendar_file(data: Mapping[str, Any] | None, source: str = "<dict>") -> FileSource:
    """Validate the operator's calendar (pure: the mapping a YAML file holds).

    Format (see ``hotline/ivr/examples/calendar.yaml``)::

        years:
          2027:
            note: 国办发明电〔2026〕N号          # optional, shown by `hotline calendar show`
            holidays:                           # date or first..last (inclusive) -> name
              2027-01-01: 元旦
              2027-02-05..2027-02-11: 春节
            workdays:                           # make-up working days (调休上班)
              2027-02-20: 春节调休上班

    Args:
        data: the mapping; None (an empty file) means no years.
        source: the file name, for error messages.
    Returns:
        The source.
    Raises:
        CalendarFileError: unknown keys, bad dates, a date outside its year, a date both holiday and
            workday; every problem listed.
    """
    if data is None:
        return FileSource({}, source)
    try:
        parsed = _FileIn.model_validate(data)
    except ValidationError as exc:
        invalid = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()]
        raise CalendarFileError(source, invalid) from None
    problems: list[str] = []
    years: dict[int, YearData] = {}
    for year, y in sorted(parsed.years.items()):
        kinds: dict[str, dict[dt.date, str]] = {"holidays": {}, "workdays": {}}
        for kind, entries in (("holidays", y.holidays), ("workdays", y.workdays)):
            for key, name in entries.items():
                try:
                    dates = _date_span(key)
                except ValueError as exc:
                    problems.append(f"years.{year}.{kind}.{key}: {exc}")
                    continue
                for d in dates:
                    if d.year != year:
                        problems.append(f"years.{year}.{kind}.{key}: {d} is not in {year}")
                    kinds[kind][d] = name
        both = sorted(set(kinds["holidays"]) & set(kinds["workdays"]))
        if both:
            problems.append(f"years.{year}: dates both holiday and workday: {', '.join(map(str, both))}")
        years[year] = YearData(year, FILE, kinds["holidays"], kinds["workdays"], note=y.note)
    if problems:
        raise CalendarFileError(source, problems)
    return FileSource(years, source)


def load_calendar_file(path: str | Path) -> FileSource:
    """Read and validate the operator's calendar file (YAML; blocking: call at start, not on the loop).

    Raises:
        CalendarFileError: the file is missing, unparsable or invalid (see :func:`parse_calendar_file`).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise CalendarFileError(str(path), [str(exc)]) from None
    if data is not None and not isinstance(data, Mapping):
        raise CalendarFileError(str(path), ["expected a mapping with 'years'"])
    return parse_calendar_file(data, str(path))


# --- the one calendar -------------------------------------------------------------------------------


class WorkingCalendar:
    """The working calendar: per year, the first official source that knows it, else the first
    provisional fallback that can compute it, else the weekday rule.

    Args:
        sources: the official sources, in priority order (file, chinese-calendar, holidays); only
            these make a year *known* (:meth:`known`, :meth:`known_until`, the ``warn_days`` warning).
        fallbacks: provisional sources for a year no official source knows, in priority order
            (:class:`StatutoryHolidaysSource`); their data is always marked ``provisional``. Empty:
            an unknown year goes straight to the weekday rule.
    :meth:`packages` gives the default ones. Not thread-safe (a per-year cache); cheap after a year's
    first use.
    """

    def __init__(self, sources: Sequence[YearSource], fallbacks: Sequence[YearSource] = ()) -> None:
        self.sources = tuple(sources)
        self.fallbacks = tuple(fallbacks)
        self._years: dict[int, YearData] = {}
        self._known: dict[int, YearData | None] = {}

    @classmethod
    def packages(cls, file: FileSource | None = None) -> WorkingCalendar:
        """Official: ``file`` (if any), ``chinese-calendar``, ``holidays``; fallback: ``holidays-statutory``;
        then the weekday rule."""
        return cls([*([file] if file is not None else []), ChineseCalendarSource(), HolidaysSource()],
                   fallbacks=[StatutoryHolidaysSource()])

    def known(self, year: int) -> YearData | None:
        """The official data of ``year`` from the first source that knows it, or None (no log)."""
        if year not in self._known:
            self._known[year] = next((d for s in self.sources if (d := s.year(year)) is not None), None)
        return self._known[year]

    def year(self, year: int) -> YearData:
        """The data used for ``year``: official, else provisional (a fallback's statutory holidays, else
        the weekday rule), the provisional choice logged once per year (WARNING)."""
        data = self._years.get(year)
        if data is None:
            data = self.known(year)
            if data is None:
                data = self._provisional(year)
            self._years[year] = data
        return data

    def _provisional(self, year: int) -> YearData:
        """The first fallback's data for ``year`` (marked provisional), else the weekday rule; logs once."""
        official = ", ".join(s.name for s in self.sources) or "no source"
        for fallback in self.fallbacks:
            data = fallback.year(year)
            if data is not None:
                log.warning("calendar: no official holiday data for %d in %s; dates in %d are provisional: "
                            "statutory holidays only (%s, computed by law), no make-up working days "
                            "(调休上班) -- add %d to calendar.file when the State Council publishes it",
                            year, official, year, data.source, year)
                return replace(data, provisional=True)
        log.warning("calendar: no official holiday data for %d in %s; dates in %d follow the weekday rule "
                    "(Mon-Fri working, no holidays) and are provisional -- add %d to calendar.file when the "
                    "State Council publishes it", year, official, year, year)
        return YearData(year, WEEKDAYS, provisional=True)

    def day(self, day: dt.date) -> DayInfo:
        """Classify a local date (never raises; see :class:`DayInfo`)."""
        data = self.year(day.year)
        if day in data.workdays:
            return DayInfo(day, "working", data.workdays[day], data.source, data.provisional)
        if day in data.holidays:
            return DayInfo(day, "holiday", data.holidays[day], data.source, data.provisional)
        if day.weekday() < 5:
            return DayInfo(day, "working", "", data.source, data.provisional)
        name = self._folded(day, data)
        return DayInfo(day, "holiday" if name else "rest", name or "", data.source, data.provisional)

    def _folded(self, day: dt.date, data: YearData) -> str | None:
        """The holiday a weekend day is joined to through weekend days only, or None."""
        for step in (-1, 1):
            d = day + dt.timedelta(days=step)
            for _ in range(3):
                info = data if d.year == data.year else self.year(d.year)
                if d in info.holidays:
                    return info.holidays[d]
                if d.weekday() < 5 or d in info.workdays:
                    break
                d += dt.timedelta(days=step)
        return None

    def day_kind(self, day: dt.date) -> DayKind:
        """``"working"``, ``"rest"`` or ``"holiday"`` (see the module docstring)."""
        return self.day(day).kind

    def is_working_day(self, day: dt.date) -> bool:
        """Whether a local date is a working day (make-up Saturdays are; weekday holidays are not)."""
        return self.day(day).kind == "working"

    def add_working_days(self, start: dt.datetime, days: int) -> DueDate:
        """The same clock time on the ``days``-th working day after ``start``'s date.

        ``start``'s own date never counts, whether or not it is a working day: a request received on
        Tuesday 2025-09-30 10:00 with 5 working days is due 2025-10-14 10:00 (Oct 1-8 holidays; Oct 9,
        10, 11 (make-up Saturday), 13, 14). Pass ``start`` in the hotline's local zone, not UTC.

        Args:
            start: when the clock starts (its ``tzinfo`` is kept).
            days: working days, >= 0; 0 returns ``start``.
        Returns:
            The deadline with the sources of the days stepped over (``start``'s date excluded).
        Raises:
            ValueError: ``days`` is negative.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        day = start.date()
        counted = 0
        sources: set[str] = set()
        provisional = False
        while counted < days:
            day += dt.timedelta(days=1)
            info = self.day(day)
            sources.add(info.source)
            provisional = provisional or info.provisional
            if info.kind == "working":
                counted += 1
        at = dt.datetime.combine(day, start.timetz()) if days else start
        return DueDate(at, tuple(sorted(sources)), provisional, days)

    def known_until(self, today: dt.date) -> dt.date:
        """The first date without official data, scanning whole years from ``today.year``.

        Returns:
            ``Jan 1`` of the first year no official source knows (``today.year``'s own Jan 1 when even
            this year is unknown); the provisional fallbacks never count.
        """
        year = today.year
        while year < today.year + _MAX_YEARS_AHEAD and self.known(year) is not None:
            year += 1
        return dt.date(year, 1, 1)

    def days_left(self, today: dt.date) -> int:
        """Days from ``today`` to the end of the official data (<= 0: today is already provisional)."""
        return (self.known_until(today) - today).days


class CalendarSettings(BaseModel):
    """The root ``calendar:`` section: one working calendar for IVR hours, SLA due dates and callbacks.

    Attributes:
        file: the operator's calendar file (YAML, see :func:`parse_calendar_file` and
            ``hotline/ivr/examples/calendar.yaml``); None: the packages only.
        warn_days: ``hotline check`` and the start log warn when the official data ends within this
            many days (``hotline_calendar_days_left`` on /metrics says the same).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: Path | None = None
    warn_days: int = Field(60, ge=0)


def calendar_warning(calendar: WorkingCalendar, today: dt.date, warn_days: int = 60) -> str | None:
    """The operator warning when the official holiday data ends within ``warn_days`` of ``today``.

    Returns:
        One line saying from which date due dates become provisional and what to do, or None.
    """
    left = calendar.days_left(today)
    if left > warn_days:
        return None
    end = calendar.known_until(today)
    when = f"in {left} days" if left > 0 else "already"
    tier = "statutory holidays only, no make-up working days" if calendar.fallbacks else "weekday rule"
    return (f"official holiday data ends {end - dt.timedelta(days=1)}: from {end} due dates and schedules "
            f"are provisional ({tier}) {when} -- add {end.year} (State Council notice) to calendar.file")


def build_calendar(file: str | Path | None) -> WorkingCalendar:
    """The service's calendar: the operator's file (read here: blocking, at start), then the packages.

    Raises:
        CalendarFileError: the file is set but unreadable or invalid.
    """
    return WorkingCalendar.packages(load_calendar_file(file) if file is not None else None)


#: packages only, no file: the default of pure functions and policies (tests, tools). The service
#: builds its own with :func:`build_calendar` and passes it everywhere.
DEFAULT_CALENDAR = WorkingCalendar.packages()


def day_kind(day: dt.date, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> DayKind:
    """Classify a local calendar date (see :meth:`WorkingCalendar.day_kind`)."""
    return calendar.day_kind(day)


def is_working_day(day: dt.date, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> bool:
    """Whether a local date is a working day (see :meth:`WorkingCalendar.is_working_day`)."""
    return calendar.is_working_day(day)


def add_working_days(start: dt.datetime, days: int, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> dt.datetime:
    """The deadline only (see :meth:`WorkingCalendar.add_working_days`, which also says the source).

    Raises:
        ValueError: ``days`` is negative.
    """
    return calendar.add_working_days(start, days).at


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


def status_at(hours: BusinessHours, when: float | dt.datetime,
              calendar: WorkingCalendar = DEFAULT_CALENDAR) -> Status:
    """Whether a line is ``"open"``, ``"closed"`` or closed for a ``"holiday"`` at an instant.

    Args:
        hours: the node's business hours.
        when: epoch seconds, or a datetime (aware: converted to ``hours.tz``; naive: taken as
            local time in ``hours.tz``).
        calendar: the working calendar (a provisional year follows the weekday rule).
    Returns:
        ``"open"`` inside a range for the day's kind; otherwise ``"holiday"`` on a holiday and
        ``"closed"`` on working and rest days.
    """
    local = _local(hours, when)
    kind = calendar.day_kind(local.date())
    minute = local.hour * 60 + local.minute
    if any(r.start_min <= minute < r.end_min for r in hours.ranges_for(kind)):
        return "open"
    return "holiday" if kind == "holiday" else "closed"


def add_working_hours(
    start: dt.datetime,
    hours: float,
    business_hours: BusinessHours,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> dt.datetime:
    """The instant when ``hours`` of open time (per ``business_hours``) have elapsed after ``start``.

    Time outside the opening ranges does not count: 2 working hours from Friday 17:00 with
    ``working_days: ["08:30-18:00"]`` ends Monday 09:30 (unless Monday is a holiday).

    Args:
        start: aware datetime (naive: taken as local time in ``business_hours.tz``).
        hours: open hours to add, >= 0 (fractions allowed).
        business_hours: the opening ranges per day kind.
        calendar: the working calendar.
    Returns:
        An aware datetime in ``business_hours.tz``.
    Raises:
        ValueError: ``hours`` is negative, or no opening time within ten years.
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
        for r in business_hours.ranges_for(calendar.day_kind(day)):
            begin = max(midnight + dt.timedelta(minutes=r.start_min), cursor)
            end = midnight + dt.timedelta(minutes=r.end_min)
            if end <= begin:
                continue
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        day += dt.timedelta(days=1)
    raise ValueError("no opening time found within ten years: are the business hours empty?")


def working_days_between(first: dt.date, last: dt.date, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> int:
    """Number of working days in the closed range ``first..last`` (0 if ``last < first``)."""
    return sum(1 for d in _days(first, last) if calendar.is_working_day(d))


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)
