"""Supervisor forms over HTTP with hostile values: 400 and no AMI bytes, or exactly the safe Originate.

In-process web app (no lab service needed): the AMI client is a capture of the bytes the real client
would write (``encode_action``), the call model holds one live call with an agent leg on seat 1275,
and the reminders/callbacks provider is :class:`CallbacksApi` on an in-memory store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from hotline.callbacks.api import CallbacksApi
from hotline.callbacks.settings import CallbacksSettings
from hotline.telephony.calls import Call, CallModel, Leg
from hotline.web.component import WebComponent
from tests.integration.web.conftest import basic, web_config
from tests.unit.security.fakes import CaptureAmi, MemoryStore

HOSTILE = ["hello,HL_ATTEMPT=x", "../../var/spool/asterisk/monitor/x", "${SHELL(rm -rf /)}", "$[1+1]",
           "hello\r\nAction: Originate", "hello\x00", "hello\uff0cworld", "a" * 5000, "/etc/passwd"]


@pytest.fixture
async def web(tmp_path: Path, web_users: Path) -> AsyncIterator[tuple[str, WebComponent, CaptureAmi]]:
    comp = WebComponent(web_config(tmp_path, web_users), port=0)
    ami = CaptureAmi()
    model = CallModel()
    call = Call("L1", 1.0)
    call.legs = {"u1": Leg("u1", "L1", "PJSIP/trunk-00000001", 1.0), "u2": Leg("u2", "L1", "PJSIP/1275-0000002a", 2.0)}
    model.calls["L1"] = call
    api = CallbacksApi(MemoryStore(), CallbacksSettings())  # type: ignore[arg-type]
    comp.deps.ami, comp.deps.calls = ami, model  # type: ignore[assignment]
    comp.deps.reminders = comp.deps.callbacks = api
    await comp.start()
    try:
        yield f"http://127.0.0.1:{comp.port}", comp, ami
    finally:
        await comp.stop()


async def test_given_hostile_reminder_prompts_over_http_then_each_is_400_and_nothing_is_stored_or_sent(web) -> None:
    base, comp, ami = web
    async with aiohttp.ClientSession(headers=basic("sup")) as http:
        for prompt in HOSTILE:
            async with http.post(f"{base}/api/reminders", json={"number": "13800138000", "prompt": prompt,
                                                                 "due_at": 1.0}) as r:
                assert r.status == 400, (prompt, await r.text())
                assert (await r.json())["error_id"] == "invalid-request"
        for queue in ["commerce,HL_X=1", "${SHELL(id)}", "a/../b"]:
            async with http.post(f"{base}/api/callbacks", json={"number": "13800138000", "queue": queue}) as r:
                assert r.status == 400, (queue, await r.text())
    assert comp.deps.reminders.store.jobs == {} and comp.deps.callbacks.store.requests == {}  # type: ignore[union-attr]
    assert ami.sent == []


async def test_given_spy_forms_with_hostile_values_then_400_and_a_valid_one_sends_exactly_the_chanspy_bytes(
        web) -> None:
    base, _comp, ami = web
    async with aiohttp.ClientSession(headers=basic("sup")) as http:
        for body in [{"mode": "barge,x"}, {"mode": "listen", "agent_id": "1275,x"},
                     {"mode": "listen", "agent_id": "${SHELL(id)}"}, {"mode": "listen\r\nAction: Originate"}]:
            async with http.post(f"{base}/api/calls/L1/spy", json=body) as r:
                assert r.status == 400, (body, await r.text())
        assert ami.sent == []
        async with http.post(f"{base}/api/calls/L1/spy", json={"mode": "whisper", "agent_id": "1275"}) as r:
            assert r.status == 200, await r.text()
    assert ami.sent == [
        b"Action: Originate\r\nActionID: t.1.Originate\r\nChannel: PJSIP/1271\r\nApplication: ChanSpy\r\n"
        b"Data: PJSIP/1275-0000002a,qw\r\nCallerID: \"hotline supervisor\" <1271>\r\nTimeout: 5000\r\n"
        b"Async: true\r\n\r\n"
    ]
