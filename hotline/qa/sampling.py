"""Pure, seeded, reproducible sampling of calls for QA review.

No I/O, no clock, no global random state: :func:`draw_sample` takes the plan, the calls and a
seed, and the same three always give the same sample, in any Python and on any machine. Random
choices rank calls by ``SHA-256(f"{seed}|{plan}|{day}|{scope}|{linkedid}")`` and take the
lowest ranks: a simple random sample without replacement that an auditor can recompute by hand,
independent of the order the calls are given in.

Steps for one local day ``D`` (plan time zone):

1. **Population**: calls that started on ``D``. **Exclusions** (counted per rule): unanswered
   (no agent), unrecorded, shorter than ``exclude.shorter_than_s``, already sampled earlier.
2. **Targeted** rules take every eligible call that matches; each match is a reason
   (keyword flag, long call, long wait, repeat caller, dissatisfied follow-up rating).
3. **Random**: ``n = round_half_up(percent / 100 * N)`` of the ``N`` eligible calls, drawn from all
   of them (targeted ones too, so the random part stays an unbiased picture of the day; a call
   drawn twice just gets two reasons). Stratified: stratum ``h`` with ``N_h`` calls gets
   ``n * N_h / N`` rounded by the largest-remainder (Hamilton) method, so the quotas add up to
   ``n`` exactly; ties on the remainder go to the stratum with more calls, then by label.
4. **Agent minimum**: an agent with fewer than ``per_week`` calls sampled in the ISO week of ``D``
   (earlier samples of the week included) gets more from ``D``'s eligible calls, up to the
   minimum or as many as they had.

A call is in the sample once, with every reason that put it there.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from hotline.qa.models import CallRecord, Reason, Sample, SampledCall
from hotline.qa.plans import SamplingPlan

DAY_S = 86400.0


def day_bounds(day: date, tz: str) -> tuple[float, float]:
    """Epoch seconds of the start of ``day`` and of the next day, in time zone ``tz``."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone).timestamp()
    end = datetime.combine(day + timedelta(days=1), time(0), zone).timestamp()
    return start, end


def window(plan: SamplingPlan, day: date) -> tuple[float, float]:
    """The span of calls :func:`draw_sample` needs for ``day``, as epoch seconds ``[start, end)``.

    From the Monday of the ISO week (agent minimum) or ``within_days`` before the day (repeat
    callers), whichever is earlier, to the end of the day.
    """
    monday = day - timedelta(days=day.weekday())
    start, end = day_bounds(monday, plan.timezone)[0], day_bounds(day, plan.timezone)[1]
    rc = plan.targeted.repeat_callers
    if rc is not None:
        start = min(start, day_bounds(day, plan.timezone)[0] - rc.within_days * DAY_S)
    return start, end


def rank(seed: int, plan_name: str, day: date, scope: str, linkedid: str) -> str:
    """The random rank of a call within one draw (lower is drawn first): a SHA-256 hex digest."""
    return hashlib.sha256(f"{seed}|{plan_name}|{day.isoformat()}|{scope}|{linkedid}".encode()).hexdigest()


def draw(calls: Sequence[CallRecord], k: int, *, seed: int, plan_name: str, day: date, scope: str) -> list[CallRecord]:
    """The ``k`` calls of lowest rank (all of them if fewer), in rank order."""
    if k <= 0:
        return []
    ranked = sorted(calls, key=lambda c: rank(seed, plan_name, day, scope, c.linkedid))
    return ranked[:k]


