"""SLA clock: deadlines on the Chinese working calendar (2025 National Day), and cards."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.kernel.calendar import ChineseCalendarSource, WorkingCalendar, parse_calendar_file
from hotline.ticketing.sla import (
    SHANGHAI,
    Allowance,
    CallType,
    SlaPolicy,
    WorkOrderClock,
    card_for,
    due_date,
    due_for,
)


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Tue before Golden Week: Oct 1-8 off; Oct 9, 10, 11 (make-up Sat), 13, 14.
        (sh(2025, 9, 30, 10), sh(2025, 10, 14, 10)),
        # Fri: Sat 27 off, Sun 28 is a make-up working day; 28, 29, 30, Oct 9, 10.
        (sh(2025, 9, 26, 16, 30), sh(2025, 10, 10, 16, 30)),
        # Received on a holiday: the clock counts working days after it; Oct 9, 10, 11, 13, 14.
        (sh(2025, 10, 3, 9), sh(2025, 10, 14, 9)),
        # Received on the make-up Saturday itself: it does not count; 13, 14, 15, 16, 17.
        (sh(2025, 10, 11, 11), sh(2025, 10, 17, 11)),
        # An ordinary week: Mon -> next Mon.
        (sh(2025, 11, 3, 8), sh(2025, 11, 10, 8)),
    ],
)
def test_given_request_when_received_around_golden_week_then_due_in_5_working_days(
    received: dt.datetime, due: dt.datetime
) -> None:
    assert due_date(CallType.REQUEST, received) == due


def test_given_consultation_then_due_24_calendar_hours_later_even_across_holidays() -> None:
    assert due_date("consultation", sh(2025, 9, 30, 22, 15)) == sh(2025, 10, 1, 22, 15)


def test_given_received_in_utc_then_days_are_counted_in_shanghai() -> None:
    # 2025-09-30 18:00 UTC is Oct 1 02:00 in Shanghai: a holiday, so Oct 9, 10, 11, 13, 14.
    received = dt.datetime(2025, 9, 30, 18, 0, tzinfo=dt.UTC)
    assert due_date(CallType.REQUEST, received) == sh(2025, 10, 14, 2)


def test_given_complaint_and_suggestion_then_allowances_are_configurable() -> None:
    policy = SlaPolicy(
        allowances={
            CallType.CONSULTATION: Allowance(hours=24),
            CallType.REQUEST: Allowance(working_days=5),
            CallType.COMPLAINT: Allowance(hours=48),
            CallType.SUGGESTION: Allowance(working_days=1),
        }
    )
    assert due_date(CallType.COMPLAINT, sh(2025, 9, 30, 10), policy) == sh(2025, 10, 2, 10)
    assert due_date(CallType.SUGGESTION, sh(2025, 9, 30, 10), policy) == sh(2025, 10, 9, 10)


def test_given_operator_file_with_extra_holiday_then_deadline_moves() -> None:
    file = parse_calendar_file({"years": {2025: {
        "holidays": {"2025-10-01..2025-10-08": "国庆节、中秋节", "2025-10-13": "台风停工"},
        "workdays": {"2025-09-28": "调休上班", "2025-10-11": "调休上班"}}}})
    policy = SlaPolicy(calendar=WorkingCalendar.packages(file))
    assert due_date(CallType.REQUEST, sh(2025, 9, 30, 10), policy) == sh(2025, 10, 15, 10)


def test_given_naive_datetime_then_value_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_date(CallType.REQUEST, dt.datetime(2025, 9, 30, 10))


def test_given_policy_missing_a_call_type_then_value_error() -> None:
    with pytest.raises(ValueError, match="suggestion"):
        SlaPolicy(allowances={t: Allowance(hours=1) for t in CallType if t is not CallType.SUGGESTION})


@pytest.mark.parametrize("kwargs", [{}, {"hours": 1, "working_days": 1}, {"hours": 0}, {"working_days": -1}])
def test_given_bad_allowance_then_value_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Allowance(**kwargs)  # type: ignore[arg-type]


CONSULT = WorkOrderClock(received=sh(2025, 10, 1, 8), due=sh(2025, 10, 2, 8))  # 24 h allowance
REQUEST = WorkOrderClock(received=sh(2025, 9, 30, 10), due=sh(2025, 10, 14, 10))  # 336 h allowance


@pytest.mark.parametrize(
    ("clock", "now", "card"),
    [
        (CONSULT, sh(2025, 10, 1, 9), None),
        (CONSULT, sh(2025, 10, 2, 3, 11), None),  # 4 h 49 left > 4 h 48 (20% of 24 h)
        (CONSULT, sh(2025, 10, 2, 3, 13), "yellow"),  # 4 h 47 left <= 4.8 h (20%)
        (CONSULT, sh(2025, 10, 2, 7, 59), "yellow"),
        (CONSULT, sh(2025, 10, 2, 8), "red"),  # due exactly: overdue
        (CONSULT, sh(2025, 10, 5), "red"),
        (REQUEST, sh(2025, 10, 11, 14), None),  # 68 h left > 67.2 h (20% of 336 h)
        (REQUEST, sh(2025, 10, 11, 15), "yellow"),  # 67 h left
        (REQUEST, sh(2025, 10, 14, 10, 1), "red"),
    ],
)
def test_given_open_work_order_then_card_by_time_left(
    clock: WorkOrderClock, now: dt.datetime, card: str | None
) -> None:
    assert card_for(clock, now) == card


def test_given_short_allowance_then_yellow_within_hours_wins_over_ratio() -> None:
    clock = WorkOrderClock(received=sh(2025, 10, 9, 9), due=sh(2025, 10, 9, 19))  # 10 h: 20% = 2 h
    assert card_for(clock, sh(2025, 10, 9, 15, 30)) == "yellow"  # 3.5 h left <= 4 h
    assert card_for(clock, sh(2025, 10, 9, 15, 30), SlaPolicy(yellow_within=None)) is None


def test_given_closed_work_order_then_no_card_even_if_late() -> None:
    closed = WorkOrderClock(received=CONSULT.received, due=CONSULT.due, closed=sh(2025, 10, 3))
    assert card_for(closed, sh(2025, 10, 5)) is None


def test_given_naive_now_then_value_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        card_for(CONSULT, dt.datetime(2025, 10, 2))


def test_given_request_in_a_year_no_source_knows_then_provisional_due_date_not_an_error() -> None:
    due = due_for(CallType.REQUEST, sh(2031, 3, 7, 10))
    assert due.at == sh(2031, 3, 14, 10)
    assert (due.source, due.provisional) == ("holidays-statutory", True)


def test_given_request_before_new_year_2027_then_statutory_new_year_skipped_and_provisional() -> None:
    due = due_for(CallType.REQUEST, sh(2026, 12, 28, 16))
    assert due.at == sh(2027, 1, 5, 16)  # Dec 29, 30, 31, (Jan 1 元旦 by law, Jan 2-3 weekend), Jan 4, Jan 5
    assert (due.source, due.provisional) == ("chinese-calendar+holidays-statutory", True)


def test_given_calendar_without_holidays_package_when_year_unknown_then_weekday_rule() -> None:
    weekdays_only = SlaPolicy(calendar=WorkingCalendar([ChineseCalendarSource()]))
    due = due_for(CallType.REQUEST, sh(2026, 12, 28, 16), weekdays_only)
    assert due.at == sh(2027, 1, 4, 16)  # Dec 29, 30, 31, Jan 1 (a Friday), Jan 4
    assert (due.source, due.provisional) == ("chinese-calendar+weekdays", True)


def test_given_consultation_then_due_source_is_the_clock() -> None:
    due = due_for(CallType.CONSULTATION, sh(2031, 3, 7, 10))
    assert (due.at, due.source, due.provisional) == (sh(2031, 3, 8, 10), "clock", False)
