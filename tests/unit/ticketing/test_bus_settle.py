"""An aiomqtt client dropped by the broker leaves no "Future exception was never retrieved" ERROR."""

from __future__ import annotations

import asyncio
import gc
import logging

import aiomqtt
import pytest

from hotline.ticketing.bus import settle_disconnect


async def test_given_dropped_client_then_settled_future_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    client = aiomqtt.Client("127.0.0.1", 1)  # never connected: only its disconnect future matters
    client._disconnected.set_exception(aiomqtt.MqttCodeError(128, "Unexpected disconnection"))
    settle_disconnect(client)
    del client
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
        await asyncio.sleep(0)
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]


async def test_given_live_client_then_settle_is_a_no_op() -> None:
    client = aiomqtt.Client("127.0.0.1", 1)
    settle_disconnect(client)
    assert not client._disconnected.done()
