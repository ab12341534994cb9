"""A short demo on the real lab: every call has one outcome and every source agrees (item 2 of issue #19).

Seats 1131-1200 only (other suites use other seats on the same Asterisk); the IVR and recorder
serve only this run's callers (a fresh caller-number prefix). The time budget comes from the plan
(arrivals, IVR times from the lab's prompts, patience, talk, transcription), not a fixed timeout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.app.config import Settings
from hotline.kernel.netutil import free_port
from hotline_lab import lab
from hotline_lab.demo import plan_budget_s, run_demo
from hotline_lab.sim.cli import seats_for

pytestmark = pytest.mark.integration

#: the demo's arguments (one place: the budget and the run use the same)
DEMO = {"seconds": 30.0, "rate": 0.7, "seed": 7, "talk_median_s": 5.0, "patience_mean_s": 25.0,
        "mix": {"labour_social": 0.25, "housing_fund": 0.3, "environment": 0.2, "transport": 0.15, "general": 0.1}}
PROCESSES = 2
_settings = Settings()
#: wall-time bound of the whole test, from its plan (see hotline.demo.demo_budget_s)
BUDGET_S = plan_budget_s(_settings.ivr.menu_path, _settings.ivr.prompt_dir, processes=PROCESSES, **DEMO)


@pytest.mark.timeout(BUDGET_S)
async def test_given_short_demo_when_it_ends_then_every_call_has_one_outcome_and_the_sources_reconcile(
    asterisk: lab.LabPaths, settings: Settings, tmp_path: Path,
) -> None:
    summary, report = await run_demo(settings, seats=seats_for(20, 1131, 1200), progress=False, workdir=tmp_path,
                                     web_port=free_port(), processes=PROCESSES, **DEMO)
    print("\n".join(summary.lines()))
    c = summary.calls
    assert report.placed > 5
    # every placed call ended exactly one way, the service saw every call, and each went through the IVR
    assert c.placed == c.ended() == report.placed, c
    assert c.failed == 0, c.failed_by_reason
    assert summary.ivr_paths == c.placed, summary
    # the IVR's hand-overs are routing's offers; answered and unanswered agree with routing
    assert c.offered_queue == summary.queues.offered_queue and c.answered == summary.queues.answered, summary
    assert summary.answered == summary.model_bridged and c.answered >= 1, summary
    # one recording per answered call, a transcript per recording, one work order per answered call with it
    assert summary.recordings == c.answered, summary.recordings_by_status
    assert summary.transcripts == summary.recordings, summary
    assert summary.work_orders == c.answered, summary
    # every call with a transcript has it in its work order (a recording skipped at the bridge has none)
    assert summary.work_orders_with_transcript == summary.expected_with_transcript, summary
    # callers talk too (real speech after their keys): both sides of some calls were recognised
    assert summary.speech_by_speaker.get("caller", 0) > 0 and summary.speech_by_speaker.get("agent", 0) > 0, summary
    # every sink the product ships was on and delivered; nothing left or dead; the demo's webhook receiver got
    # every delivered event with a valid signature and its MQTT subscriber every delivered message, schema-valid
    # (more is fine: at-least-once)
    sinks = summary.sinks
    assert set(sinks) == {"rt", "webhook", "mqtt"}, sinks
    for name, row in sinks.items():
        assert row["delivered"] > 0 and row["pending"] == 0 and row["dead"] == 0, (name, row)
    for name in ("webhook", "mqtt"):
        assert sinks[name]["bad"] == 0 and sinks[name]["received"] >= sinks[name]["delivered"], (name, sinks[name])
    # the webhook carries the work orders: one created per answered call, one transcript per call transcribed
    # (a recording skipped when it closed, e.g. an agent farm's 3 s talk bucket, has no transcript)
    assert sinks["webhook"]["delivered"] >= c.answered + (summary.expected_with_transcript or 0), sinks
    # no ERROR logged, no wait ran out, and the summary says so
    assert summary.errors_logged == 0, summary.error_samples
    assert summary.mismatches() == [], summary.mismatches()
    assert summary.lines()[-1] == "reconciled: yes"
