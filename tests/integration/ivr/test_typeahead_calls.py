"""Type-ahead on the real lab: callers who press their keys early, and callers who press garbage.

Keys pressed during the non-interruptible welcome (``STREAM FILE`` with no escape digits) or between
two AGI commands are dropped by Asterisk; hotline keeps them from AMI ``DTMFEnd`` and the next menus
take them without playing their (15 s, 24 s) prompts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from hotline_lab.rtpcap import schedule
from hotline_lab.sipp import start_dtmf_caller
from tests.integration.ivr.conftest import IvrLab, caller_number
from tests.support.wait import until

EARLY_MS = 1000  # first key one second after the answer: the language prompt has barely started


def agi_commands(lab: IvrLab, uid: str) -> list[str]:
    return [str(m.get("Command")) for m in lab.raw if m.get("Event") == "AGIExecStart" and m.get("Uniqueid") == uid]


def received_keys(lab: IvrLab, uid: str) -> list[str]:
    return [str(m.get("Digit")) for m in lab.events("DTMFEnd", uid) if m.get("Direction") == "Received"]


@pytest.mark.parametrize(
    ("keys", "tail", "queue", "language"),
    [
        ("213", ("consultation", "consult_housing_fund"), "housing_fund", "yue"),
        ("30", ("operator",), "general", "en"),
    ],
    ids=["cantonese-consultation-housing-fund", "english-operator"],
)
async def test_given_caller_presses_all_keys_in_first_two_seconds_when_welcome_drops_them_then_still_reaches_queue(
    ivr_lab: IvrLab, tmp_path: Path, keys: str, tail: tuple[str, ...], queue: str, language: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caller = caller_number()
    digits = schedule(keys, EARLY_MS, 400)
    run = await start_dtmf_caller(tmp_path, caller, digits, stay_ms=EARLY_MS + 25000)
    try:
        uid = await until(lambda: ivr_lab.uniqueid_of(caller), timeout=15, what=f"AsyncAGIStart of {caller}")
        rec = await ivr_lab.ivr.wait_finished(uid, timeout=45)
    finally:
        await run.stop()

    assert rec.outcome == "queued", rec
    assert rec.path == ("language", "opening_hours", "welcome", "hot_topics", "main", *tail), rec
    request = next(r for r in ivr_lab.handed if r.uniqueid == uid)
    assert (request.queue, request.language, request.ivr_path) == (queue, language, rec.path)
    # Asterisk saw every key once; the first normally goes to the language GET DATA (on a slow start,
    # before it runs, to the buffer too), the others to the buffer
    assert received_keys(ivr_lab, uid) == list(keys)
    assert len(keys) - 1 <= rec.keys_buffered <= len(keys) and rec.keys_dropped == 0
    # the menus took the buffered keys without playing their prompts
    played = agi_commands(ivr_lab, uid)
    assert not [c for c in played if "main_menu" in c or "consultation_menu" in c], played
    assert ivr_lab.ivr.agi_errors == {}
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("hotline")]
    assert noisy == []


async def test_given_caller_presses_forty_garbage_keys_then_buffer_stays_bounded_and_call_ends_at_operator(
    ivr_lab: IvrLab, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    cap = 8
    ivr_lab.ivr.config = ivr_lab.ivr.config.model_copy(update={"typeahead_max_keys": cap})
    caller = caller_number()
    garbage = "ABD*#789" * 5  # no language choice (1-3), no main-menu option (0-6) among them
    run = await start_dtmf_caller(tmp_path, caller, schedule(garbage, EARLY_MS, 250, duration_ms=120),
                                  stay_ms=EARLY_MS + 30000)
    biggest = 0

    async def watch() -> None:
        nonlocal biggest
        while True:
            for s in list(ivr_lab.ivr.sessions.values()):
                biggest = max(biggest, len(s.keys))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    try:
        uid = await until(lambda: ivr_lab.uniqueid_of(caller), timeout=15, what=f"AsyncAGIStart of {caller}")
        rec = await ivr_lab.ivr.wait_finished(uid, timeout=60)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await run.stop()

    # retries exhausted at the language node (Mandarin) and at the main menu: the fallback queue
    assert rec.outcome == "queued" and rec.node == "operator", rec
    assert rec.path[:5] == ("language", "opening_hours", "welcome", "hot_topics", "main"), rec
    assert 0 < biggest <= cap
    assert rec.keys_dropped > 0  # keys over the cap during the welcome
    assert len(received_keys(ivr_lab, uid)) >= len(garbage) // 2
    assert ivr_lab.ami.stats.handler_errors == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
