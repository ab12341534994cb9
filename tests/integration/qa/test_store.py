"""QA storage on a real catalog (SQLite at Alembic head): samples with plan and seed, assignments, locked scores."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.qa.errors import ScoreLocked
from hotline.qa.models import CallRecord
from hotline.qa.plans import QaDefinitions, SamplingPlan
from hotline.qa.sampling import draw_sample
from hotline.qa.scoring import compute_score
from hotline.qa.service import calibration, sample_day
from hotline.qa.store import QaStore, SampleExists
from hotline.recording.catalog import Catalog
from tests.integration.qa.conftest import add_call

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 26)


def at(day: date, hour: float) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp() + hour * 3600


async def fill(catalog: Catalog, store: QaStore, n: int = 60, day: date = DAY) -> list[CallRecord]:
    rng = random.Random(day.toordinal())
    recs = []
    for i in range(n):
        rec = CallRecord(
            linkedid=f"{day.isoformat()}.{i:03d}", started_at=at(day, 8 + i * 0.2),
            duration_s=rng.choice([10, 60, 300]),
            agent=str(1001 + i % 5), queue=rng.choice(["commerce", "housing_fund", "transport"]),
            caller=f"1390000{i % 40:04d}", wait_s=rng.choice([5, 200]), satisfaction=rng.choice([None, 1, 5]),
            recording=f"{day:%Y/%m/%d}/{day.isoformat()}.{i:03d}.wav", ivr_path=("language", "main", "consult"),
            work_order=f"WO-{i}", flags=("complaint",) if i % 13 == 0 else ())
        await add_call(catalog, store, rec)
        recs.append(rec)
    return recs


async def test_given_catalog_calls_then_the_store_returns_them_with_facts_recording_and_flags(
        catalog: Catalog, store: QaStore) -> None:
    recs = await fill(catalog, store, n=14)
    got = await store.calls_between(at(DAY, 0), at(DAY, 24))
    assert got == sorted(recs, key=lambda r: r.linkedid)


async def test_given_a_day_when_sampled_then_plan_seed_reasons_and_assignments_are_stored(
        catalog: Catalog, store: QaStore, defs: QaDefinitions) -> None:
    recs = await fill(catalog, store)
    drawn = await sample_day(store, defs, "daily", DAY, seed=1234, by="qa.lead", now=1.0)
    row = await store.sample_row("daily", DAY.isoformat())
    assert row is not None and row["seed"] == 1234 and row["created_by"] == "qa.lead"
    # the stored plan and seed redraw the same sample from the same data (audit)
    again = draw_sample(SamplingPlan.model_validate(json.loads(row["plan"])), "daily", recs, day=DAY, seed=row["seed"])
    assert again.calls == drawn.sample.calls
    rows = await store.assignments()
    assert {r.linkedid for r in rows} == {c.linkedid for c in drawn.sample.calls}
    assert all(r.reasons for r in rows)
    calib = [r for r in rows if r.calibration]
    assert len(calib) == 3 and len({r.reviewer for r in calib}) == 3
    load = await store.open_load(["qa.wang", "qa.li", "qa.zhao"])
    assert max(load.values()) - min(load.values()) <= 1


async def test_given_a_sampled_day_when_sampled_again_then_it_is_refused(
        catalog: Catalog, store: QaStore, defs: QaDefinitions) -> None:
    await fill(catalog, store)
    await sample_day(store, defs, "daily", DAY, seed=1, by="a", now=1.0)
    with pytest.raises(SampleExists):
        await sample_day(store, defs, "daily", DAY, seed=2, by="b", now=2.0)


async def test_given_calls_sampled_yesterday_then_today_never_samples_them_again(
        catalog: Catalog, store: QaStore, defs: QaDefinitions) -> None:
    await fill(catalog, store, day=DAY - timedelta(days=1))
    await fill(catalog, store, day=DAY)
    first = await sample_day(store, defs, "daily", DAY - timedelta(days=1), seed=5, by="a", now=1.0)
    second = await sample_day(store, defs, "daily", DAY, seed=5, by="a", now=2.0)
    assert not {c.linkedid for c in first.sample.calls} & {c.linkedid for c in second.sample.calls}


async def test_given_a_submitted_score_when_submitted_again_then_it_is_locked(
        catalog: Catalog, store: QaStore, defs: QaDefinitions) -> None:
    await fill(catalog, store)
    await sample_day(store, defs, "daily", DAY, seed=9, by="a", now=1.0)
    a = (await store.assignments("qa.li"))[0]
    form = defs.form("standard")
    yes = {c.id: "yes" for c in form.criteria}
    await store.submit_score(a.id, compute_score(form, yes), form="standard", notes="", by="qa.li", now=2.0)
    with pytest.raises(ScoreLocked):
        await store.submit_score(a.id, compute_score(form, yes | {"privacy": "no"}), form="standard", notes="",
                                 by="qa.li", now=3.0)
    stored = await store.assignment(a.id)
    assert stored is not None and stored.score == 100.0 and stored.done
    assert [r["score"] for r in await store.score_rows()] == [100.0]


async def test_given_calibration_scores_then_agreement_is_reported(
        catalog: Catalog, store: QaStore, defs: QaDefinitions) -> None:
    await fill(catalog, store)
    drawn = await sample_day(store, defs, "daily", DAY, seed=3, by="a", now=1.0)
    form = defs.form("standard")
    yes = {c.id: "yes" for c in form.criteria}
    answers = {"qa.wang": yes, "qa.li": yes | {"greeting": "no"}, "qa.zhao": yes}
    for r in [r for r in await store.assignments() if r.calibration]:
        await store.submit_score(r.id, compute_score(form, answers[r.reviewer]), form="standard", notes="",
                                 by=r.reviewer, now=2.0)
    assert drawn.sample_id is not None
    rep = await calibration(store, drawn.sample_id)
    assert rep.calls == 1
    assert rep.mean_abs_diff == pytest.approx((10 + 0 + 10) / 3)
