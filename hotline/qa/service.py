"""Drawing, storing and assigning a day's sample: the glue between the store and the pure core."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from hotline.qa.agreement import CalibrationReport, calibration_report
from hotline.qa.assign import NewAssignment, assign
from hotline.qa.models import Sample
from hotline.qa.plans import QaDefinitions
from hotline.qa.sampling import draw_sample, window
from hotline.qa.store import QaStore


@dataclass(frozen=True, slots=True)
class DrawnSample:
    """A drawn sample, its assignments, and its id once stored (None for a dry run)."""

    sample: Sample
    assignments: tuple[NewAssignment, ...]
    sample_id: int | None


def new_seed() -> int:
    """A fresh 63-bit seed (stored with the sample: anyone can redraw it)."""
    return secrets.randbits(63)


async def sample_day(
    store: QaStore,
    defs: QaDefinitions,
    plan_name: str,
    day: date,
    *,
    seed: int,
    by: str,
    now: float,
    save: bool = True,
) -> DrawnSample:
    """Load the calls the plan needs, draw the sample, assign it and (unless ``save`` is False) store it.

    Raises:
        UnknownPlan: no such plan.
        SampleExists: the plan was already sampled for ``day`` (only when saving).
        QaStoreUnavailable: the database failed.
    """
    plan = defs.plan(plan_name)
    start, end = window(plan, day)
    calls = await store.calls_between(start, end)
    already = await store.sampled_linkedids(plan_name)
    sample = draw_sample(plan, plan_name, calls, day=day, seed=seed, already_sampled=already)
    new: list[NewAssignment] = []
    if plan.reviewers:
        load = await store.open_load(plan.reviewers)
        new = assign(sample.calls, plan.reviewers, open_load=load, calibration=plan.calibration, seed=seed,
                     plan_name=plan_name, day=day)
    sample_id = None
    if save:
        sample_id = await store.save_sample(sample, new, form=plan.form or "", created_by=by, now=now)
    return DrawnSample(sample, tuple(new), sample_id)


async def calibration(store: QaStore, sample_id: int) -> CalibrationReport:
    """Agreement of the reviewers on a sample's calibration calls (submitted scores only)."""
    scores, answers = await store.calibration_scores(sample_id)
    return calibration_report(scores, answers)
