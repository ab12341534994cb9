"""``hotline calendar show|due``, the ``hotline check`` calendar line and the /metrics gauge."""

from __future__ import annotations

import datetime as dt

from hotline.app.calendar_ops import CalendarGauges, due_lines, parse_local, probe_for, show_lines
from hotline.app.cli import build_parser
from hotline.kernel.calendar import CHINESE_CALENDAR, ChineseCalendarSource, WorkingCalendar, YearData
from hotline.ticketing.sla import SHANGHAI


class Known:
    def __init__(self, name: str, years: set[int]) -> None:
        self.name, self.years = name, years

    def year(self, year: int) -> YearData | None:
        return YearData(year, self.name) if year in self.years else None


ENDS_2026 = WorkingCalendar([Known(CHINESE_CALENDAR, {2026})])


def test_given_data_ends_in_25_days_when_checking_then_warn_line_not_a_failure() -> None:
    probe = probe_for(ENDS_2026, dt.date(2026, 12, 7), 60)
    assert probe.ok is True and probe.warn is True
    assert probe.line().startswith("WARN  calendar")
    assert "in 25 days" in probe.detail and "2027" in probe.detail


def test_given_data_far_from_its_end_when_checking_then_ok_line() -> None:
    probe = probe_for(ENDS_2026, dt.date(2026, 3, 1), 60)
    assert (probe.ok, probe.warn) == (True, False)
    assert probe.line().startswith("ok    calendar")


def test_given_clock_when_scraping_then_days_left_gauge() -> None:
    now = dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI).timestamp()
    assert CalendarGauges(ENDS_2026, clock=lambda: now).gauges() == {"calendar_days_left": 25.0}


def test_given_2026_when_showing_then_holidays_and_make_up_days_with_source_in_chinese() -> None:
    text = "\n".join(show_lines(WorkingCalendar.packages(), 2026))
    assert "2026-10-10 周六  [chinese-calendar]  国庆节调休上班" in text
    assert "2026-02-17 周二  [chinese-calendar]  春节" in text


def test_given_uncovered_year_when_showing_then_statutory_tier_and_provisional() -> None:
    text = "\n".join(show_lines(WorkingCalendar.packages(), 2027))
    assert "2027 年  来源 source: holidays-statutory" in text
    assert "PROVISIONAL" in text and "no make-up working days" in text and "calendar.file" in text
    assert "2027-02-10 周三  [holidays-statutory]  春节（补假）" in text
    assert "调休上班 make-up working days (0):" in text


def test_given_calendar_without_holidays_package_when_showing_uncovered_year_then_weekday_rule() -> None:
    text = "\n".join(show_lines(WorkingCalendar([ChineseCalendarSource()]), 2031))
    assert "来源 source: weekdays" in text and "PROVISIONAL" in text and "weekday rule" in text
    assert "节假日 holidays (0):" in text


def test_given_request_before_new_year_2027_when_due_then_statutory_tier_named_and_provisional() -> None:
    text = "\n".join(due_lines(WorkingCalendar.packages(), parse_local("2026-12-28 16:00"), "request"))
    assert "2027-01-05 周二 16:00" in text
    assert "counted   5: 2026-12-29, 2026-12-30, 2026-12-31, 2027-01-04, 2027-01-05" in text
    assert "来源 source      chinese-calendar+holidays-statutory" in text
    assert "provisional yes" in text and "2027 (holidays-statutory:" in text


def test_given_request_at_golden_week_when_due_then_counted_days_and_source_printed() -> None:
    lines = due_lines(WorkingCalendar.packages(), parse_local("2025-09-30 10:00"), "request")
    text = "\n".join(lines)
    assert "2025-10-14 周二 10:00" in text
    assert "2025-10-11 (国庆节调休上班)" in text
    assert "来源 source      chinese-calendar" in text and "provisional no" in text


def test_given_consultation_when_due_then_24_hours_on_the_clock() -> None:
    text = "\n".join(due_lines(WorkingCalendar.packages(), parse_local("2026-12-28 16:00"), "consultation"))
    assert "2026-12-29 周二 16:00" in text and "clock" in text


def test_given_cli_when_parsing_calendar_commands_then_registered() -> None:
    args = build_parser().parse_args(["calendar", "due", "2026-12-28 16:00", "--type", "request"])
    assert (args.calendar_cmd, args.received, args.type) == ("due", "2026-12-28 16:00", "request")
    assert build_parser().parse_args(["calendar", "show", "2027"]).year == 2027
