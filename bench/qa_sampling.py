"""Benchmark: drawing a day's QA sample (pure core) on a large synthetic catalog.

A week of calls for a big 12345 line (``--per-day`` calls a day, 300 agents, 6 queues, 5
districts), the example ``daily`` plan (5% stratified by queue and district, every agent twice a
week, all targeted rules). Prints the median wall time of ``draw_sample`` over ``--repeat`` runs
and checks that every run drew the same sample. Last line: one JSON object.

    .venv/bin/python bench/qa_sampling.py [--per-day 30000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.qa.models import CallRecord
from hotline.qa.plans import load_definitions
from hotline.qa.sampling import draw_sample

DAY = date(2026, 11, 26)
TZ = ZoneInfo("Asia/Shanghai")


def catalog(per_day: int, seed: int = 1) -> list[CallRecord]:
    rng = random.Random(seed)
    queues = ("commerce", "labour_social", "housing_fund", "environment", "transport", "general")
    districts = ("禅城", "南海", "顺德", "高明", "三水")
    out = []
    for d in range(10):
        day = DAY - timedelta(days=9 - d)
        t0 = datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp()
        for i in range(per_day):
            out.append(CallRecord(
                f"{day.isoformat()}-{i:06d}", t0 + rng.uniform(8 * 3600, 22 * 3600), rng.expovariate(1 / 240),
                agent=str(1001 + rng.randrange(300)), queue=rng.choice(queues), district=rng.choice(districts),
                call_type=rng.choice(("咨询", "求助", "投诉", "建议")), caller=f"138{rng.randrange(10**6):08d}",
                wait_s=rng.expovariate(1 / 30), flags=("complaint",) if rng.random() < 0.02 else (),
                satisfaction=rng.choice((None, None, 1, 2, 3, 4, 5)), recording="r.wav"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-day", type=int, default=30000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    defs = load_definitions(Path(__file__).resolve().parents[1] / "hotline" / "qa" / "examples" / "qa.yaml")
    plan = defs.plan("daily").model_copy(update={"random": defs.plan("daily").random.model_copy(  # type: ignore[union-attr]
        update={"stratify_by": ("queue", "district")})})
    calls = catalog(args.per_day)
    times, samples = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        samples.append(draw_sample(plan, "daily", calls, day=DAY, seed=42))
        times.append(time.perf_counter() - t)
    s = samples[0]
    result = {
        "benchmark": "qa_sampling", "calls_in_window": len(calls), "calls_of_day": s.population,
        "eligible": s.eligible, "sampled": len(s.calls), "strata": len(s.strata),
        "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
        "reproducible": all(x == s for x in samples),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
