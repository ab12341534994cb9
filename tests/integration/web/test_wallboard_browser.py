"""A supervisor watches the wallboard in a real headless Chromium while a real call waits and an agent
pauses: the pushed numbers change on screen (bounded waits, no timing assertions)."""

from __future__ import annotations

import random
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright

from hotline.queues.handover import QueueRequest
from hotline.telephony.calls import CallEvent, CallStarted
from hotline.telephony.tracker import CallTracker
from hotline_lab.sipp import start_sipp
from tests.integration.web.conftest import PASSWORD, WebLab, basic
from tests.support.wait import until

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert shutil.which(CHROMIUM), "chromium is not installed: run `hotline lab up` (host package) first"
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        await b.close()


async def _open_wallboard(browser: Browser, base: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{base}/login?next=/wallboard")
    await page.fill("input[name=username]", "sup")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/wallboard", timeout=10_000)
    await page.wait_for_selector("#conn.on", timeout=10_000)
    return page


async def _text(page: Page, selector: str) -> str:
    return (await page.text_content(selector) or "").strip()


async def test_given_supervisor_on_wallboard_when_real_call_waits_then_waiting_goes_to_1_and_back_to_0(
        web_lab: WebLab, tracked: CallTracker, browser: Browser, tmp_path: Path) -> None:
    number = f"1390127{random.randrange(10_000):04d}"
    handed: list[str] = []

    async def hand_over(event: CallEvent) -> None:  # plays the IVR: this caller asks for commerce
        if isinstance(event, CallStarted) and event.caller_num == number:
            handed.append(event.linkedid)
            await web_lab.floor.hand_over(QueueRequest(event.linkedid, event.uniqueid, "", number, "commerce",
                                                       at=event.at))

    tracked.subscribe(hand_over)
    page = await _open_wallboard(browser, web_lab.base)
    assert await _text(page, "#total-waiting") == "0"
    assert "SL2: answered within 20 s" in await _text(page, "#sl-label")

    caller = await start_sipp("caller", tmp_path, keys={"caller": number, "dial": "12345"}, duration_ms=4000)
    try:
        await until(lambda: _text_is(page, '[data-queue="commerce"] .waiting', "1"), timeout=15,
                    what="the commerce row to show a waiting caller")
        assert await _text(page, "#total-waiting") == "1"
        assert len(handed) == 1
        await until(lambda: _text_is(page, "#total-waiting", "0"), timeout=20, what="waiting back to 0")
        assert await _text(page, "#total-abandoned") == "1"
    finally:
        await caller.stop()


async def _text_is(page: Page, selector: str, want: str) -> bool:
    return await _text(page, selector) == want


async def test_given_supervisor_on_wallboard_when_agent_paused_via_api_then_tile_shows_paused_with_reason(
        web_lab: WebLab, browser: Browser) -> None:
    page = await _open_wallboard(browser, web_lab.base)
    async with aiohttp.ClientSession(headers=basic("sup")) as http:
        for body in ({"action": "login"}, {"action": "pause", "reason": "培训 training"}):
            async with http.post(f"{web_lab.base}/api/agents/1273/state", json=body) as r:
                assert r.status == 200, await r.text()
    await until(lambda: _text_is(page, "#agent-1273 .reason", "培训 training"), timeout=10,
                what="agent 1273's tile to show the pause reason")
    assert await page.get_attribute("#agent-1273", "data-status") == "not_ready"
    assert await _text(page, "#agent-1273 .state") == "not ready"


async def test_given_a_call_lost_in_the_ivr_when_supervisor_watches_then_calls_panel_shows_it_by_node(
        web_lab: WebLab, browser: Browser) -> None:
    import time

    from hotline.queues.events import IvrEnded, IvrEntered

    page = await _open_wallboard(browser, web_lab.base)
    m, now = web_lab.floor.metrics, time.time()
    before = m.calls(m.local_day(now)).abandoned_ivr
    m.apply(IvrEntered("ivr-lost-1", "ivr-lost-1", now))
    m.apply(IvrEnded("ivr-lost-1", "ivr-lost-1", "abandoned", "welcome", ("language", "welcome"),
                     "caller_hung_up", now + 1))
    web_lab.floor._changed()  # the floor's push, as after any event it applies
    await until(lambda: _text_is(page, "#calls-abandoned-ivr", str(before + 1)), timeout=10,
                what="the calls panel to count the IVR abandon")
    assert await page.is_visible('#calls-ivr-nodes li[data-key="welcome"]')
