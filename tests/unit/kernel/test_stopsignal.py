"""stop_on_signals: the workers' serve() stop on SIGTERM/SIGINT unless given their own event."""

from __future__ import annotations

import asyncio
import os
import signal

from hotline.kernel.stopsignal import stop_on_signals


async def test_given_an_event_when_entered_then_that_event_and_no_handlers() -> None:
    mine = asyncio.Event()
    with stop_on_signals(mine) as stop:
        assert stop is mine
        assert not asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)


async def test_given_no_event_when_sigterm_then_the_event_is_set_and_handlers_removed_after() -> None:
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 2)
    assert not asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
