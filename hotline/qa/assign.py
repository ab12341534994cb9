"""Pure assignment of sampled calls to reviewers: least loaded first, calibration sets.

Load is the reviewer's open (unscored) assignments plus those handed out so far in this run.
Each call goes to the reviewer with the lowest load; ties go to the reviewer whose name sorts
first, so the same inputs always give the same assignments. Calibration calls (the plan's
``calibration.calls`` lowest-ranked calls of the sample, ranked like :mod:`hotline.qa.sampling`) go to
``reviewers_per_call`` distinct reviewers each, chosen the same way; their scores are compared by
:mod:`hotline.qa.agreement`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hotline.qa.models import SampledCall
from hotline.qa.plans import Calibration
from hotline.qa.sampling import rank


@dataclass(frozen=True, slots=True)
class NewAssignment:
    """One call for one reviewer. ``calibration``: the call also went to other reviewers."""

    linkedid: str
    reviewer: str
    calibration: bool = False


def least_loaded(load: Mapping[str, int], reviewers: Sequence[str], k: int = 1) -> list[str]:
    """The ``k`` reviewers with the lowest load (missing = 0), ties by name. Fewer if there are fewer."""
    return sorted(reviewers, key=lambda r: (load.get(r, 0), r))[:k]


def assign(
    calls: Sequence[SampledCall],
    reviewers: Sequence[str],
    *,
    open_load: Mapping[str, int] | None = None,
    calibration: Calibration | None = None,
    seed: int = 0,
    plan_name: str = "",
    day: date | None = None,
) -> list[NewAssignment]:
    """Hand out the calls of a sample.

    Args:
        calls: the sampled calls.
        reviewers: who reviews (at least one; at least ``reviewers_per_call`` for calibration).
        open_load: reviewer -> open assignments already held.
        calibration: the plan's calibration rule, or None.
        seed / plan_name / day: the sample's, so calibration calls are chosen reproducibly.
    Returns:
        Assignments: calibration calls first (``reviewers_per_call`` each), then one per call,
        in linkedid order.
    Raises:
        ValueError: no reviewers, or fewer than a calibration call needs.
    """
    if not reviewers:
        raise ValueError("no reviewers to assign to")
    load = {r: (open_load or {}).get(r, 0) for r in reviewers}
    out: list[NewAssignment] = []
    calib: set[str] = set()
    if calibration is not None and calls:
        if calibration.reviewers_per_call > len(reviewers):
            raise ValueError(f"calibration needs {calibration.reviewers_per_call} reviewers, got {len(reviewers)}")
        d = day or date(1970, 1, 1)
        ranked = sorted(calls, key=lambda c: rank(seed, plan_name, d, "calibration", c.linkedid))
        for c in sorted(ranked[: calibration.calls], key=lambda c: c.linkedid):
            calib.add(c.linkedid)
            for r in least_loaded(load, reviewers, calibration.reviewers_per_call):
                out.append(NewAssignment(c.linkedid, r, calibration=True))
                load[r] += 1
    for c in sorted(calls, key=lambda c: c.linkedid):
        if c.linkedid in calib:
            continue
        r = least_loaded(load, reviewers)[0]
        out.append(NewAssignment(c.linkedid, r))
        load[r] += 1
    return out
