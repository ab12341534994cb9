"""CSV import: good rows kept, bad rows reported with their row number and reason."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hotline.callbacks.importer import parse_reminders_csv

NOW = dt.datetime(2025, 9, 30, 10, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()

CSV = """number,prompts,not_before,urgent,say_digits
138 0013 8000,hotline/zh/wo_done&goodbye,2025-10-09 09:00,no,20250930001
12345,hello,,no,
+86 10 62345678,,,yes,
13900139000,hello,not a date,no,
13700137000,hello,,maybe,
13600136000,hello,,,12a
13800138000,hotline/zh/wo_done&goodbye,2025-10-09 09:00,no,20250930001
13500135000
"""


def test_given_csv_with_bad_rows_when_parsed_then_good_rows_kept_and_each_bad_row_reported() -> None:
    result = parse_reminders_csv(CSV, now=NOW)
    assert [j.number for j in result.jobs] == ["13800138000", "01062345678"]
    first = result.jobs[0]
    assert first.message.prompts == ("hotline/zh/wo_done", "goodbye")
    assert first.not_before_at == dt.datetime(2025, 10, 9, 9, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert first.message.say_digits == "20250930001"
    assert result.jobs[1].urgent and result.jobs[1].not_before_at == NOW
    assert [(e.row, e.reason.split(":")[0].split(" ")[0]) for e in result.errors] == [
        (3, "number"), (5, "date-time"), (6, "urgent"), (7, "say_digits"), (8, "duplicate"), (9, "1")]
    assert "short service number" in result.errors[0].reason
    assert result.rows == 8


def test_given_same_csv_twice_when_parsed_then_same_job_ids() -> None:
    assert [j.job_id for j in parse_reminders_csv(CSV, now=NOW).jobs] == \
        [j.job_id for j in parse_reminders_csv(CSV, now=NOW + 60).jobs]


def test_given_bad_header_when_parsed_then_one_error_on_row_1() -> None:
    result = parse_reminders_csv("phone,text\n13800138000,hi\n", now=NOW)
    assert result.jobs == () and result.errors[0].row == 1 and "unknown columns" in result.errors[0].reason
