"""The API provider and the Redis store on a private Redis: idempotent ids, one pending callback per
number and queue, cancel, CSV import twice, and errors the web layer maps to HTTP statuses."""

from __future__ import annotations

import asyncio

import pytest

from hotline.callbacks.api import CallbacksApi
from hotline.callbacks.model import JobStatus
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.web.errors import Conflict, InvalidRequest, NotFound
from tests.integration.callbacks.conftest import Clock


@pytest.fixture
def api(store: CallbackStore, clock: Clock) -> CallbacksApi:
    return CallbacksApi(store, CallbacksSettings(), clock)


async def test_given_reminder_when_added_listed_cancelled_then_states_follow(api: CallbacksApi, clock: Clock) -> None:
    row = await api.schedule_reminder("+86 138 0013 8000", "hello&goodbye", clock() + 60, job_id="rem-a")
    assert row["number"] == "13800138000" and row["status"] == "pending" and row["due_at"] == clock() + 60
    again = await api.schedule_reminder("13800138000", "other", clock(), job_id="rem-a")
    assert again["prompt"] == "hello&goodbye"  # the same id: the stored job, nothing new
    assert [r["id"] for r in await api.list_reminders()] == ["rem-a"]
    assert (await api.cancel_reminder("rem-a"))["status"] == "cancelled"
    with pytest.raises(Conflict):
        await api.cancel_reminder("rem-a")
    with pytest.raises(NotFound):
        await api.cancel_reminder("nope")
    with pytest.raises(InvalidRequest):
        await api.schedule_reminder("12345", "hello", clock())


async def test_given_callback_pending_when_same_number_asks_concurrently_then_one_request(api: CallbacksApi) -> None:
    rows = await asyncio.gather(*(api.schedule_callback("13600136000", "commerce", None) for _ in range(10)))
    assert len({r["id"] for r in rows}) == 1
    other_queue = await api.schedule_callback("13600136000", "transport", None)
    assert other_queue["id"] != rows[0]["id"]
    cancelled = await api.cancel_callback(rows[0]["id"])
    assert cancelled["status"] == "cancelled"
    fresh = await api.schedule_callback("13600136000", "commerce", None)
    assert fresh["id"] != rows[0]["id"]
    assert {r["status"] for r in await api.list_callbacks()} == {"cancelled", "open"}


async def test_given_csv_imported_twice_then_jobs_added_once_and_bad_rows_reported(api: CallbacksApi,
                                                                                   store: CallbackStore) -> None:
    text = "number,prompts\n13800138000,hello\n010-1234,hello\n13900139000,goodbye\n"
    first = await api.import_reminders_csv(text)
    second = await api.import_reminders_csv(text)
    assert (first["added"], first["already_there"]) == (2, 0)
    assert (second["added"], second["already_there"]) == (0, 2)
    assert first["errors"] == [{"row": 3, "reason": first["errors"][0]["reason"]}]
    jobs = await store.all_jobs()
    assert len(jobs) == 2 and all(j.status is JobStatus.PENDING for j in jobs)
    assert len(await store.due_ids(now=float("inf"))) == 2
