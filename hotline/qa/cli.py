"""``hotline qa ...``: draw a day's sample, check the plans file, report calibration agreement.

    hotline qa sample --plan NAME --date YYYY-MM-DD [--seed N] [--dry-run] [--json] [--by USER]
    hotline qa check [--plans FILE]
    hotline qa calibration --sample ID

``sample`` prints the plan, the seed, the population and exclusions, then one line per sampled call
with every reason it is there, then the assignments. It stores the sample (plan and seed included)
in the catalog unless ``--dry-run``; a plan is sampled once per day (a second run is refused, so a
sample cannot be redrawn until it suits someone). Errors print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import time
from typing import Any, Protocol

from hotline.qa.plans import load_definitions
from hotline.qa.service import DrawnSample, calibration, new_seed, sample_day
from hotline.qa.settings import QaConfig
from hotline.recording.settings import RecordingSettings


class Settings(Protocol):
    """The slices of the root settings the QA commands read (``qa``; ``recording``: the catalog)."""

    @property
    def qa(self) -> QaConfig: ...

    @property
    def recording(self) -> RecordingSettings: ...


def format_sample(drawn: DrawnSample) -> list[str]:
    """The human-readable lines ``hotline qa sample`` prints."""
    s = drawn.sample
    lines = [f"plan {s.plan_name}  day {s.day}  seed {s.seed}"
             + (f"  stored as sample {drawn.sample_id}" if drawn.sample_id is not None else "  (dry run: not stored)"),
             f"population {s.population}  eligible {s.eligible}  excluded "
             + (", ".join(f"{k} {v}" for k, v in sorted(s.excluded.items())) or "none")]
    for label, (size, k) in sorted(s.strata.items()):
        lines.append(f"  stratum {label}: {k} of {size}")
    lines.append(f"sampled {len(s.calls)} calls:")
    for c in s.calls:
        lines.append(f"  {c.linkedid}  agent {c.agent or '-'}  " + "; ".join(str(r) for r in c.reasons))
    if drawn.assignments:
        lines.append(f"assignments ({len(drawn.assignments)}):")
        for a in drawn.assignments:
            lines.append(f"  {a.linkedid} -> {a.reviewer}" + ("  (calibration)" if a.calibration else ""))
    return lines


async def _sample(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.qa.store import QaStore
    from hotline.recording.catalog import Catalog

    cfg = settings.qa
    defs = await asyncio.to_thread(load_definitions, args.plans or cfg.plans_file)
    defs.plan(args.plan)  # unknown plan: fail before touching the database
    day = dt.date.fromisoformat(args.date)
    seed = args.seed if args.seed is not None else new_seed()
    cat = settings.recording.catalog
    async with Catalog(cat.url, timeout_s=cat.timeout_s) as catalog:
        await catalog.upgrade()
        store = QaStore(catalog.engine, timeout_s=cat.timeout_s)
        drawn = await sample_day(store, defs, args.plan, day, seed=seed, by=args.by, now=time.time(),
                                 save=not args.dry_run)
    if args.json:
        out = drawn.sample.to_dict() | {"sample_id": drawn.sample_id, "assignments": [
            {"linkedid": a.linkedid, "reviewer": a.reviewer, "calibration": a.calibration} for a in drawn.assignments]}
        print(json.dumps(out, ensure_ascii=False))
    else:
        print("\n".join(format_sample(drawn)))
    return 0


async def _calibration(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.qa.store import QaStore
    from hotline.recording.catalog import Catalog

    cat = settings.recording.catalog
    async with Catalog(cat.url, timeout_s=cat.timeout_s) as catalog:
        rep = await calibration(QaStore(catalog.engine, timeout_s=cat.timeout_s), args.sample)
    kappa = "undefined" if rep.kappa is None else f"{rep.kappa:.3f}"
    mad = "-" if rep.mean_abs_diff is None else f"{rep.mean_abs_diff:.1f}"
    print(f"sample {args.sample}: {rep.calls} calibration calls scored by 2+ reviewers; "
          f"Fleiss' kappa {kappa}; mean absolute score difference {mad} points")
    for lid, d in rep.per_call.items():
        print(f"  {lid}: {d:.1f}")
    return 0


def _cmd(args: argparse.Namespace, settings: Settings) -> int:
    if args.qa_cmd == "check":
        defs = load_definitions(args.plans or settings.qa.plans_file)
        print(f"ok: plans {', '.join(sorted(defs.plans)) or '-'}; forms {', '.join(sorted(defs.forms)) or '-'}")
        return 0
    if args.qa_cmd == "sample":
        return asyncio.run(_sample(args, settings))
    return asyncio.run(_calibration(args, settings))


def add_parser(sub: Any) -> None:
    """Add ``qa`` to the ``hotline`` subcommands (called once by ``hotline/app/cli.py``)."""
    qa = sub.add_parser("qa", help="QA: draw samples, check plans, calibration agreement")
    qa_sub = qa.add_subparsers(dest="qa_cmd", required=True)
    s = qa_sub.add_parser("sample", help="draw (and store) a day's sample and print why each call is in it")
    s.add_argument("--plan", required=True, help="plan name in the plans file")
    s.add_argument("--date", required=True, help="local day to sample, YYYY-MM-DD (plan time zone)")
    s.add_argument("--seed", type=int, help="seed (default: a fresh random one, printed and stored)")
    s.add_argument("--plans", help="plans file (default qa.plans_file)")
    s.add_argument("--dry-run", action="store_true", help="print only: store nothing, assign nothing")
    s.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    s.add_argument("--by", default=os.environ.get("USER", "cli"), help="who drew it (stored for audit)")
    c = qa_sub.add_parser("check", help="validate the plans and forms file")
    c.add_argument("--plans", help="plans file (default qa.plans_file)")
    k = qa_sub.add_parser("calibration", help="agreement of reviewers on a sample's calibration calls")
    k.add_argument("--sample", type=int, required=True)
    qa.set_defaults(func=_cmd)
