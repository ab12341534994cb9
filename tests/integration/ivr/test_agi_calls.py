"""Real calls through the IVR: SIPp callers dial 12345 and press RFC 4733 keys on the lab Asterisk."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hotline.ivr.announcement_store import add_announcement
from hotline.ivr.prompts import wav_duration_s
from hotline_lab.rtpcap import schedule
from hotline_lab.sipp import start_dtmf_caller
from tests.integration.ivr.conftest import IvrLab, caller_number
from tests.support.wait import until

FIRST_KEY_MS = 2500  # the language prompt (GET DATA, barge-in, ~6 s) is playing by then, even on a busy lab


def prompt_ms(sounds: Path, name: str) -> int:
    return int(wav_duration_s(sounds / f"{name}.wav") * 1000)


async def walk(lab: IvrLab, tmp_path: Path, caller: str, keys: str, gaps: list[int], stay_ms: int) -> str:
    """Place the call, return the caller leg's uniqueid."""
    run = await start_dtmf_caller(tmp_path, caller, schedule(keys, FIRST_KEY_MS, gaps), stay_ms=stay_ms)
    try:
        return await until(lambda: lab.uniqueid_of(caller), timeout=15, what=f"AsyncAGIStart of {caller}")
    except Exception:
        await run.stop()
        raise


@pytest.mark.parametrize(
    ("keys", "language", "welcome", "node", "queue", "skills", "follow_up"),
    [
        ("213", "yue", "hotline/yue/welcome", "consult_housing_fund", "housing_fund",
         ("housing_fund", "consultation"), False),
        ("16", "zh", "hotline/zh/welcome", "follow_up", "general", ("follow_up",), True),
    ],
    ids=["cantonese-consultation-housing-fund", "repeat-caller-follow-up"],
)
async def test_given_caller_presses_keys_when_walking_sample_menu_then_handed_over_with_skills_and_language(
    ivr_lab: IvrLab, tmp_path: Path, keys: str, language: str, welcome: str, node: str, queue: str,
    skills: tuple[str, ...], follow_up: bool,
) -> None:
    caller = caller_number()
    if follow_up:
        ivr_lab.work_orders.add("20251009001", caller, "in_progress")
    # a patient caller: after the welcome, inside the main-menu prompt (barge-in; keys typed during
    # the welcome would be buffered instead: test_typeahead_calls.py)
    main_at = prompt_ms(ivr_lab.sounds, welcome) + 4000
    gaps = [main_at, 3000][: len(keys) - 1]
    stay_ms = FIRST_KEY_MS + sum(gaps) + 8000

    uid = await walk(ivr_lab, tmp_path, caller, keys, gaps, stay_ms)
    rec = await ivr_lab.ivr.wait_finished(uid, timeout=60)

    middle = ("consultation",) if node.startswith("consult_") else ()
    assert rec.path == ("language", "opening_hours", "welcome", "hot_topics", "main", *middle, node), rec
    assert rec.outcome == "queued", rec
    request = next(r for r in ivr_lab.handed if r.uniqueid == uid)
    assert (request.queue, request.skills, request.language, request.follow_up) == (queue, skills, language,
                                                                                      follow_up)
    assert request.caller_num == caller and request.ivr_path == rec.path
    # seen on AMI: the keys, the variables for routing, and the caller parked on music on hold
    digits = [m.get("Digit") for m in ivr_lab.events("DTMFEnd", uid) if m.get("Direction") == "Received"]
    assert digits == list(keys)
    await until(lambda: any(m.get("Context") == "hotline-hold" for m in ivr_lab.events("Newexten", uid)),
                timeout=10, what="the caller entering hotline-hold")
    varset = {m.get("Variable"): m.get("Value") for m in ivr_lab.events("VarSet", uid)}
    assert varset.get("HOTLINE_QUEUE") == queue and varset.get("HOTLINE_LANGUAGE") == language


async def test_given_caller_hangs_up_mid_prompt_then_session_closed_where_they_left_without_error_storm(
    ivr_lab: IvrLab, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caller = caller_number()
    # "1" (Mandarin), then hang up 2.5 s into the ~8 s welcome prompt
    uid = await walk(ivr_lab, tmp_path, caller, "1", [], stay_ms=FIRST_KEY_MS + 3000)

    rec = await ivr_lab.ivr.wait_finished(uid, timeout=30)

    assert rec.outcome == "caller_hung_up"
    assert rec.node == "welcome" and rec.path == ("language", "opening_hours", "welcome")
    assert rec.commands <= 4  # GET DATA, SET VARIABLE, STREAM FILE: nothing sent after the hang-up
    assert uid not in ivr_lab.ivr.sessions
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("hotline")]
    assert noisy == []
    assert ivr_lab.ami.stats.handler_errors == 0


async def test_given_announcement_added_in_redis_when_next_call_arrives_then_its_prompt_is_played(
    ivr_lab: IvrLab, tmp_path: Path,
) -> None:
    now = ivr_lab.ivr.clock()
    await add_announcement(ivr_lab.store, {"id": "housing-fund-july", "prompt": "hotline/{lang}/hot/housing_fund_july",
                                  "starts_at": now - 60, "ends_at": now + 3600, "menus": ["foshan-12345"]})
    caller = caller_number()
    # "1" (Mandarin); stay through welcome, the hot-topic intro and the announcement
    sounds = ivr_lab.sounds
    stay = FIRST_KEY_MS + sum(prompt_ms(sounds, f"hotline/zh/{p}") for p in ("welcome", "hot_topics_intro")) + 3000
    uid = await walk(ivr_lab, tmp_path, caller, "1", [], stay_ms=stay)

    def played() -> list[str]:
        return [str(m.get("Command")) for m in ivr_lab.raw
                if m.get("Event") == "AGIExecStart" and m.get("Uniqueid") == uid]

    commands = await until(lambda: [c for c in played() if "hot/housing_fund_july" in c], timeout=30,
                           what="STREAM FILE of the announcement on AMI (AGIExecStart)")
    assert commands[0].startswith("STREAM FILE hotline/zh/hot/housing_fund_july")
    rec = await ivr_lab.ivr.wait_finished(uid, timeout=30)
    assert "hot_topics" in rec.path
