"""``hotline qa sample`` as an operator runs it: a real process, a real catalog file."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hotline.qa.store import QaStore
from hotline.recording.catalog import Catalog
from tests.integration.qa.test_store import DAY, fill

HOTLINE = [sys.executable, "-m", "hotline.app.cli"]


async def hotline(*args: str, config: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*HOTLINE, "--config", str(config), *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_given_a_catalog_when_sampling_from_the_cli_then_each_call_is_printed_with_its_reasons(
        tmp_path: Path, catalog: Catalog, store: QaStore) -> None:
    await fill(catalog, store)
    config = tmp_path / "hotline.yaml"
    config.write_text(f"recording:\n  catalog:\n    url: {catalog.url}\n")
    code, out, err = await hotline("qa", "sample", "--plan", "daily", "--date", DAY.isoformat(), "--seed", "7",
                                   "--by", "qa.lead", config=config)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "plan daily  day 2026-11-26  seed 7  stored as sample 1"
    assert lines[1].startswith("population 60  eligible ")
    call_lines = [ln for ln in lines if ln.startswith("  2026-11-26.") and " -> " not in ln]
    assert call_lines and all("agent " in ln and ": " in ln for ln in call_lines)
    assert any("stratified: 5% stratified by queue" in ln for ln in call_lines)
    assert any("long_wait: waited 200 s > 120 s" in ln for ln in call_lines)
    assert "(calibration)" in out
    stored = await store.sample_row("daily", DAY.isoformat())
    assert stored is not None and stored["seed"] == 7 and stored["created_by"] == "qa.lead"

    code, out, err = await hotline("qa", "sample", "--plan", "daily", "--date", DAY.isoformat(), config=config)
    assert code == 2 and "already sampled for 2026-11-26" in err and "Traceback" not in err
    code, out, err = await hotline("qa", "sample", "--plan", "nope", "--date", DAY.isoformat(), config=config)
    assert code == 2 and "no QA plan or form named 'nope' (known: daily)" in err


async def test_given_a_bad_plans_file_when_checked_then_every_problem_is_printed(tmp_path: Path) -> None:
    plans = tmp_path / "qa.yaml"
    plans.write_text("plans:\n  a: {random: {percent: 500}, colour: red}\nforms: {}\n")
    config = tmp_path / "hotline.yaml"
    config.write_text("{}\n")
    code, _, err = await hotline("qa", "check", "--plans", str(plans), config=config)
    assert code == 2
    assert f"{plans}: plans.a.random.percent" in err and f"{plans}: plans.a.colour" in err
