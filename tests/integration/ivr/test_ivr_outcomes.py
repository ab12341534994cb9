"""A real caller who hangs up in the IVR is a counted call, with the node where they left (issue #19)."""

from __future__ import annotations

from pathlib import Path

from hotline.queues.component import ivr_event
from hotline.queues.metrics import MetricsState, replay
from tests.integration.ivr.conftest import IvrLab, caller_number
from tests.integration.ivr.test_agi_calls import FIRST_KEY_MS, walk


async def test_given_caller_hangs_up_in_the_ivr_then_the_listeners_count_one_ivr_abandon_at_that_node(
    ivr_lab: IvrLab, tmp_path: Path,
) -> None:
    seen: list[object] = []
    metrics = MetricsState()
    live_during: list[int] = []

    def listener(item: object) -> None:
        ev = ivr_event(item)  # type: ignore[arg-type]
        seen.append(ev)
        metrics.apply(ev)
        live_during.append(metrics.calls(metrics.local_day(ev.at)).in_ivr)

    ivr_lab.ivr.listeners.append(listener)
    caller = caller_number()
    uid = await walk(ivr_lab, tmp_path, caller, "1", [], stay_ms=FIRST_KEY_MS + 3000)
    rec = await ivr_lab.ivr.wait_finished(uid, timeout=30)

    assert rec.outcome == "caller_hung_up"
    assert live_during == [1, 0]  # "in the IVR" while the session ran, then an outcome
    co = metrics.calls(metrics.local_day(rec.ended_at))
    assert (co.reached_ivr, co.abandoned_ivr, co.abandoned_ivr_by_node) == (1, 1, {rec.node: 1})
    assert co.balanced
    assert replay(seen).report(rec.ended_at) == metrics.report(rec.ended_at)
