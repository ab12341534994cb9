"""Working calendar: statutory holidays, make-up days, business hours, SLA arithmetic (default calendar).

Sources, the operator's file, provisional years: ``test_working_calendar.py``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.kernel.calendar import (
    BusinessHours,
    add_working_days,
    add_working_hours,
    day_kind,
    is_working_day,
    status_at,
    working_days_between,
)

SH = ZoneInfo("Asia/Shanghai")
D = dt.date


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (D(2025, 9, 28), "working"),  # Sunday, make-up working day before National Day
        (D(2025, 10, 11), "working"),  # Saturday, make-up working day after National Day
        (D(2025, 10, 1), "holiday"),  # Wednesday, National Day
        (D(2025, 10, 4), "holiday"),  # Saturday folded into Golden Week
        (D(2025, 10, 8), "holiday"),  # last day of the 2025 National Day + Mid-Autumn break
        (D(2025, 10, 9), "working"),  # Thursday after the break
        (D(2025, 10, 12), "rest"),  # ordinary Sunday
        (D(2026, 2, 14), "working"),  # Saturday, make-up day for the 2026 Spring Festival
        (D(2026, 2, 17), "holiday"),  # Tuesday, Spring Festival
    ],
)
def test_given_library_calendar_when_classifying_day_then_kind_matches_state_council_notice(
    day: dt.date, kind: str
) -> None:
    assert day_kind(day) == kind


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 10, 1), False),  # a statutory holiday on a weekday is not a working day
        (D(2025, 10, 11), True),  # a make-up Saturday is
        (D(2025, 9, 28), True),  # a make-up Sunday is
        (D(2025, 10, 10), True),
        (D(2025, 10, 12), False),
    ],
)
def test_given_date_when_asking_is_working_day_then_make_up_days_count_and_holidays_do_not(
    day: dt.date, working: bool
) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Tuesday before Golden Week: Oct 1-8 off; 9, 10, 11 (make-up Sat), 13, 14.
        (dt.datetime(2025, 9, 30, 10, 0, tzinfo=SH), 5, dt.datetime(2025, 10, 14, 10, 0, tzinfo=SH)),
        # Friday 26 Sep: 28 (make-up Sun), 29, 30, then 9 Oct, 10 Oct.
        (dt.datetime(2025, 9, 26, 16, 30, tzinfo=SH), 5, dt.datetime(2025, 10, 10, 16, 30, tzinfo=SH)),
        # Received on a holiday: the holiday itself never counts.
        (dt.datetime(2025, 10, 3, 9, 0, tzinfo=SH), 1, dt.datetime(2025, 10, 9, 9, 0, tzinfo=SH)),
        (dt.datetime(2025, 10, 3, 9, 0, tzinfo=SH), 0, dt.datetime(2025, 10, 3, 9, 0, tzinfo=SH)),
        # Thursday 9 Oct: 10, 11 (make-up Saturday), 13.
        (dt.datetime(2025, 10, 9, 23, 59, tzinfo=SH), 3, dt.datetime(2025, 10, 13, 23, 59, tzinfo=SH)),
    ],
)
def test_given_start_when_adding_working_days_across_golden_week_then_same_clock_time_on_nth_working_day(
    start: dt.datetime, days: int, due: dt.datetime
) -> None:
    result = add_working_days(start, days)
    assert result == due
    assert result.tzinfo is SH


def test_given_negative_days_when_adding_working_days_then_value_error() -> None:
    with pytest.raises(ValueError, match="days"):
        add_working_days(dt.datetime(2025, 10, 9, tzinfo=SH), -1)


def test_given_working_days_between_when_range_spans_golden_week_then_only_working_days_count() -> None:
    assert working_days_between(D(2025, 9, 27), D(2025, 10, 12)) == 6  # 28, 29, 30, 9, 10, 11


HOURS = BusinessHours.model_validate(
    {"tz": "Asia/Shanghai", "working_days": ["08:30-12:00", "13:30-18:00"], "rest_days": ["09:00-12:00"]}
)


@pytest.mark.parametrize(
    ("when", "status"),
    [
        (dt.datetime(2025, 10, 9, 8, 30, tzinfo=SH), "open"),  # start inclusive
        (dt.datetime(2025, 10, 9, 12, 0, tzinfo=SH), "closed"),  # end exclusive (lunch)
        (dt.datetime(2025, 10, 9, 17, 59, tzinfo=SH), "open"),
        (dt.datetime(2025, 10, 9, 18, 0, tzinfo=SH), "closed"),
        (dt.datetime(2025, 10, 11, 15, 0, tzinfo=SH), "open"),  # make-up Saturday: working-day hours
        (dt.datetime(2025, 10, 12, 10, 0, tzinfo=SH), "open"),  # ordinary Sunday: rest-day hours
        (dt.datetime(2025, 10, 12, 15, 0, tzinfo=SH), "closed"),
        (dt.datetime(2025, 10, 1, 10, 0, tzinfo=SH), "holiday"),  # weekday holiday
        (dt.datetime(2025, 10, 4, 10, 0, tzinfo=SH), "holiday"),  # Saturday inside Golden Week
        # Epoch seconds and other zones are converted to the hours' zone: 02:00 UTC = 10:00 CST.
        (dt.datetime(2025, 10, 9, 2, 0, tzinfo=dt.UTC).timestamp(), "open"),
        (dt.datetime(2025, 10, 9, 2, 0, tzinfo=dt.UTC), "open"),
        (dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.UTC), "holiday"),  # = Oct 1 00:30 in Shanghai
    ],
)
def test_given_business_hours_when_asking_status_then_open_closed_or_holiday(
    when: dt.datetime | float, status: str
) -> None:
    assert status_at(HOURS, when) == status


def test_given_holiday_hours_when_inside_them_then_open_even_on_holiday() -> None:
    hours = BusinessHours(tz="Asia/Shanghai", holidays=HOURS.working_days)
    assert status_at(hours, dt.datetime(2025, 10, 1, 9, 0, tzinfo=SH)) == "open"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"working_days": ["18:00-08:00"]}, "end after it starts"),
        ({"working_days": ["8-12"]}, "HH:MM-HH:MM"),
        ({"weekdays": ["08:00-12:00"]}, "Extra inputs"),
    ],
)
def test_given_bad_business_hours_when_validating_then_error_says_what(data: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        BusinessHours.model_validate(data)


def test_given_full_day_range_when_validating_then_24_00_is_end_of_day() -> None:
    hours = BusinessHours.model_validate({"working_days": ["00:00-24:00"]})
    assert status_at(hours, dt.datetime(2025, 10, 9, 23, 59, tzinfo=SH)) == "open"
    assert str(hours.working_days[0]) == "00:00-24:00"


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Friday 17:00 + 2 h: 1 h Friday, Saturday 11 Oct 2025 is a make-up working day.
        (dt.datetime(2025, 10, 10, 17, 0, tzinfo=SH), 2, dt.datetime(2025, 10, 11, 9, 30, tzinfo=SH)),
        # Tuesday 30 Sep 17:00 + 2 h: Golden Week closed (no holiday hours) -> Thursday 9 Oct.
        (dt.datetime(2025, 9, 30, 17, 0, tzinfo=SH), 2, dt.datetime(2025, 10, 9, 9, 30, tzinfo=SH)),
        # Lunch break is skipped.
        (dt.datetime(2025, 10, 9, 11, 0, tzinfo=SH), 2, dt.datetime(2025, 10, 9, 14, 30, tzinfo=SH)),
        # Before opening: counting starts at opening.
        (dt.datetime(2025, 10, 9, 6, 0, tzinfo=SH), 0.5, dt.datetime(2025, 10, 9, 9, 0, tzinfo=SH)),
        (dt.datetime(2025, 10, 9, 6, 0, tzinfo=SH), 0, dt.datetime(2025, 10, 9, 6, 0, tzinfo=SH)),
    ],
)
def test_given_start_when_adding_working_hours_then_only_open_time_counts(
    start: dt.datetime, hours: float, due: dt.datetime
) -> None:
    assert add_working_hours(start, hours, HOURS) == due


def test_given_no_opening_ranges_when_adding_working_hours_then_value_error() -> None:
    with pytest.raises(ValueError, match="no opening time"):
        add_working_hours(
            dt.datetime(2025, 10, 9, tzinfo=SH), 1, BusinessHours()
        )
