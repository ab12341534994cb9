"""Bulk reminders from CSV (pure: text in, jobs and a per-row error report out).

Columns (a header row is required; names are case-insensitive, unknown columns are an error)::

    number       required: mainland mobile or landline (normalised, see callbacks.numbers)
    prompts      sound files separated by ``&`` or spaces (default: the settings' reminder intro);
                 each a plain sound name (``[A-Za-z0-9_-]`` segments separated by ``/``, no ``..``,
                 in the prompt catalog when one is given)
    not_before   ISO 8601 date-time; without an offset it is local time in the policy's zone
                 (default: now)
    urgent       yes/no/true/false/1/0 (default no): may ring on statutory holidays
    say_digits   digits read with SayDigits (a work-order number)
    say_number   an integer read with SayNumber
    say_time     ISO 8601 date-time read with SayUnixTime
    id           job id, ``[A-Za-z0-9_-]`` only (default: ``csv-`` + a hash of the row's content, so
                 importing the same file twice adds nothing)

Nothing of a row reaches an AMI header unchecked (:mod:`hotline.telephony.headers`): a prompt or
id with a comma, ``..``, CR/LF or ``${`` makes the row a :class:`RowError`.

Rows are numbered as in a spreadsheet (the header is row 1). A bad row is reported with its row
number and reason and skipped; every good row is kept (nothing else lost).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hotline.callbacks.model import Job, JobKind, Message
from hotline.callbacks.numbers import NumberRejected, parse_number
from hotline.telephony.headers import UnsafeHeaderValue, check_id, check_prompts

COLUMNS = ("number", "prompts", "not_before", "urgent", "say_digits", "say_number", "say_time", "id")
_TRUE = {"1", "yes", "y", "true", "是"}
_FALSE = {"", "0", "no", "n", "false", "否"}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # spreadsheet row number (header = 1)
    reason: str
    raw: str = ""


@dataclass(frozen=True, slots=True)
class ImportResult:
    jobs: tuple[Job, ...]
    errors: tuple[RowError, ...]
    rows: int


def _when(text: str, zone: ZoneInfo) -> float:
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.timestamp()


def parse_reminders_csv(text: str, *, now: float, tz: str = "Asia/Shanghai",
                        default_prompts: tuple[str, ...] = ("hello",), trunk: str = "trunk",
                        known_prompts: Collection[str] | None = None) -> ImportResult:
    """Parse a reminders CSV.

    Args:
        text: the file's text (UTF-8, a BOM is tolerated).
        now: epoch s, the default ``not_before`` and the jobs' ``created_at``.
        tz: zone of date-times without an offset.
        known_prompts: the prompt names a row may use (None: any well-formed name).
    Returns:
        The jobs of the good rows (in file order) and one :class:`RowError` per bad row.
    """
    zone = ZoneInfo(tz)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ImportResult((), (RowError(1, "empty file: a header row with 'number' is needed"),), 0)
    unknown = [h for h in header if h not in COLUMNS]
    if "number" not in header or unknown:
        reason = f"unknown columns {unknown}" if unknown else "no 'number' column"
        return ImportResult((), (RowError(1, f"header: {reason}; columns are {', '.join(COLUMNS)}"),), 0)
    jobs: list[Job] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    rows = 0
    for n, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        rows += 1
        raw = ",".join(values)
        if len(values) != len(header):
            errors.append(RowError(n, f"{len(values)} fields, the header has {len(header)}", raw))
            continue
        row = {k: v.strip() for k, v in zip(header, values, strict=True)}
        parsed = parse_number(row["number"])
        if isinstance(parsed, NumberRejected):
            errors.append(RowError(n, f"number {row['number']!r}: {parsed.reason}", raw))
            continue
        try:
            not_before = _when(row["not_before"], zone) if row.get("not_before") else now
            say_time = _when(row["say_time"], zone) if row.get("say_time") else None
        except ValueError as exc:
            errors.append(RowError(n, f"date-time: {exc}", raw))
            continue
        urgent_text = row.get("urgent", "").lower()
        if urgent_text not in _TRUE | _FALSE:
            errors.append(RowError(n, f"urgent must be yes/no, got {row['urgent']!r}", raw))
            continue
        say_number = row.get("say_number", "")
        if say_number and not say_number.lstrip("-").isdigit():
            errors.append(RowError(n, f"say_number must be an integer, got {say_number!r}", raw))
            continue
        say_digits = row.get("say_digits", "")
        if say_digits and not say_digits.isdigit():
            errors.append(RowError(n, f"say_digits must be digits, got {say_digits!r}", raw))
            continue
        try:
            prompts = check_prompts(tuple(p for p in row.get("prompts", "").replace("&", " ").split() if p),
                                    catalog=known_prompts) or default_prompts
            if row.get("id"):
                check_id(row["id"])
        except UnsafeHeaderValue as exc:
            errors.append(RowError(n, str(exc), raw))
            continue
        job_id = row.get("id") or "csv-" + hashlib.sha1(
            "|".join([parsed.number, " ".join(prompts), row.get("not_before", ""), say_digits, say_number,
                      row.get("say_time", "")])
            .encode()).hexdigest()[:16]
        if job_id in seen:
            errors.append(RowError(n, f"duplicate of an earlier row (job id {job_id})", raw))
            continue
        seen.add(job_id)
        jobs.append(Job(job_id=job_id, kind=JobKind.REMINDER, number=parsed.number, created_at=now,
                        not_before_at=not_before, urgent=urgent_text in _TRUE, trunk=trunk,
                        message=Message(prompts=prompts, say_digits=say_digits,
                                        say_number=int(say_number) if say_number else None, say_time_at=say_time),
                        meta={"source": "csv", "row": n}))
    return ImportResult(tuple(jobs), tuple(errors), rows)
