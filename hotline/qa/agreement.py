"""Inter-reviewer agreement on calibration calls: Fleiss' kappa and score differences (pure).

Fleiss' kappa (Fleiss 1971) for ``N`` items each rated by ``n_i`` raters into ``k`` categories,
``n_ij`` = raters who put item ``i`` in category ``j``::

    p_j   = sum_i n_ij / sum_i n_i                       share of all ratings in category j
    P_i   = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1))       agreeing rater pairs on item i
    P_bar = mean_i P_i                                   observed agreement
    P_e   = sum_j p_j^2                                  agreement expected by chance
    kappa = (P_bar - P_e) / (1 - P_e)

With the same ``n`` for every item this is exactly Fleiss' formula; with varying ``n_i`` (a
reviewer has not scored yet) it is the usual generalisation with per-item ``n_i``. Items with
fewer than two ratings are left out. When every rating falls in one category ``P_e = 1`` and
kappa is undefined: None is returned (agreement is then shown by the score difference).

The items for QA are the (call, criterion) pairs of the calibration calls, the categories the
answers ``yes``/``no``/``na``. Total scores are compared by the mean absolute difference over
all reviewer pairs of a call, averaged over calls (points on the 0-100 scale).

No kept statistics library is used: statsmodels' ``fleiss_kappa`` would pull numpy, scipy and
pandas into the service for a ten-line formula; the unit tests check this one against Fleiss'
published example (kappa = 0.210).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa of a count table (rows = items, columns = categories, cells = raters).

    Returns:
        kappa (1 = perfect, 0 = chance, < 0 = worse than chance), or None when undefined
        (no item with two ratings, or all ratings in one category).
    """
    rows = [list(r) for r in table if sum(r) >= 2]
    if not rows:
        return None
    total = sum(sum(r) for r in rows)
    k = len(rows[0])
    p = [sum(r[j] for r in rows) / total for j in range(k)]
    p_bar = sum((sum(x * x for x in r) - sum(r)) / (sum(r) * (sum(r) - 1)) for r in rows) / len(rows)
    p_e = sum(x * x for x in p)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1.0 - p_e)


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """Agreement on a set of calibration calls.

    Attributes:
        calls: calibration calls with at least two submitted scores.
        kappa: Fleiss' kappa over (call, criterion) answers, None when undefined.
        mean_abs_diff: mean absolute total-score difference between reviewer pairs (0-100 points).
        max_abs_diff: the largest pair difference seen.
        per_call: linkedid -> mean absolute pair difference of that call.
    """

    calls: int
    kappa: float | None
    mean_abs_diff: float | None
    max_abs_diff: float | None
    per_call: dict[str, float]


def calibration_report(
    scores: Mapping[str, Mapping[str, float]],
    answers: Mapping[str, Mapping[str, Mapping[str, str]]],
    categories: Sequence[str] = ("yes", "no", "na"),
) -> CalibrationReport:
    """Agreement of reviewers on calibration calls.

    Args:
        scores: linkedid -> reviewer -> total score (0-100).
        answers: linkedid -> reviewer -> criterion id -> answer.
        categories: the answer categories.
    """
    table: list[list[int]] = []
    for linkedid in sorted(answers):
        by_reviewer = answers[linkedid]
        if len(by_reviewer) < 2:
            continue
        criteria = sorted({c for a in by_reviewer.values() for c in a})
        for crit in criteria:
            row = [0] * len(categories)
            for a in by_reviewer.values():
                if crit in a and a[crit] in categories:
                    row[categories.index(a[crit])] += 1
            table.append(row)
    per_call: dict[str, float] = {}
    diffs: list[float] = []
    for linkedid in sorted(scores):
        vals = list(scores[linkedid].values())
        pairs = [abs(a - b) for a, b in combinations(vals, 2)]
        if pairs:
            per_call[linkedid] = sum(pairs) / len(pairs)
            diffs += pairs
    return CalibrationReport(
        calls=len(per_call),
        kappa=fleiss_kappa(table),
        mean_abs_diff=(sum(per_call.values()) / len(per_call)) if per_call else None,
        max_abs_diff=max(diffs) if diffs else None,
        per_call=per_call,
    )
