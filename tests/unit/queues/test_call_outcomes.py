"""Hotline-level call outcomes: every call exactly one outcome, the invariants, live == replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.queues.codec import decode_event, encode_event
from hotline.queues.events import (
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallOverflowed,
    CallQueued,
    CallSentToVoicemail,
    CallTransferred,
    IvrEnded,
    IvrEntered,
    IvrOutcome,
)
from hotline.queues.metrics import CallOutcomes, MetricsConfig, MetricsState, classify_ivr_end, replay
from hotline.queues.model import Agent
from tests.unit.queues.sim import agent_defs
from tests.unit.queues.test_metrics import simulate

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 30)
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=TZ).timestamp()
CFG = MetricsConfig(service_level_s=20.0, short_abandon_s=5.0)
Q = IvrOutcome


def entered(lid: str, at: float = T0) -> IvrEntered:
    return IvrEntered(lid, "u-" + lid, at)


def ended(lid: str, outcome: str, node: str = "main", reason: str = "", at: float = T0 + 1) -> IvrEnded:
    return IvrEnded(lid, "u-" + lid, outcome, node, ("welcome", node), reason, at)


def queued(lid: str, at: float = T0 + 1, queue: str = "labour") -> CallQueued:
    return CallQueued(lid, "u-" + lid, queue, at)


def test_given_the_demo_run_when_40_leave_in_the_ivr_then_they_are_counted_not_lost() -> None:
    events: list[object] = []
    for i in range(100):
        events.append(entered(f"c{i}"))
    for i in range(40):
        events.append(ended(f"c{i}", Q.ABANDONED, node="main" if i % 4 else "language"))
    for i in range(40, 100):
        events += [queued(f"c{i}"), ended(f"c{i}", Q.QUEUED, node="to_labour"), CallAnswered(f"c{i}", "a1", T0 + 9)]
    co = replay(events, CFG).calls(DAY)
    assert co.reached_ivr == co.offered_hotline == 100
    assert (co.abandoned_ivr, co.abandoned_ivr_by_node) == (40, {"language": 10, "main": 30})
    assert (co.offered_queue, co.answered, co.in_ivr, co.waiting, co.direct) == (60, 60, 0, 0, 0)
    assert co.balanced


def test_a_known_mix_matches_hand_counts() -> None:
    events = [
        entered("ans"), queued("ans"), ended("ans", Q.QUEUED), CallAnswered("ans", "a1", T0 + 10),
        entered("abq"), queued("abq"), ended("abq", Q.QUEUED), CallAbandoned("abq", T0 + 3),  # waited 2 s: short
        entered("abq2"), queued("abq2"), ended("abq2", Q.QUEUED), CallAbandoned("abq2", T0 + 30),
        entered("cb"), queued("cb"), CallbackRequested("cb", T0 + 20), ended("cb", Q.QUEUED, at=T0 + 21),
        entered("vm"), queued("vm"), ended("vm", Q.QUEUED), CallSentToVoicemail("vm", "labour", T0 + 300),
        entered("xfer"), queued("xfer"), ended("xfer", Q.QUEUED), CallTransferred("xfer", T0 + 7),
        entered("ovf"), queued("ovf"), ended("ovf", Q.QUEUED), CallOverflowed("ovf", "labour", "general", T0 + 60),
        CallAnswered("ovf", "a2", T0 + 70),
        entered("wait"), queued("wait"), ended("wait", Q.QUEUED),
        entered("self"), ended("self", Q.SELF_SERVED, node="bye", reason="hangup_node"),
        entered("err"), ended("err", Q.FAILED, reason="error"),
        entered("retry"), ended("retry", Q.FAILED, reason="retries_exhausted"),
        entered("left"), ended("left", Q.ABANDONED, node="menu"),
        entered("still"),
        queued("cbcall", at=T0 + 100),  # a citizen-first callback call: routed without the IVR
    ]
    m = replay(events, CFG)
    co = m.calls(DAY)
    assert co == CallOutcomes(
        reached_ivr=13, in_ivr=1, abandoned_ivr=1, abandoned_ivr_by_node={"menu": 1}, self_served=1, failed=2,
        failed_by_reason={"error": 1, "retries_exhausted": 1}, offered_queue=9, direct=1, answered=2,
        abandoned_queue=2, abandoned_queue_short=1, callbacks=1, transferred=1, voicemail=1, waiting=2,
    )
    assert co.balanced and co.offered_hotline == 14 and co.from_ivr == 8
    # offers, not calls, per queue: the overflowed call is offered twice
    assert m.day_totals(DAY).offered == 10


def test_given_a_refused_hand_over_then_failed_until_routing_queues_it() -> None:
    m = MetricsState(CFG)
    for ev in (entered("L"), ended("L", Q.QUEUED)):  # the IVR says queued, routing never saw it
        m.apply(ev)
    co = m.calls(DAY)
    assert (co.failed, co.failed_by_reason, co.offered_queue, co.balanced) == (1, {"handover_refused": 1}, 0, True)
    m.apply(queued("L", at=T0 + 5))  # it arrived late after all
    co = m.calls(DAY)
    assert (co.failed, co.failed_by_reason, co.offered_queue, co.waiting, co.direct) == (0, {}, 1, 1, 0)
    assert co.balanced


def test_given_an_ivr_end_without_its_start_then_the_call_still_reached_the_ivr() -> None:
    co = replay([ended("L", Q.ABANDONED, node="menu")], CFG).calls(DAY)
    assert (co.reached_ivr, co.abandoned_ivr, co.in_ivr, co.balanced) == (1, 1, 0, True)


def test_duplicates_count_once() -> None:
    events = [entered("L"), entered("L"), queued("L"), queued("L"), ended("L", Q.QUEUED), ended("L", Q.ABANDONED)]
    co = replay(events, CFG).calls(DAY)
    assert (co.reached_ivr, co.offered_queue, co.waiting, co.abandoned_ivr) == (1, 1, 1, 0)


def test_a_call_is_counted_on_the_day_it_reached_the_ivr() -> None:
    late = datetime(2026, 11, 30, 23, 59, 50, tzinfo=TZ).timestamp()
    events = [entered("L", late), queued("L", late + 5), CallAnswered("L", "a1", late + 30)]
    m = replay(events, CFG)
    assert m.calls(DAY).answered == 1
    assert m.calls(date(2026, 12, 1)) == CallOutcomes()
    m.forget_before(date(2026, 12, 1))
    assert m.report(late + 60)["calls"] == {}


@pytest.mark.parametrize(
    ("outcome", "reason", "kind", "expected"),
    [
        ("queued", "option", "queue", (Q.QUEUED, "option")),
        ("caller_hung_up", "caller_hung_up", "menu", (Q.ABANDONED, "caller_hung_up")),
        ("caller_hung_up", "caller_hung_up", "hangup", (Q.SELF_SERVED, "caller_hung_up_at_goodbye")),
        ("hung_up", "hangup_node", "hangup", (Q.SELF_SERVED, "hangup_node")),
        ("hung_up", "retries_exhausted", "menu", (Q.FAILED, "retries_exhausted")),
        ("hung_up", "max_steps", None, (Q.FAILED, "max_steps")),
        ("handover_failed", "option", None, (Q.FAILED, "handover_failed")),
        ("error", "RuntimeError: boom", None, (Q.FAILED, "error")),
        ("stopped", "service stopping", None, (Q.FAILED, "stopped")),
        ("", "", None, (Q.FAILED, "unknown")),
    ],
)
def test_ivr_session_ends_map_to_one_outcome(outcome: str, reason: str, kind: str | None,
                                             expected: tuple[IvrOutcome, str]) -> None:
    assert classify_ivr_end(outcome, reason, kind) == expected


def test_ivr_events_survive_the_log_codec() -> None:
    for ev in (entered("L"), IvrEnded("L", "u", "failed", "n", ("a", "b"), "error", T0, "RuntimeError: x")):
        assert decode_event(encode_event(ev)) == ev


# --- property: random IVR + routing logs -------------------------------------------------------

IVR_ENDS = (Q.ABANDONED, Q.SELF_SERVED, Q.FAILED, Q.QUEUED)


def with_ivr(data: st.DataObject, log: list[object]) -> list[object]:
    """Merge IVR sessions into a routing log: most queued calls came through the IVR (its end just
    before or after the hand-over), others are direct; IVR-only calls start and end in between."""
    out: list[object] = []
    open_ivr: list[str] = []
    refused: list[str] = []
    n = 0
    for ev in log:
        at = float(getattr(ev, "at", 0.0))
        if data.draw(st.integers(0, 3)) == 0:
            n += 1
            open_ivr.append(f"i{n}")
            out.append(entered(f"i{n}", at))
        if open_ivr and data.draw(st.integers(0, 3)) == 0:
            lid = open_ivr.pop(data.draw(st.integers(0, len(open_ivr) - 1)))
            oc = data.draw(st.sampled_from(IVR_ENDS))
            out.append(ended(lid, oc, node=data.draw(st.sampled_from(("menu", "lang"))),
                             reason=data.draw(st.sampled_from(("error", "max_steps"))), at=at))
            if oc is Q.QUEUED:
                refused.append(lid)
        if refused and data.draw(st.integers(0, 5)) == 0:  # a refused hand-over arrives late after all
            out.append(queued(refused.pop(), at=at))
        if isinstance(ev, CallQueued) and data.draw(st.booleans()):
            out.append(entered(ev.linkedid, at))
            end = ended(ev.linkedid, Q.QUEUED, at=at)
            out += [end, ev] if data.draw(st.booleans()) else [ev, end]
        else:
            out.append(ev)
    return out


def oracle_calls(log: list[object], cfg: MetricsConfig) -> dict[date, CallOutcomes]:
    """Independent recount: one outcome per linkedid, from its own timeline."""
    timelines: dict[str, list[object]] = defaultdict(list)
    for ev in log:
        lid = getattr(ev, "linkedid", None)
        if lid is not None:
            timelines[lid].append(ev)
    tz = ZoneInfo(cfg.timezone)
    out: dict[date, CallOutcomes] = defaultdict(CallOutcomes)
    for evs in timelines.values():
        first = next((e for e in evs if isinstance(e, IvrEntered | IvrEnded | CallQueued)), None)
        if first is None:
            continue
        co = out[datetime.fromtimestamp(first.at, tz).date()]
        q = next((i for i, e in enumerate(evs) if isinstance(e, CallQueued)), None)
        via_ivr = not isinstance(first, CallQueued)
        ivr_end = next((e for e in evs if isinstance(e, IvrEnded)), None)
        co.reached_ivr += via_ivr
        if q is None:
            if ivr_end is None:
                co.in_ivr += 1
            elif ivr_end.outcome == Q.ABANDONED:
                co.abandoned_ivr += 1
                co.abandoned_ivr_by_node[ivr_end.node] = co.abandoned_ivr_by_node.get(ivr_end.node, 0) + 1
            elif ivr_end.outcome == Q.SELF_SERVED:
                co.self_served += 1
            else:
                key = "handover_refused" if ivr_end.outcome == Q.QUEUED else ivr_end.reason
                co.failed += 1
                co.failed_by_reason[key] = co.failed_by_reason.get(key, 0) + 1
            continue
        co.offered_queue += 1
        co.direct += not via_ivr
        start = evs[q].at
        for e in evs[q + 1:]:
            if isinstance(e, CallAnswered):
                co.answered += 1
            elif isinstance(e, CallAbandoned):
                co.abandoned_queue += 1
                co.abandoned_queue_short += e.at - start < cfg.short_abandon_s
            elif isinstance(e, CallbackRequested):
                co.callbacks += 1
            elif isinstance(e, CallSentToVoicemail):
                co.voicemail += 1
            elif isinstance(e, CallTransferred):
                co.transferred += 1
            else:
                continue
            break
        else:
            co.waiting += 1
    return {d: co.copy() for d, co in sorted(out.items())}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), agents=agent_defs())
def test_every_call_has_one_outcome_and_the_invariants_hold_at_every_step(data: st.DataObject,
                                                                           agents: list[Agent]) -> None:
    routing_log, end = simulate(data, agents)
    log = with_ivr(data, routing_log)
    cfg = MetricsConfig()
    live = MetricsState(cfg)
    for ev in log:
        live.apply(ev)
        calls = live.report(end)["calls"]
        assert all(co.balanced for co in calls.values()), calls  # type: ignore[attr-defined]
    assert live.report(end)["calls"] == oracle_calls(log, cfg)
    assert replay(log, cfg).report(end) == live.report(end)
    cut = data.draw(st.integers(0, len(log)))
    restarted = replay(log[:cut], cfg)
    for ev in log[cut:]:
        restarted.apply(ev)
    assert restarted.report(end) == live.report(end)
    # the queue side, in calls, agrees with the waiting offers of the live view
    waiting_calls = sum(co.waiting for co in live.report(end)["calls"].values())  # type: ignore[attr-defined]
    assert waiting_calls == sum(live.live(end).waiting.values())
