"""Roles, sessions, CSRF and the agent API against the running app (in-process, real HTTP)."""

from __future__ import annotations

import re

import aiohttp

from tests.integration.web.conftest import PASSWORD, WebLab, basic


def _browser() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # cookies on 127.0.0.1


async def _login(http: aiohttp.ClientSession, base: str, user: str) -> str:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name=csrf_token value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
    async with http.post(f"{base}/login", data={"username": user, "password": PASSWORD, "csrf_token": token,
                                                "next": "/"}) as r:
        assert r.status == 200 and str(r.url).endswith("/")
    async with http.get(f"{base}/api/me") as r:
        return str((await r.json())["csrf_token"])


async def test_given_no_login_when_any_route_but_healthz_then_refused(web_alone: WebLab) -> None:
    async with _browser() as http:
        async with http.get(f"{web_alone.base}/healthz") as r:
            assert r.status == 200
        for path in ("/api/agents", "/api/openapi.json", "/metrics", "/ws/wallboard"):
            async with http.get(f"{web_alone.base}{path}", allow_redirects=False) as r:
                assert r.status == 401, path
        for path in ("/wallboard", "/supervisor", "/static/wallboard.js", "/"):
            async with http.get(f"{web_alone.base}{path}", allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"].startswith("/login"), path


async def test_given_agent_role_when_supervisor_pages_then_403(web_alone: WebLab) -> None:
    async with _browser() as http:
        await _login(http, web_alone.base, "ag")
        for path in ("/wallboard", "/supervisor", "/api/audit", "/metrics", "/api/wallboard"):
            async with http.get(f"{web_alone.base}{path}", allow_redirects=False) as r:
                assert r.status == 403, path
        async with http.put(f"{web_alone.base}/api/agents/1272/skills", json={"skills": {"x": 1}},
                            headers=basic("ag")) as r:
            assert r.status == 403


async def test_given_session_when_form_posted_without_csrf_token_then_rejected(web_alone: WebLab) -> None:
    async with _browser() as http:
        token = await _login(http, web_alone.base, "sup")
        url = f"{web_alone.base}/supervisor/agents/login"
        async with http.post(url, data={"agent_id": "1273"}, allow_redirects=False) as r:
            assert r.status == 403 and (await r.json())["error_id"] == "csrf-rejected"
        async with http.post(url, data={"agent_id": "1273", "csrf_token": "forged"}, allow_redirects=False) as r:
            assert r.status == 403
        async with http.post(url, data={"agent_id": "1273", "csrf_token": token}, allow_redirects=False) as r:
            assert r.status == 303
    assert next(a for a in web_alone.floor.agents() if a.agent_id == "1273").status.value == "not_ready"


async def test_given_login_form_without_csrf_then_rejected_and_wrong_password_fails(web_alone: WebLab) -> None:
    async with _browser() as http:
        async with http.post(f"{web_alone.base}/login", data={"username": "sup", "password": PASSWORD}) as r:
            assert r.status == 403
        async with http.get(f"{web_alone.base}/login") as r:
            token = re.search(r'name=csrf_token value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
        async with http.post(f"{web_alone.base}/login", data={"username": "sup", "password": "nope",
                                                              "csrf_token": token}) as r:
            assert "failed=1" in str(r.url)


async def test_given_expired_session_when_request_then_logged_out(web_alone: WebLab) -> None:
    async with _browser() as http:
        await _login(http, web_alone.base, "sup")
        auth = web_alone.component.deps.auth
        real = auth.clock
        auth.clock = lambda: real() + auth.session_max_age_s + 1
        try:
            async with http.get(f"{web_alone.base}/api/me") as r:
                assert r.status == 401
        finally:
            auth.clock = real


async def test_given_agent_paused_via_api_then_listed_paused_with_reason_and_audited(web_alone: WebLab) -> None:
    base = web_alone.base
    async with aiohttp.ClientSession(headers=basic("ag")) as http:
        async with http.post(f"{base}/api/agents/1272/state", json={"action": "login"}) as r:
            assert r.status == 200
        async with http.post(f"{base}/api/agents/1272/state", json={"action": "pause", "reason": "洗手间"}) as r:
            assert r.status == 200
        async with http.post(f"{base}/api/agents/1274/state", json={"action": "login"}) as r:
            assert r.status == 403  # an agent acts only on their own state
    async with aiohttp.ClientSession(headers=basic("sup")) as http:
        async with http.get(f"{base}/api/agents/1272") as r:
            body = await r.json()
        assert (body["status"], body["reason"]) == ("not_ready", "洗手间")
        async with http.get(f"{base}/api/audit") as r:
            entries = (await r.json())["entries"]
        assert [(e["user"], e["action"], e["target"], e["outcome"]) for e in entries[:3]] == [
            ("ag", "login", "agent:1274", "forbidden"), ("ag", "pause", "agent:1272", "ok"),
            ("ag", "login", "agent:1272", "ok")]
        async with http.get(f"{base}/metrics") as r:
            text = await r.text()
        assert 'hotline_agents{status="not_ready"} 1.0' in text
        assert "hotline_ami_connected 0.0" in text
        async with http.get(f"{base}/api/reminders") as r:
            assert r.status == 503 and (await r.json())["error_id"] == "not-configured"
