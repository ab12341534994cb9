"""The one working calendar: sources per year (file, chinese-calendar, holidays; provisional:
holidays-statutory, weekday rule), provisional due dates instead of errors, the operator's file, the
"data runs out" warning."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.kernel.calendar import (
    CHINESE_CALENDAR,
    FILE,
    HOLIDAYS,
    HOLIDAYS_STATUTORY,
    WEEKDAYS,
    CalendarFileError,
    ChineseCalendarSource,
    HolidaysSource,
    StatutoryHolidaysSource,
    WorkingCalendar,
    YearData,
    calendar_warning,
    load_calendar_file,
    parse_calendar_file,
)

SH = ZoneInfo("Asia/Shanghai")
D = dt.date
EXAMPLE = Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples" / "calendar.yaml"


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


#: the official sources of the packages, no provisional fallback: an unknown year gets the weekday rule
def weekdays_only() -> WorkingCalendar:
    return WorkingCalendar([ChineseCalendarSource(), HolidaysSource()])


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
    statutory = StatutoryHolidaysSource().year(2031)  # the provisional tier takes them, by law
    assert statutory is not None and statutory.provisional is True and statutory.workdays == {}
    assert statutory.source == HOLIDAYS_STATUTORY and statutory.holidays[D(2031, 1, 1)] == "元旦"


def test_given_chinese_calendar_then_names_are_chinese() -> None:
    assert WorkingCalendar([ChineseCalendarSource()]).day(D(2026, 2, 17)).name == "春节"
    assert WorkingCalendar([ChineseCalendarSource()]).day(D(2026, 2, 14)).name == "春节调休上班"


def test_given_weekend_next_to_a_holiday_when_source_omits_it_then_folded_into_the_holiday() -> None:
    cal = WorkingCalendar([HolidaysSource()])  # holidays lists Jan 1-2 2026, not Saturday Jan 3
    assert cal.day(D(2026, 1, 3)).kind == "holiday"
    assert cal.day(D(2026, 1, 4)).kind == "working"  # make-up Sunday
    assert cal.day(D(2026, 1, 10)).kind == "rest"


STATUTORY_2027 = Known(HOLIDAYS_STATUTORY, {2027})


@pytest.mark.parametrize(("sources", "fallbacks", "year", "expected"), [
    ([Known(FILE, {2027}), Known(CHINESE_CALENDAR, {2026, 2027})], [], 2027, FILE),
    ([Known(FILE, {2027}), Known(CHINESE_CALENDAR, {2026, 2027})], [], 2026, CHINESE_CALENDAR),
    ([Known(CHINESE_CALENDAR, {2026}), Known(HOLIDAYS, {2026, 2027})], [STATUTORY_2027], 2027, HOLIDAYS),
    ([Known(CHINESE_CALENDAR, {2026}), Known(HOLIDAYS, {2026})], [STATUTORY_2027], 2027, HOLIDAYS_STATUTORY),
    ([Known(CHINESE_CALENDAR, {2026}), Known(HOLIDAYS, {2026})], [STATUTORY_2027], 2028, WEEKDAYS),
    ([Known(CHINESE_CALENDAR, {2026}), Known(HOLIDAYS, {2026})], [], 2027, WEEKDAYS),
])
def test_given_sources_when_resolving_a_year_then_official_first_then_fallback_then_weekday_rule(
    sources: list[Known], fallbacks: list[Known], year: int, expected: str
) -> None:
    data = WorkingCalendar(sources, fallbacks=fallbacks).year(year)
    assert data.source == expected
    assert data.provisional is (expected in (HOLIDAYS_STATUTORY, WEEKDAYS))  # a fallback is always provisional


def test_given_packages_with_file_then_official_file_chinese_calendar_holidays_then_statutory_fallback() -> None:
    cal = WorkingCalendar.packages(parse_calendar_file(FILE_2027))
    assert [s.name for s in cal.sources] == [FILE, CHINESE_CALENDAR, HOLIDAYS]
    assert [f.name for f in cal.fallbacks] == [HOLIDAYS_STATUTORY]
    assert [s.name for s in WorkingCalendar.packages().sources] == [CHINESE_CALENDAR, HOLIDAYS]
    assert cal.year(2027).source == FILE and cal.year(2026).source == CHINESE_CALENDAR
    assert cal.year(2028).source == HOLIDAYS_STATUTORY


def test_given_holidays_package_missing_then_statutory_tier_knows_nothing_and_weekday_rule_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hotline.kernel.calendar as calendar

    monkeypatch.setattr(calendar, "_import_holidays", lambda: None)
    assert StatutoryHolidaysSource().year(2027) is None
    cal = WorkingCalendar([ChineseCalendarSource()], fallbacks=[StatutoryHolidaysSource()])
    assert (cal.year(2027).source, cal.day_kind(D(2027, 2, 8))) == (WEEKDAYS, "working")


def test_given_holidays_package_failing_for_a_year_then_weekday_rule_and_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    import hotline.kernel.calendar as calendar

    class Broken:
        def country_holidays(self, *args: object, **kwargs: object) -> dict:
            raise KeyError("CN")

    monkeypatch.setattr(calendar, "_import_holidays", Broken)
    cal = WorkingCalendar([ChineseCalendarSource()], fallbacks=[StatutoryHolidaysSource()])
    with caplog.at_level(logging.WARNING, logger="hotline.calendar"):
        assert cal.year(2027).source == WEEKDAYS
    assert "holidays package failed for 2027" in caplog.text and "weekday rule" in caplog.text


# --- the statutory tier (a year without official data, the holidays package installed) ---------------


def test_given_2027_without_official_data_then_spring_festival_by_law_is_holiday_and_provisional() -> None:
    cal = WorkingCalendar.packages()
    if cal.known(2027) is not None:
        pytest.skip("a package now carries the official 2027 arrangement")
    for d in days(D(2027, 2, 5), D(2027, 2, 10)):  # 农历除夕 Fri .. 春节（补假） Wed
        info = cal.day(d)
        assert (info.kind, info.source, info.provisional) == ("holiday", HOLIDAYS_STATUTORY, True), d
    assert cal.day(D(2027, 2, 6)).name == "春节"
    assert cal.day(D(2027, 2, 11)).kind == "working"
    assert cal.day(D(2027, 2, 20)).kind == "rest"  # a future 调休上班 Saturday is not known: still rest
    assert cal.year(2027).workdays == {}
    assert [cal.day_kind(d) for d in (D(2027, 1, 1), D(2027, 5, 4), D(2027, 10, 5))] == ["holiday"] * 3


def test_given_request_the_day_before_spring_festival_2027_then_counts_past_the_statutory_days() -> None:
    received = sh(2027, 2, 4, 10)  # Thursday; Feb 5-10 off by law
    due = WorkingCalendar.packages().add_working_days(received, 5)
    if WorkingCalendar.packages().known(2027) is not None:
        pytest.skip("a package now carries the official 2027 arrangement")
    assert due.at == sh(2027, 2, 17, 10)  # Feb 11, 12, 15, 16, 17
    assert (due.sources, due.provisional) == ((HOLIDAYS_STATUTORY,), True)
    assert weekdays_only().add_working_days(received, 5).at == sh(2027, 2, 11, 10)  # the rule it replaces


def test_given_statutory_tier_then_2027_still_not_known_and_60_day_warning_unchanged() -> None:
    cal = WorkingCalendar([Known(CHINESE_CALENDAR, {2026})], fallbacks=[StatutoryHolidaysSource()])
    assert cal.year(2027).source == HOLIDAYS_STATUTORY
    assert cal.known(2027) is None
    assert cal.known_until(D(2026, 12, 7)) == D(2027, 1, 1) and cal.days_left(D(2026, 12, 7)) == 25
    warning = calendar_warning(cal, D(2026, 12, 7), 60)
    assert warning is not None and "statutory holidays only" in warning and "calendar.file" in warning


# --- due dates -----------------------------------------------------------------------------------


def test_given_packages_when_request_received_2026_12_28_16h_then_due_on_a_2027_day_with_its_source() -> None:
    cal = WorkingCalendar.packages()
    due = cal.add_working_days(sh(2026, 12, 28, 16), 5)
    assert due.at == sh(2027, 1, 5, 16)  # Dec 29, 30, 31, (Jan 1 元旦), Jan 4, Jan 5
    known = cal.known(2027)
    if known is None:  # 0.109 / 1.11: nobody has the official 2027 arrangement yet: 元旦 by law
        assert due.sources == (CHINESE_CALENDAR, HOLIDAYS_STATUTORY)
        assert due.provisional is True
    else:  # a package learnt 2027
        assert known.source in due.sources and due.provisional is False


def test_given_no_fallback_when_request_received_2026_12_28_16h_then_weekday_rule_counts_new_year() -> None:
    due = weekdays_only().add_working_days(sh(2026, 12, 28, 16), 5)
    if weekdays_only().known(2027) is not None:
        pytest.skip("a package now carries the official 2027 arrangement")
    assert due.at == sh(2027, 1, 4, 16)  # Dec 29, 30, 31, Jan 1 (weekday rule), Jan 4
    assert (due.sources, due.provisional) == ((CHINESE_CALENDAR, WEEKDAYS), True)


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
    cal = weekdays_only()
    due = cal.add_working_days(sh(2031, 3, 7, 10), 5)  # Friday
    assert due.at == sh(2031, 3, 14, 10)
    assert due.sources == (WEEKDAYS,)
    assert due.provisional is True


@pytest.mark.parametrize(("calendar", "says"), [
    (WorkingCalendar.packages, ["statutory holidays only", HOLIDAYS_STATUTORY, "no make-up working days",
                                "add 2031 to calendar.file when the State Council publishes it"]),
    (weekdays_only, ["weekday rule", "add 2031 to calendar.file"]),
])
def test_given_provisional_year_when_used_many_times_then_one_warning_naming_the_year_and_tier(
    caplog: pytest.LogCaptureFixture, calendar: Callable[[], WorkingCalendar], says: list[str],
) -> None:
    cal = calendar()
    with caplog.at_level(logging.DEBUG, logger="hotline.calendar"):
        for n in range(3):
            cal.add_working_days(sh(2031, 3, 3 + n, 10), 5)
            cal.day_kind(D(2031, 6, 1))
            cal.year(2031)
    records = [r for r in caplog.records if r.name == "hotline.calendar"]
    assert [r.levelname for r in records] == ["WARNING"]
    message = records[0].getMessage()
    assert "2031" in message and "provisional" in message
    for fragment in says:
        assert fragment in message


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
