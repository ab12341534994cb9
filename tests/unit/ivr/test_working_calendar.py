"""The one working calendar: sources per year (file, chinese-calendar, holidays, weekday rule),
provisional due dates instead of errors, the operator's file, the "data runs out" warning."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.calendar import (
    CHINESE_CALENDAR,
    FILE,
    HOLIDAYS,
    WEEKDAYS,
    CalendarFileError,
    ChineseCalendarSource,
    HolidaysSource,
    WorkingCalendar,
    YearData,
    calendar_warning,
    load_calendar_file,
    parse_calendar_file,
)

SH = ZoneInfo("Asia/Shanghai")
D = dt.date
EXAMPLE = Path(__file__).resolve().parents[3] / "ivr" / "examples" / "calendar.yaml"


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)  # type: ignore[misc]


class Known:
    """A stub source knowing the given years (no holidays unless given)."""

    def __init__(self, name: str, years: dict[int, YearData] | set[int]) -> None:
        self.name = name
        self.years = years if isinstance(years, dict) else {y: YearData(y, name) for y in years}

    def year(self, year: int) -> YearData | None:
        return self.years.get(year)


#: test data shaped like a 2027 notice (元旦 on Friday Jan 1); not the official 2027 arrangement
FILE_2027 = {"years": {2027: {"note": "test data", "holidays": {"2027-01-01": "元旦"}, "workdays": {}}}}


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- sources -------------------------------------------------------------------------------------


def test_given_both_packages_when_classifying_2024_to_2026_then_they_agree_on_every_day() -> None:
    cc, hl = WorkingCalendar([ChineseCalendarSource()]), WorkingCalendar([HolidaysSource()])
    diff = [d for d in days(D(2024, 1, 1), D(2026, 12, 31)) if cc.day_kind(d) != hl.day_kind(d)]
    assert diff == []
    assert hl.day(D(2026, 10, 10)).source == HOLIDAYS


def test_given_holidays_package_then_make_up_working_days_come_from_its_substituted_days() -> None:
    data = HolidaysSource().year(2026)
    assert data is not None
    assert sorted(data.workdays) == [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                                     D(2026, 9, 20), D(2026, 10, 10)]
    assert data.holidays[D(2026, 10, 1)] == "国庆节"


def test_given_year_holidays_only_computes_when_asked_then_it_is_not_known() -> None:
    import holidays

    assert holidays.country_holidays("CN", years=2031)  # lunar holidays computed for any year...
    assert HolidaysSource().year(2031) is None  # ...but no official arrangement: not known


def test_given_chinese_calendar_then_names_are_chinese() -> None:
    assert WorkingCalendar([ChineseCalendarSource()]).day(D(2026, 2, 17)).name == "春节"
    assert WorkingCalendar([ChineseCalendarSource()]).day(D(2026, 2, 14)).name == "春节调休上班"


def test_given_weekend_next_to_a_holiday_when_source_omits_it_then_folded_into_the_holiday() -> None:
    cal = WorkingCalendar([HolidaysSource()])  # holidays lists Jan 1-2 2026, not Saturday Jan 3
    assert cal.day(D(2026, 1, 3)).kind == "holiday"
    assert cal.day(D(2026, 1, 4)).kind == "working"  # make-up Sunday
    assert cal.day(D(2026, 1, 10)).kind == "rest"


@pytest.mark.parametrize(("sources", "year", "expected"), [
    ([Known(FILE, {2027}), Known(CHINESE_CALENDAR, {2026, 2027})], 2027, FILE),
    ([Known(FILE, {2027}), Known(CHINESE_CALENDAR, {2026, 2027})], 2026, CHINESE_CALENDAR),
    ([Known(CHINESE_CALENDAR, {2026}), Known(HOLIDAYS, {2026, 2027})], 2027, HOLIDAYS),
    ([Known(CHINESE_CALENDAR, {2026}), Known(HOLIDAYS, {2026})], 2027, WEEKDAYS),
])
def test_given_sources_when_resolving_a_year_then_first_that_knows_it_wins(
    sources: list[Known], year: int, expected: str
) -> None:
    data = WorkingCalendar(sources).year(year)
    assert data.source == expected
    assert data.provisional is (expected == WEEKDAYS)


# --- due dates -----------------------------------------------------------------------------------


def test_given_packages_when_request_received_2026_12_28_16h_then_due_on_a_2027_day_with_its_source() -> None:
    cal = WorkingCalendar.packages()
    due = cal.add_working_days(sh(2026, 12, 28, 16), 5)
    known = cal.known(2027)
    if known is None:  # 0.109 / 1.11: nobody has the official 2027 arrangement yet
        assert due.at == sh(2027, 1, 4, 16)  # Dec 29, 30, 31, Jan 1 (weekday rule), Jan 4
        assert due.sources == (CHINESE_CALENDAR, WEEKDAYS)
        assert due.provisional is True
    else:  # a package learnt 2027: Jan 1 (元旦) is off
        assert due.at == sh(2027, 1, 5, 16)
        assert known.source in due.sources and due.provisional is False


def test_given_operator_file_knows_2027_then_due_uses_it_and_is_not_provisional() -> None:
    cal = WorkingCalendar.packages(parse_calendar_file(FILE_2027))
    due = cal.add_working_days(sh(2026, 12, 28, 16), 5)
    assert due.at == sh(2027, 1, 5, 16)  # Dec 29, 30, 31, (Jan 1 元旦), Jan 4, Jan 5
    assert due.sources == (CHINESE_CALENDAR, FILE)
    assert due.provisional is False
    assert due.working_days == 5


def test_given_operator_file_for_a_package_year_then_file_wins() -> None:
    file = parse_calendar_file({"years": {2025: {"holidays": {"2025-10-09": "台风停工"}}}})
    cal = WorkingCalendar.packages(file)
    assert cal.day(D(2025, 10, 9)).kind == "holiday"
    assert cal.day(D(2025, 10, 9)).source == FILE
    assert cal.day(D(2025, 10, 1)).kind == "working"  # the file says the whole year: only Oct 9 off


def test_given_year_no_source_covers_when_due_date_then_provisional_weekday_rule_not_an_exception() -> None:
    cal = WorkingCalendar.packages()
    due = cal.add_working_days(sh(2031, 3, 7, 10), 5)  # Friday
    assert due.at == sh(2031, 3, 14, 10)
    assert due.sources == (WEEKDAYS,)
    assert due.provisional is True


def test_given_provisional_year_when_used_many_times_then_one_warning_naming_the_year(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkingCalendar.packages()
    with caplog.at_level(logging.DEBUG, logger="hotline.calendar"):
        for n in range(3):
            cal.add_working_days(sh(2031, 3, 3 + n, 10), 5)
            cal.day_kind(D(2031, 6, 1))
    records = [r for r in caplog.records if r.name == "hotline.calendar"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert "2031" in records[0].getMessage() and "provisional" in records[0].getMessage()


# --- the operator's file -------------------------------------------------------------------------


def test_given_example_file_when_loading_then_2026_matches_the_official_data_day_for_day() -> None:
    file = load_calendar_file(EXAMPLE)
    assert set(file.years) == {2026}
    from_file, official = WorkingCalendar([file]), WorkingCalendar([ChineseCalendarSource()])
    assert [d for d in days(D(2026, 1, 1), D(2026, 12, 31)) if from_file.day_kind(d) != official.day_kind(d)] == []
    assert from_file.day(D(2026, 9, 20)).source == FILE


def test_given_file_in_tmp_path_when_loading_then_ranges_and_names_read(tmp_path: Path) -> None:
    (tmp_path / "cal.yaml").write_text(
        "years:\n  2027:\n    holidays:\n      2027-01-01: 元旦\n      '2027-10-01..2027-10-03': 国庆节\n"
        "    workdays:\n      2027-09-26: 国庆节调休上班\n", encoding="utf-8")
    data = load_calendar_file(tmp_path / "cal.yaml").year(2027)
    assert data is not None
    assert sorted(data.holidays) == [D(2027, 1, 1), D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)]
    assert data.workdays == {D(2027, 9, 26): "国庆节调休上班"}
    (tmp_path / "empty.yaml").write_text("")
    assert load_calendar_file(tmp_path / "empty.yaml").years == {}


@pytest.mark.parametrize(("data", "fragments"), [
    ({"years": {2027: {"holidays": {"2027-01-01": "x"}, "workdays": {"2027-01-01": "y"}}}},
     ["both holiday and workday"]),
    ({"years": {2027: {"holidays": {"2026-12-31": "x", "2027-13-01": "y", "2027-02-01..2027-01-01": "z"}}}},
     ["not in 2027", "2027-13-01", "run forwards"]),
    ({"years": {2027: {"days": {}}}, "extra": 1}, ["years.2027.days", "extra"]),  # shape first
])
def test_given_bad_file_when_parsing_then_every_problem_reported(data: dict, fragments: list[str]) -> None:
    with pytest.raises(CalendarFileError) as exc:
        parse_calendar_file(data, "cal.yaml")
    for fragment in fragments:
        assert fragment in str(exc.value)
    assert str(exc.value).startswith("cal.yaml: ")


def test_given_missing_file_when_loading_then_error_names_file(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match=r"nope\.yaml"):
        load_calendar_file(tmp_path / "nope.yaml")


# --- the "data runs out" warning -----------------------------------------------------------------


@pytest.mark.parametrize(("today", "left", "warns"), [
    (D(2026, 10, 31), 62, False),
    (D(2026, 11, 1), 61, False),
    (D(2026, 11, 2), 60, True),  # 60 days before Jan 1 2027
    (D(2026, 12, 7), 25, True),
    (D(2027, 3, 1), -59, True),  # already past the end
])
def test_given_today_when_data_ends_with_2026_then_warning_within_60_days(
    today: dt.date, left: int, warns: bool
) -> None:
    cal = WorkingCalendar([Known(CHINESE_CALENDAR, {2025, 2026})])
    assert cal.days_left(today) == left
    warning = calendar_warning(cal, today, 60)
    assert (warning is not None) is warns
    if warning:
        assert "2027-01-01" in warning and "calendar.file" in warning


def test_given_file_adds_next_year_then_no_warning_in_december() -> None:
    cal = WorkingCalendar([Known(FILE, {2027}), Known(CHINESE_CALENDAR, {2026})])
    assert cal.known_until(D(2026, 12, 7)) == D(2028, 1, 1)
    assert calendar_warning(cal, D(2026, 12, 7)) is None
