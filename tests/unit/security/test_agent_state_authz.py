"""Who may change an agent's state, and the login form and HTTP Basic under attack, against the real app
built in-process (``make_app`` + aiohttp's test client on loopback; a stand-alone floor with no log file,
an in-memory audit, a fake hasher; no lab service)."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hotline.web.app import make_app
from hotline.web.audit import AuditLog
from hotline.web.auth import Authenticator
from hotline.web.config import FloorConfig, WebConfig
from hotline.web.deps import WebDeps
from hotline.web.floor import StandaloneFloor
from hotline.web.loginguard import LoginThrottle
from hotline.web.users import Role, User

Client = TestClient[Any, Any]

USERS = {u.name: u for u in (
    User("sup", Role.SUPERVISOR, "h:pw", seat="1271"),
    User("admin", Role.ADMIN, "h:pw"),
    User("ag", Role.AGENT, "h:pw", agent_id="1272"),
    User("ag-noseat", Role.AGENT, "h:pw"),
    User("qa", Role.QA_REVIEWER, "h:pw"),
    User("qalead", Role.QA_LEAD, "h:pw"),
)}


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def basic(user: str, password: str = "pw") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(clock: Clock) -> AsyncIterator[Client]:
    config = WebConfig(floor=FloorConfig(first_agent=1271, last_agent=1275))
    auth = Authenticator(lambda: USERS, 3600, verify=lambda h, p: h == f"h:{p}", dummy=lambda: "h:\x00",
                         throttle=LoginThrottle(clock, free=3, base_s=1.0, max_s=60.0))
    deps = WebDeps(config=config, floor=StandaloneFloor(config.floor, persist=False), audit=AuditLog(None), auth=auth)
    async with TestClient(TestServer(make_app(deps, b"k" * 32))) as c:
        yield c


async def _state(c: Client, user: str, agent_id: str, action: str = "login") -> int:
    async with c.post(f"/api/agents/{agent_id}/state", json={"action": action}, headers=basic(user)) as r:
        return r.status


@pytest.mark.parametrize("user", ["qa", "qalead"])
async def test_given_qa_role_when_changing_any_agent_state_then_403(client: Client, user: str) -> None:
    assert await _state(client, user, "1273") == 403
    assert await _state(client, user, "1272", "logout") == 403


async def test_given_agent_when_changing_another_seat_then_403_and_own_seat_ok(client: Client) -> None:
    assert await _state(client, "ag", "1273") == 403
    assert await _state(client, "ag-noseat", "1272") == 403  # an agent login without a seat acts on none
    assert await _state(client, "ag", "1272") == 200
    async with client.post("/api/agents/1272/state", json={"action": "pause", "reason": "break"},
                           headers=basic("ag")) as r:
        assert r.status == 200 and (await r.json())["reason"] == "break"


@pytest.mark.parametrize("user", ["sup", "admin"])
async def test_given_supervisor_or_admin_when_changing_any_agent_then_ok(client: Client, user: str) -> None:
    assert await _state(client, user, "1273") == 200
    assert await _state(client, user, "1273", "logout") == 200


async def test_given_wrong_basic_headers_then_throttled_like_the_login_form(client: Client, clock: Clock) -> None:
    statuses = []
    for i in range(5):
        async with client.get("/api/me", headers=basic("sup", f"guess{i}")) as r:
            statuses.append(r.status)
    assert statuses == [401, 401, 401, 401, 429]
    async with client.get("/api/me", headers=basic("sup")) as r:  # even the right password waits
        assert r.status == 429 and (await r.json())["error_id"] == "too-many-attempts"
    clock.now += 1.0
    async with client.get("/api/me", headers=basic("sup")) as r:
        assert r.status == 200


async def _login(c: Client, password: str, nxt: str) -> str:
    async with c.get("/login") as r:
        token = re.search(r'name=csrf_token value="([^"]+)"', await r.text()).group(1)  # type: ignore[union-attr]
    async with c.post("/login", data={"username": "sup", "password": password, "csrf_token": token, "next": nxt},
                      allow_redirects=False) as r:
        assert r.status == 303
        return r.headers["Location"]


@pytest.mark.parametrize("nxt", ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example",
                                 "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1"])
async def test_given_off_site_next_when_logged_in_then_redirected_home(client: Client, nxt: str) -> None:
    assert await _login(client, "pw", nxt) == "/"


async def test_given_same_site_next_when_logged_in_then_redirected_there(client: Client) -> None:
    assert await _login(client, "pw", "/supervisor?tab=agents") == "/supervisor?tab=agents"


async def test_given_login_form_brute_force_then_wait_shown_and_no_login(client: Client) -> None:
    locations = [await _login(client, f"guess{i}", "/") for i in range(5)]
    assert all(loc.startswith("/login?failed=1") for loc in locations[:4])
    assert locations[4].startswith("/login?wait=1")
    async with client.get(locations[4]) as r:
        assert "too many failed logins" in await r.text()
