"""QA review pages in a real headless Chromium: login, assignment, audio (HTTP Range), word seek, score, access rules.

The web app is the project's own (:func:`hotline.web.app.make_app`, its login, sessions, CSRF and role
guard) with the QA sub-app mounted at ``/qa``; the catalog is SQLite at Alembic head; the
recording is a real speech WAV and its transcript a real Vosk decode (see ``conftest.py``).
Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright's Python package.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from playwright.async_api import Page, async_playwright

from hotline.qa.assign import NewAssignment
from hotline.qa.models import CallRecord, Reason, Sample, SampledCall
from hotline.qa.plans import QaDefinitions
from hotline.qa.privacy import sign_media
from hotline.qa.store import QaStore
from hotline.recording.catalog import Catalog
from hotline.web.app import UsersFile, make_app
from hotline.web.audit import AuditLog
from hotline.web.auth import Authenticator
from hotline.web.config import FloorConfig, WebConfig
from hotline.web.deps import WebDeps
from hotline.web.floor import StandaloneFloor
from hotline.web.qa_pages import QaDeps, qa_app
from hotline.web.users import add_user
from tests.integration.qa.conftest import RealCall, add_call
from tests.support.wait import free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "review-pass-123"
CALLER = "13800138000"


@dataclass
class Site:
    base: str
    store: QaStore
    audit: AuditLog
    key: bytes
    media: list[dict[str, str | int | None]] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def audited(self, action: str) -> list[dict[str, object]]:
        self.audit.flush()
        return [json.loads(line) for line in self.audit.path.read_text().splitlines()  # type: ignore[union-attr]
                if json.loads(line)["action"] == action]


@pytest.fixture
async def site(tmp_path: Path, catalog: Catalog, store: QaStore, defs: QaDefinitions,
               real_call: RealCall) -> AsyncIterator[Site]:
    root = tmp_path / "recordings"
    shutil.copytree(real_call.root, root)
    (tmp_path / "outside.wav").write_bytes((root / real_call.rel_path).read_bytes())
    os.symlink(tmp_path / "outside.wav", root / "2026/11/26/link-out.wav")
    day_start = 1795622400.0  # 2026-11-26 00:00 Asia/Shanghai
    calls = [
        CallRecord("qa-call-1", day_start + 36000, 22.0, agent="1001", queue="housing_fund", skill="housing_fund",
                   district="禅城", call_type="咨询", caller=CALLER, wait_s=135, satisfaction=2,
                   recording=real_call.rel_path, ivr_path=("language", "main", "housing_fund"), work_order="WO-7"),
        CallRecord("qa-call-2", day_start + 36100, 22.0, agent="1002", queue="commerce", caller="13900000002",
                   recording=real_call.rel_path),
        CallRecord("qa-call-3", day_start + 36200, 22.0, agent="1003", caller="13900000003",
                   recording="../outside.wav"),
        CallRecord("qa-call-4", day_start + 36300, 22.0, agent="1004", caller="13900000004",
                   recording="2026/11/26/link-out.wav"),
    ]
    for c in calls:
        await add_call(catalog, store, c, real_call.transcript if c.linkedid == "qa-call-1" else None)
    sample = Sample("daily", {}, "2026-11-26", 1, 4, 4, {}, {}, tuple(
        SampledCall(c.linkedid, c.agent, (Reason("long_wait", "waited 135 s > 120 s"),)) for c in calls))
    await store.save_sample(sample, [NewAssignment("qa-call-1", "qa.wang"), NewAssignment("qa-call-2", "qa.li"),
                                     NewAssignment("qa-call-3", "qa.wang"), NewAssignment("qa-call-4", "qa.wang")],
                            form="standard", created_by="test", now=1.0)
    ids = {a.linkedid: a.id for a in await store.assignments()}

    users_file = tmp_path / "users.yaml"
    for name, role in [("qa.wang", "qa-reviewer"), ("qa.li", "qa-reviewer"), ("qa.lead", "qa-lead")]:
        add_user(users_file, name, role, PASSWORD)
    cfg = WebConfig(users_file=users_file, secret_file=tmp_path / "session.key", audit_log=tmp_path / "audit.jsonl",
                    floor=FloorConfig(events_log=tmp_path / "floor.jsonl"))
    users = UsersFile(users_file)
    audit = AuditLog(cfg.audit_log)
    key = os.urandom(32)
    qa = qa_app(QaDeps(store=store, defs=defs, storage_root=root, media_key=key, audit=audit))
    deps = WebDeps(config=cfg, floor=StandaloneFloor(cfg.floor, persist=False), audit=audit,
                   auth=Authenticator(users, cfg.session_max_age_s), subapps=(("/qa", qa),))
    app = make_app(deps, os.urandom(32), users=users)
    s = Site("", store, audit, key, ids=ids)

    async def record_media(request: web.Request, resp: web.StreamResponse) -> None:
        """What the server answered, as sent (FileResponse picks 200/206 while preparing)."""
        if request.path.startswith("/qa/media/"):
            s.media.append({"range": request.headers.get("Range"), "status": resp.status,
                            "content_range": resp.headers.get("Content-Range")})

    app.on_response_prepare.append(record_media)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    s.base = f"http://127.0.0.1:{port}"
    try:
        yield s
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        try:
            yield b
        finally:
            await b.close()


async def login(browser: object, site: Site, user: str) -> Page:
    page = await browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(20_000)
    await page.goto(f"{site.base}/qa/")
    assert "/login" in page.url
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{site.base}/qa/")
    return page


async def test_given_a_reviewer_when_reviewing_then_audio_plays_by_range_words_seek_and_the_score_locks(
        site: Site, browser: object, real_call: RealCall) -> None:
    page = await login(browser, site, "qa.wang")
    rows = await page.locator("tr[data-assignment]").count()
    assert rows == 3 and "qa-call-2" not in await page.content()   # only their own calls

    await page.click(f"a[href='/qa/assignments/{site.ids['qa-call-1']}']")
    await page.wait_for_selector("#transcript .w")
    html = await page.content()
    assert CALLER not in html and "138****8000" in html             # caller number masked
    assert "2026-11-26 10:00:00 CST" in html                          # local time of the call (Asia/Shanghai)
    assert "housing_fund" in html and "WO-7" in html and "language → main → housing_fund" in html
    assert await page.locator("#transcript .spk.caller").count() >= 1
    assert await page.locator("#transcript .spk.agent").count() >= 1
    assert await page.locator("#transcript .w.kw").count() >= 2       # keyword hits highlighted

    # play: the browser fetches the WAV with Range requests, answered 206 with Content-Range
    await page.evaluate("document.getElementById('player').play()")
    await page.wait_for_function("document.getElementById('player').currentTime > 0.2", timeout=20_000)
    await page.evaluate("document.getElementById('player').pause()")
    size = (real_call.root / real_call.rel_path).stat().st_size
    ranged = [m for m in site.media if m["range"]]
    assert ranged and all(m["status"] == 206 for m in ranged)
    assert any(str(m["content_range"]).startswith("bytes 0-") and str(m["content_range"]).endswith(f"/{size}")
               for m in ranged)
    plays = site.audited("recording.play")
    assert plays and plays[0]["user"] == "qa.wang" and plays[0]["details"]["linkedid"] == "qa-call-1"
    assert plays[0]["details"]["file"] == real_call.rel_path and plays[0]["at"] > 0

    # click a word: the audio seeks to that word's start
    word = page.locator("#transcript .w.kw").first
    start = float(await word.get_attribute("data-start") or "nan")
    hit = next(h for h in real_call.transcript.hits if h.keyword == "교수")
    assert start == pytest.approx(hit.start_s, abs=0.01)
    await word.click()
    await page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {start}) < 0.05", timeout=10_000)

    # score: fatal items fine, greeting (10) missed, work order (25) not applicable
    form = "#score"
    for name in ["listening", "accuracy", "courtesy", "privacy", "conduct"]:
        await page.check(f"{form} input[name=c_{name}][value=yes]")
    await page.check(f"{form} input[name=c_greeting][value=no]")
    await page.check(f"{form} input[name=c_work_order][value=na]")
    await page.fill(f"{form} textarea[name=notes]", "回访号码13800138000已核实")
    await page.click(f"{form} button[type=submit]")
    await page.wait_for_selector("#locked")
    assert "Scored 86.7" in await page.inner_text("#locked")          # 65 of the 75 applicable weight
    stored = await site.store.assignment(site.ids["qa-call-1"])
    assert stored is not None and stored.score == 86.7

    # a second submit (same session, valid CSRF) is refused: the score is locked
    csrf = await page.get_attribute("meta[name=csrf-token]", "content")
    again = await page.request.post(f"{site.base}/qa/assignments/{site.ids['qa-call-1']}/score",
                                    form={"csrf_token": csrf or "", "c_greeting": "yes"})
    assert again.status == 409
    assert (await site.store.assignment(site.ids["qa-call-1"])).score == 86.7  # type: ignore[union-attr]


async def test_given_a_reviewer_when_opening_someone_elses_call_then_403_and_the_attempt_is_audited(
        site: Site, browser: object) -> None:
    page = await login(browser, site, "qa.wang")
    other = site.ids["qa-call-2"]
    resp = await page.goto(f"{site.base}/qa/assignments/{other}")
    assert resp is not None and resp.status == 403
    assert "13900000002" not in await page.content()
    refused = [e for e in site.audited("qa.open") if e["outcome"] == "not-assigned"]
    assert refused == [{**refused[0], "user": "qa.wang", "target": f"assignment:{other}"}]
    # a media link of that assignment, even correctly signed for qa.wang, is refused and audited too
    exp = 4102444800
    url = f"{site.base}/qa/media/{other}/{exp}/{sign_media(site.key, 'qa.wang', other, exp)}.wav"
    assert (await page.request.get(url)).status == 403
    assert any(e["outcome"] == "not-assigned" for e in site.audited("recording.download"))
    # and qa.li's own link does not work in qa.wang's session (bound to the user)
    li_url = f"{site.base}/qa/media/{other}/{exp}/{sign_media(site.key, 'qa.li', other, exp)}.wav"
    assert (await page.request.get(li_url)).status == 403
    # the CSV export is for leads
    assert (await page.request.get(f"{site.base}/qa/export.csv")).status == 403


async def test_given_traversal_attempts_on_recording_urls_then_no_file_outside_the_root_is_served(
        site: Site, browser: object) -> None:
    page = await login(browser, site, "qa.wang")
    exp = 4102444800

    def signed(aid: int) -> str:
        return f"{site.base}/qa/media/{aid}/{exp}/{sign_media(site.key, 'qa.wang', aid, exp)}.wav"

    ok = await page.request.get(signed(site.ids["qa-call-1"]), headers={"Range": "bytes=0-99"})
    assert ok.status == 206 and ok.headers["content-range"].startswith("bytes 0-99/")
    assert signed(site.ids["qa-call-3"])  # catalog path "../outside.wav"
    for aid in (site.ids["qa-call-3"], site.ids["qa-call-4"]):   # "../outside.wav"; symlink to outside the root
        assert (await page.request.get(signed(aid))).status == 403
    escapes = [e for e in site.audited("recording.download") if e["outcome"] == "path-escape"]
    assert {e["details"]["linkedid"] for e in escapes} == {"qa-call-3", "qa-call-4"}
    # the browser's session cookie, sent verbatim as a header: aiohttp's client (3.14) quotes a cookie value
    # holding "=" (Fernet's base64 padding), so ClientSession(cookies=...) sent a session the server could not
    # decrypt and every request went out anonymous (303 to the login page instead of 403/404)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in await page.context.cookies())
    async with ClientSession(headers={"Cookie": cookie}) as http:
        for raw in ["/qa/media/../../../etc/passwd", "/qa/media/%2e%2e/%2e%2e/etc/passwd",
                    "/qa/media/1/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/qa/media//etc/passwd",
                    f"/qa/media/{site.ids['qa-call-1']}/{exp}/{'0' * 64}.wav",            # forged signature
                    f"/qa/media/{site.ids['qa-call-1']}/1/{sign_media(site.key, 'qa.wang', 1, 1)}.wav"]:  # expired
            async with http.get(site.base + raw, allow_redirects=False) as r:
                body = await r.read()
                assert r.status in (403, 404), raw
                assert b"root:" not in body and b"RIFF" not in body


async def test_given_a_qa_lead_then_scores_export_as_csv_with_numbers_masked(
        site: Site, browser: object, defs: QaDefinitions) -> None:
    from hotline.qa.scoring import compute_score

    form = defs.form("standard")
    await site.store.submit_score(site.ids["qa-call-1"], compute_score(form, {c.id: "yes" for c in form.criteria}),
                                  form="standard", notes="=HYPERLINK(13800138000)", by="qa.wang", now=2.0)
    page = await login(browser, site, "qa.lead")
    assert await page.locator("tr[data-assignment]").count() == 4   # a lead sees every assignment
    resp = await page.request.get(f"{site.base}/qa/export.csv")
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    text = (await resp.body()).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("assignment_id,plan_name,day,linkedid,agent,queue,reviewer")
    assert "qa-call-1" in lines[1] and ",100.0," in lines[1]
    assert "'=HYPERLINK(138****8000)" in lines[1]                      # formula defused, number masked
    assert site.audited("qa.export")[0]["user"] == "qa.lead"
