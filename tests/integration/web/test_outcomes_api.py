"""Call outcomes on the API and the wallboard payload: a call lost in the IVR is counted, with its node."""

from __future__ import annotations

import time

import aiohttp

from hotline.queues.events import CallAnswered, CallQueued, IvrEnded, IvrEntered
from tests.integration.web.conftest import WebLab, basic


async def test_given_an_ivr_abandon_when_api_and_wallboard_read_then_it_is_counted_with_its_node(
        web_alone: WebLab) -> None:
    m, now = web_alone.floor.metrics, time.time()
    for ev in (IvrEntered("o1", "o1", now - 30),
               IvrEnded("o1", "o1", "abandoned", "main", ("language", "main"), "caller_hung_up", now - 20),
               IvrEntered("o2", "o2", now - 30), CallQueued("o2", "o2", "general", now - 25),
               IvrEnded("o2", "o2", "queued", "general", ("language", "main", "general"), "option", now - 25),
               CallAnswered("o2", "1272", now - 20)):
        m.apply(ev)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{web_alone.base}/api/outcomes", headers=basic("sup")) as r:
            assert r.status == 200
            calls = await r.json()
        async with http.get(f"{web_alone.base}/api/wallboard", headers=basic("sup")) as r:
            assert r.status == 200
            board = await r.json()
    assert board["calls"] == calls
    assert (calls["offered_hotline"], calls["reached_ivr"], calls["abandoned_ivr"]) == (2, 2, 1)
    assert calls["abandoned_ivr_by_node"] == [{"key": "main", "calls": 1}]
    assert (calls["offered_queue"], calls["answered"], calls["balanced"]) == (1, 1, True)
    assert board["totals"]["offered"] == 1  # offers to queues
