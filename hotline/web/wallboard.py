"""The wallboard's numbers as one plain-data snapshot (pure: no I/O, ``now`` passed in).

:func:`build_board` reads a :class:`hotline.queues.metrics.MetricsState` (counters of the local day, rebuilt
from the event log after a restart) and the floor's live rows, and returns a JSON-ready dict that
``/api/wallboard`` serves and ``/ws/wallboard`` pushes. Formulas are those of :mod:`hotline.queues.metrics`;
the one service-level variant shown is labelled (``sl_label``), e.g.
``"SL2: answered within 20 s / (answered + abandoned)"``.

Erlang C per interval (:func:`hotline.queues.erlang.agents_needed`): arrival rate ``offered / interval_s``,
AHT the interval's (else the day's, else 180 s), target the configured ratio within the queue T;
"logged in" is the interval's logged-in agent-seconds divided by its elapsed seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.queues.erlang import agents_needed
from hotline.queues.exceptions import InvalidErlangInput
from hotline.queues.metrics import CallOutcomes, Counters, MetricsState, ServiceLevel
from hotline.queues.model import AgentStatus
from hotline.web.providers import AgentRow, QueueRow, SlaCard, WaitingRow

SL_FORMULAS: dict[str, str] = {
    "SL1": "answered within {t} s / answered",
    "SL2": "answered within {t} s / (answered + abandoned)",
    "SL3": "answered within {t} s / (answered + abandoned - abandoned under {ts} s)",
    "SL4": "(answered + abandoned) within {t} s / offered",
}
DEFAULT_AHT_S = 180.0
_VARIANT = {"SL1": ServiceLevel.SL1, "SL2": ServiceLevel.SL2, "SL3": ServiceLevel.SL3, "SL4": ServiceLevel.SL4}


def sl_label(variant: str, t_s: float, short_s: float = 5.0) -> str:
    """E.g. ``"SL2: answered within 20 s / (answered + abandoned)"``."""
    return f"{variant}: " + SL_FORMULAS[variant].format(t=f"{t_s:g}", ts=f"{short_s:g}")


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, nd)


def counters_json(c: Counters, variant: str) -> dict[str, Any]:
    """The counters a screen shows, plus every SL variant (0-1 ratios, None when undefined)."""
    return {
        "offered": c.offered,
        "answered": c.answered,
        "abandoned": c.abandoned,
        "answered_within_t": c.answered_within_t,
        "callbacks": c.callbacks,
        "sl_ratio": _r(c.service_level(_VARIANT[variant])),
        "service_levels": {k: _r(c.service_level(v)) for k, v in _VARIANT.items()},
        "asa_s": _r(c.asa_s, 1),
        "aht_s": _r(c.aht_s, 1),
        "abandon_ratio": _r(c.abandon_ratio),
    }


def calls_json(co: CallOutcomes) -> dict[str, Any]:
    """The hotline-level call outcomes of a day (:class:`hotline.queues.metrics.CallOutcomes`: calls, not
    offers), with ``offered_hotline`` (= ``reached_ivr + direct``) and ``offered_queue`` side by side,
    IVR abandons per node and failures per reason (sorted by count, then name)."""

    def tally(d: Mapping[str, int]) -> list[dict[str, Any]]:
        return [{"key": k, "calls": v} for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))]

    return {
        "offered_hotline": co.offered_hotline,
        "reached_ivr": co.reached_ivr,
        "in_ivr": co.in_ivr,
        "abandoned_ivr": co.abandoned_ivr,
        "abandoned_ivr_by_node": tally(co.abandoned_ivr_by_node),
        "self_served": co.self_served,
        "failed": co.failed,
        "failed_by_reason": tally(co.failed_by_reason),
        "offered_queue": co.offered_queue,
        "direct": co.direct,
        "answered": co.answered,
        "abandoned_queue": co.abandoned_queue,
        "abandoned_queue_short": co.abandoned_queue_short,
        "callbacks": co.callbacks,
        "transferred": co.transferred,
        "voicemail": co.voicemail,
        "waiting": co.waiting,
        "balanced": co.balanced,
    }


def _needed(offered: int, aht_s: float | None, interval_s: int, target: float, t_s: float) -> int | None:
    if offered == 0:
        return 0
    try:
        return agents_needed(offered / interval_s, aht_s or DEFAULT_AHT_S, target, t_s, max_agents=5000)
    except InvalidErlangInput:
        return None


def build_board(
    metrics: MetricsState,
    queues: Sequence[QueueRow],
    agents: Sequence[AgentRow],
    waiting: Sequence[WaitingRow],
    staffing: Mapping[float, float],
    now: float,
    *,
    variant: str = "SL2",
    target_ratio: float = 0.8,
    sla_cards: Iterable[SlaCard] | None = None,
) -> dict[str, Any]:
    """Everything the wallboard shows at ``now`` (epoch s), as plain data.

    Args:
        metrics: the day's statistics (``queues.metrics``).
        queues / agents / waiting: the floor's live rows.
        staffing: interval_at -> logged-in agent-seconds (today).
        variant: the SL variant shown (``SL1``..``SL4``); ``target_ratio`` the red line.
        sla_cards: work orders for the SLA panel; None means "no provider" (panel says so).
    Returns:
        ``{now, day, sl_label, target_ratio, totals, calls, queues[], agents[], agent_counts{}, skills[],
        intervals[], sla{configured, cards[]}}``; times in epoch s, durations in s, ratios 0-1.
        ``totals`` and ``queues`` count offers to queues; ``calls`` (:func:`calls_json`) counts calls
        from the IVR on: offered to the hotline, lost in the IVR per node, offered to a queue.
    """
    day = metrics.local_day(now)
    t_values = sorted({q.service_level_s for q in queues}) or [metrics.config.service_level_s]
    label = sl_label(variant, t_values[0], metrics.config.short_abandon_s)
    if len(t_values) > 1:
        label = f"{variant}: answered within T / " + SL_FORMULAS[variant].split(" / ", 1)[1] + " (T per queue)"

    waiting_by_q: dict[str, list[WaitingRow]] = {}
    for w in waiting:
        waiting_by_q.setdefault(w.queue, []).append(w)
    q_rows = []
    # every queue with offers today has a row, configured or not (a queue since removed from the
    # agents file, a name the routing log knows): the rows always add up to the totals
    known = {q.name for q in queues}
    extra = [QueueRow(name, (), metrics.config.queue_service_level_s.get(name, metrics.config.service_level_s))
             for name in metrics.queues_seen(day) if name not in known]
    for q in [*queues, *extra]:
        c = metrics.daily(day, q.name)
        ws = waiting_by_q.get(q.name, [])
        row: dict[str, Any] = {"name": q.name, "skills": list(q.skills), "service_level_s": q.service_level_s,
               "waiting": len(ws), "longest_wait_s": round(max((now - w.first_queued_at for w in ws), default=0.0), 1)}
        row.update(counters_json(c, variant))
        row["sl_below_target"] = row["sl_ratio"] is not None and row["sl_ratio"] < target_ratio
        q_rows.append(row)
    totals = counters_json(metrics.day_totals(day), variant)
    totals["waiting"] = len(waiting)
    totals["longest_wait_s"] = round(max((now - w.first_queued_at for w in waiting), default=0.0), 1)
    totals["sl_below_target"] = totals["sl_ratio"] is not None and totals["sl_ratio"] < target_ratio

    agent_rows = [{"agent_id": a.agent_id, "status": a.status.value, "reason": a.reason, "since_at": a.since_at,
                   "time_in_state_s": round(max(0.0, now - a.since_at), 1), "skills": dict(a.skills)}
                  for a in agents if a.status is not AgentStatus.LOGGED_OUT]
    counts = {s.value: 0 for s in AgentStatus}
    for a in agents:
        counts[a.status.value] += 1

    skill_names = sorted({s for q in queues for s in q.skills} | {s for a in agents for s in a.skills})
    skills = []
    for s in skill_names:
        holders = [a for a in agents if s in a.skills]
        skills.append({
            "skill": s,
            "waiting": sum(1 for w in waiting if s in w.skills),
            "ready": sum(1 for a in holders if a.status is AgentStatus.READY),
            "logged_in": sum(1 for a in holders if a.status is not AgentStatus.LOGGED_OUT),
        })

    interval_s = metrics.config.interval_s
    day_aht = metrics.day_totals(day).aht_s
    t0 = t_values[0]
    tz = ZoneInfo(metrics.config.timezone)
    intervals = []
    for at, c in metrics.intervals(day):
        started = at <= now
        elapsed = min(interval_s, max(0.0, now - at))
        intervals.append({
            "at": at,
            "label": datetime.fromtimestamp(at, tz).strftime("%H:%M"),
            "offered": c.offered if started else None,
            "answered": c.answered if started else None,
            "abandoned": c.abandoned if started else None,
            "sl_ratio": _r(c.service_level(_VARIANT[variant])) if started else None,
            "agents_needed": _needed(c.offered, c.aht_s or day_aht, interval_s, target_ratio, t0) if started else None,
            "agents_logged_in": round(staffing.get(at, 0.0) / elapsed, 2) if started and elapsed > 0 else None,
        })

    cards = None if sla_cards is None else [
        {"ticket": c.ticket, "title": c.title, "queue": c.queue, "due_at": c.due_at, "level": c.level}
        for c in sla_cards]
    return {
        "now": now,
        "day": day.isoformat(),
        "variant": variant,
        "sl_label": label,
        "target_ratio": target_ratio,
        "totals": totals,
        "calls": calls_json(metrics.calls(day)),
        "queues": q_rows,
        "agents": agent_rows,
        "agent_counts": counts,
        "skills": skills,
        "intervals": intervals,
        "sla": {"configured": cards is not None, "cards": cards or []},
    }
