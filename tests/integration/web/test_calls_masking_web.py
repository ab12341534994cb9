"""``/api/calls`` masks citizens' numbers for QA roles and shows supervisors what they saw before.

In-process web app (no lab service needed): the call model holds one live call whose trunk leg
carries the citizen's number.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hotline.telephony.calls import Call, CallModel, Leg
from hotline.web.component import WebComponent
from tests.integration.web.conftest import basic, web_config


@pytest.fixture
async def base(tmp_path: Path, web_users: Path) -> AsyncIterator[str]:
    comp = WebComponent(web_config(tmp_path, web_users), port=0)
    model = CallModel()
    call = Call("L9", 1.0)
    call.legs = {"u1": Leg("u1", "L9", "PJSIP/trunk-00000009", 1.0, caller_num="+86 138 0013 8000"),
                 "u2": Leg("u2", "L9", "PJSIP/1275-0000002b", 2.0, caller_num="1275")}
    model.calls["L9"] = call
    comp.deps.calls = model
    await comp.start()
    try:
        yield f"http://127.0.0.1:{comp.port}"
    finally:
        await comp.stop()


@pytest.mark.parametrize(("user", "shown"), [("qa", "+86 138 **** 8000"), ("sup", "+86 138 0013 8000"),
                                             ("admin", "+86 138 0013 8000")])
async def test_given_a_live_call_when_listed_by_role_then_qa_sees_the_number_masked(
        base: str, user: str, shown: str) -> None:
    async with aiohttp.ClientSession(headers=basic(user)) as http:
        for url in [f"{base}/api/calls", f"{base}/api/calls/L9"]:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as r:
                assert r.status == 200, await r.text()
                body = await r.json()
            call = body["calls"][0] if "calls" in body else body
            nums = {leg["uniqueid"]: leg["caller_num"] for leg in call["legs"]}
            assert nums == {"u1": shown, "u2": "1275"}
