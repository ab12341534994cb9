"""A short demo on the real lab: service (IVR, routing, recording) + simulator, and the numbers agree.

Seats 1131-1200 only (other suites use other seats on the same Asterisk); the IVR and recorder
serve only this run's callers (a fresh caller-number prefix).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline import lab
from hotline.config import Settings
from hotline.demo import run_demo
from hotline.netutil import free_port
from hotline.sim.cli import seats_for

pytestmark = pytest.mark.integration

#: queues the seats 1131-1200 hold skills for (agents file: labour/housing, housing/general, environment/transport)
MIX = {"labour_social": 0.25, "housing_fund": 0.3, "environment": 0.2, "transport": 0.15, "general": 0.1}


async def test_given_short_demo_when_it_ends_then_summary_routing_metrics_call_model_and_catalog_agree(
    asterisk: lab.LabPaths, settings: Settings, tmp_path: Path,
) -> None:
    summary, report = await run_demo(settings, seconds=30, rate=0.7, seats=seats_for(20, 1131, 1200), seed=7,
                                     talk_median_s=5.0, patience_mean_s=25.0, progress=False,
                                     workdir=tmp_path, mix=MIX,
                                     web_port=free_port())
    print("\n".join(summary.lines()))
    assert report.placed > 5
    assert report.never_seen == 0, report.as_dict()
    # every call the IVR handed over is one routing offer, and each offer ended one way
    assert summary.offered > 0
    assert summary.offered == summary.answered + summary.abandoned + summary.callbacks, summary
    # routing's answered calls are the call model's calls bridged to an agent leg
    assert summary.answered == summary.model_bridged, summary
    assert summary.answered >= 1
    # one recording per answered call in the catalog
    assert summary.recordings == summary.answered, summary
    # transcripts may still be pending; never more than recordings
    assert 0 < summary.transcripts <= summary.recordings, summary
    # callers talk too (real speech after their keys): both sides of some calls were recognised
    assert summary.speech_by_speaker.get("caller", 0) > 0 and summary.speech_by_speaker.get("agent", 0) > 0, summary
    # one work order in the lab RT per answered call
    assert summary.work_orders == summary.answered, summary
    # each transcript reaches its work order as one comment (allow the last ones pending)
    assert 0 < summary.work_orders_with_transcript <= summary.transcripts, summary
