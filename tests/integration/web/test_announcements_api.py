"""Hot-topic announcements over HTTP: added, listed and removed in Redis, for the next call."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp

from hotline.ivr.announcement_store import AnnouncementsApi, AnnouncementStore
from hotline.ivr.announcements import active_for
from hotline.kernel.redisutil import connect
from hotline.web.component import WebComponent
from tests.integration.web.conftest import basic, web_config
from tests.support.servers import ServerProcess


async def test_given_a_supervisor_when_announcements_are_added_listed_and_removed_then_redis_follows(
        tmp_path: Path, web_users: Path, redis_server: ServerProcess) -> None:
    redis = connect(redis_server.url)
    store = AnnouncementStore(redis, "test:ivr:announcements")
    comp = WebComponent(web_config(tmp_path, web_users), announcements=AnnouncementsApi(store), port=0)
    await comp.start()
    base = f"http://127.0.0.1:{comp.port}"
    now = time.time()
    body = {"id": "housing-fund-july", "prompt": "hotline/{lang}/hot/housing_fund_july",
            "starts_at": now - 60, "ends_at": now + 3600, "menus": ["foshan-12345"]}
    try:
        async with aiohttp.ClientSession(headers=basic("sup")) as http:
            async with http.post(f"{base}/api/announcements", json=body) as r:
                assert r.status == 201, await r.text()
            stored = await store.all()
            assert [a.id for a in active_for(stored, "foshan-12345", now)] == ["housing-fund-july"]
            async with http.get(f"{base}/api/announcements") as r:
                assert [a["id"] for a in (await r.json())["announcements"]] == ["housing-fund-july"]
            async with http.post(f"{base}/api/announcements", json={**body, "ends_at": now - 3600}) as r:
                assert r.status == 400, await r.text()  # ends before it starts: refused, nothing lost
            assert [a.ends_at for a in await store.all()] == [body["ends_at"]]
            async with http.delete(f"{base}/api/announcements/housing-fund-july") as r:
                assert r.status == 204
            async with http.delete(f"{base}/api/announcements/housing-fund-july") as r:
                assert r.status == 404
            assert await store.all() == []
        async with aiohttp.ClientSession(headers=basic("ag")) as http:
            async with http.post(f"{base}/api/announcements", json=body) as r:
                assert r.status == 403
    finally:
        await comp.stop()
        await redis.aclose()