def round_half_up(x: float) -> int:
    """Round to the nearest integer, halves up (``2.5 -> 3``), unlike Python's banker's ``round``."""
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def largest_remainder(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Allocate ``n`` draws across strata proportionally to ``sizes`` (Hamilton's method).

    Each stratum gets ``floor(n * N_h / N)``; the draws left over go one each to the strata
    with the largest remainders (ties: larger stratum first, then label order). No stratum gets
    more than its size. ``n`` is capped at ``N``.

    Returns:
        stratum -> quota; the quotas sum to ``min(n, N)``.
    """
    total = sum(sizes.values())
    n = min(n, total)
    if total == 0 or n == 0:
        return {h: 0 for h in sizes}
    quotas = {h: (n * s) // total for h, s in sizes.items()}
    left = n - sum(quotas.values())
    order = sorted(sizes, key=lambda h: (-((n * sizes[h]) % total), -sizes[h], h))
    for h in order[:left]:
        quotas[h] += 1
    return quotas


def targeted_reasons(
    plan: SamplingPlan, call: CallRecord, earlier_by_caller: Mapping[str, Sequence[float]]
) -> list[Reason]:
    """Every targeted rule of ``plan`` that ``call`` matches, as reasons (empty when none).

    Args:
        earlier_by_caller: caller number -> start times (epoch s) of all known calls from it.
    """
    t = plan.targeted
    reasons: list[Reason] = []
    for flag in t.keyword_flags:
        if flag in call.flags:
            reasons.append(Reason("keyword", f"transcript flagged {flag}"))
    if t.longer_than_s is not None and call.duration_s > t.longer_than_s:
        reasons.append(Reason("long_call", f"lasted {call.duration_s:.0f} s > {t.longer_than_s:.0f} s"))
    if t.waited_longer_than_s is not None and call.wait_s > t.waited_longer_than_s:
        reasons.append(Reason("long_wait", f"waited {call.wait_s:.0f} s > {t.waited_longer_than_s:.0f} s"))
    rc = t.repeat_callers
    if rc is not None and call.caller:
        since = call.started_at - rc.within_days * DAY_S
        n = sum(1 for at in earlier_by_caller.get(call.caller, ()) if since <= at <= call.started_at)
        if n >= rc.min_calls:
            reasons.append(Reason("repeat_caller", f"call {n} from this number within {rc.within_days:g} days"))
    if t.dissatisfied_at_most is not None and call.satisfaction is not None \
            and call.satisfaction <= t.dissatisfied_at_most:
        reasons.append(Reason("dissatisfied", f"follow-up rating {call.satisfaction} <= {t.dissatisfied_at_most}"))
    return reasons


def draw_sample(
    plan: SamplingPlan,
    plan_name: str,
    calls: Iterable[CallRecord],
    *,
    day: date,
    seed: int,
    already_sampled: Collection[str] = (),
) -> Sample:
    """Draw the sample of ``day`` for ``plan`` (see the module docstring for the steps).

    Args:
        plan: the plan.
        plan_name: its name (part of every rank, so two plans draw independently).
        calls: at least the calls of :func:`window` (others are ignored); a linkedid given
            twice counts once (the first wins).
        day: the local day to sample, in ``plan.timezone``.
        seed: any integer; store it with the sample to redraw it.
        already_sampled: linkedids sampled before (never sampled again; they count toward
            their agent's weekly minimum when they are in the same ISO week).
    Returns:
        The sample, calls ordered by linkedid, each with its reasons.
    """
    unique: dict[str, CallRecord] = {}
    for c in calls:
        unique.setdefault(c.linkedid, c)
    all_calls = list(unique.values())
    start, end = day_bounds(day, plan.timezone)
    week_start = day_bounds(day - timedelta(days=day.weekday()), plan.timezone)[0]

    by_caller: dict[str, list[float]] = defaultdict(list)
    for c in all_calls:
        if c.caller and c.started_at < end:
            by_caller[c.caller].append(c.started_at)

    population = sorted((c for c in all_calls if start <= c.started_at < end), key=lambda c: c.linkedid)
    excluded: dict[str, int] = {}
    eligible: list[CallRecord] = []
    done = set(already_sampled)
    for c in population:
        why = _exclusion(plan, c, done)
        if why:
            excluded[why] = excluded.get(why, 0) + 1
        else:
            eligible.append(c)

    reasons: dict[str, list[Reason]] = defaultdict(list)
    for c in eligible:
        reasons[c.linkedid] += targeted_reasons(plan, c, by_caller)

    strata_report: dict[str, tuple[int, int]] = {}
    if plan.random is not None:
        n = round_half_up(plan.random.percent / 100.0 * len(eligible))
        keys = plan.random.stratify_by
        strata: dict[str, list[CallRecord]] = defaultdict(list)
        for c in eligible:
            label = ",".join(f"{k}={c.stratum_value(k)}" for k in keys) if keys else "all"
            strata[label].append(c)
        quotas = largest_remainder({h: len(cs) for h, cs in strata.items()}, n)
        for h in sorted(strata):
            picked = draw(strata[h], quotas[h], seed=seed, plan_name=plan_name, day=day, scope=f"random:{h}")
            strata_report[h] = (len(strata[h]), len(picked))
            for c in picked:
                if keys:
                    detail = (f"{plan.random.percent:g}% stratified by {'+'.join(keys)}: stratum {h} "
                              f"drew {quotas[h]} of {len(strata[h])}")
                    reasons[c.linkedid].append(Reason("stratified", detail))
                else:
                    detail = f"{plan.random.percent:g}% of the day: drew {quotas[h]} of {len(strata[h])} eligible calls"
                    reasons[c.linkedid].append(Reason("random", detail))

    if plan.agent_minimum is not None:
        need = plan.agent_minimum.per_week
        week_done: dict[str, int] = defaultdict(int)
        for c in all_calls:
            if c.linkedid in done and c.agent and week_start <= c.started_at < end:
                week_done[c.agent] += 1
        by_agent: dict[str, list[CallRecord]] = defaultdict(list)
        for c in eligible:
            if c.agent:
                by_agent[c.agent].append(c)
        iso = day.isocalendar()
        for agent in sorted(by_agent):
            have = week_done[agent] + sum(1 for c in by_agent[agent] if reasons.get(c.linkedid))
            if have >= need:
                continue
            free = [c for c in by_agent[agent] if not reasons.get(c.linkedid)]
            picked = draw(free, need - have, seed=seed, plan_name=plan_name, day=day, scope=f"agent:{agent}")
            for c in picked:
                reasons[c.linkedid].append(Reason(
                    "agent_minimum",
                    f"agent {agent} had {have} of {need} calls sampled in week {iso.year}-W{iso.week:02d}"))

    sampled = tuple(
        SampledCall(c.linkedid, c.agent, tuple(reasons[c.linkedid])) for c in eligible if reasons.get(c.linkedid)
    )
    return Sample(
        plan_name=plan_name, plan=plan.model_dump(mode="json"), day=day.isoformat(), seed=seed,
        population=len(population), eligible=len(eligible), excluded=excluded, strata=strata_report,
        calls=sampled,
    )


def _exclusion(plan: SamplingPlan, c: CallRecord, done: Collection[str]) -> str | None:
    ex = plan.exclude
    if c.linkedid in done:
        return "already_sampled"
    if ex.unanswered and not c.agent:
        return "unanswered"
    if ex.unrecorded and not c.recording:
        return "unrecorded"
    if c.duration_s < ex.shorter_than_s:
        return f"shorter_than_{ex.shorter_than_s:g}s"
    return None
