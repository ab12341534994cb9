"""BackgroundTask (start/stop of every component's loop) and periodically (the sweep loop)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hotline.kernel.background import BackgroundTask, periodically


async def test_given_a_loop_when_started_twice_then_one_task_and_stop_ends_it() -> None:
    bg = BackgroundTask("t")
    runs = 0
    ran = asyncio.Event()

    async def run() -> None:
        nonlocal runs
        runs += 1
        ran.set()
        await asyncio.Event().wait()

    assert bg.start(run) is True
    assert bg.start(run) is False
    await asyncio.wait_for(ran.wait(), 1)
    await bg.stop()
    assert (runs, bg.started, bg.stopping.is_set()) == (1, False, True)
    await bg.stop()  # idempotent
    assert bg.start(run) is True and not bg.stopping.is_set()  # restartable
    await bg.stop()


async def test_given_a_grace_period_when_stopped_then_the_loop_ends_on_its_own() -> None:
    bg = BackgroundTask("t")
    finished = False

    async def run() -> None:
        nonlocal finished
        await bg.stopping.wait()
        await asyncio.sleep(0)  # some clean-up work after seeing `stopping`
        finished = True

    bg.start(run)
    await asyncio.sleep(0)
    await asyncio.wait_for(bg.stop(grace_s=1.0), 2)
    assert finished


async def test_given_a_task_that_failed_when_stopped_then_logged_once_and_not_raised(
        caplog: pytest.LogCaptureFixture) -> None:
    bg = BackgroundTask("broken")

    async def run() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, "hotline.kernel.background"):
        bg.start(run)
        for _ in range(3):
            await asyncio.sleep(0)
        await bg.stop()
    assert [r.getMessage() for r in caplog.records] == ["background task broken ended with an error"]


async def test_given_ticks_and_failures_when_periodic_then_it_carries_on_until_stopped(
        caplog: pytest.LogCaptureFixture) -> None:
    stopping = asyncio.Event()
    calls: list[int] = []

    async def tick() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise ConnectionError("redis down")
        if len(calls) == 2:
            raise KeyError("bug")
        if len(calls) == 3:
            stopping.set()

    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(periodically(tick, 0.001, stopping, what="sweeper", expected=(ConnectionError,)), 2)
    assert calls == [0, 1, 2]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "sweeper: redis down"), ("ERROR", "sweeper failed; next try in 0.0 s")]


async def test_given_delay_first_when_stopped_during_the_wait_then_no_tick() -> None:
    stopping = asyncio.Event()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        ticks += 1

    loop = asyncio.create_task(periodically(tick, 60.0, stopping, what="w", delay_first=True))
    await asyncio.sleep(0)
    stopping.set()
    await asyncio.wait_for(loop, 1)
    assert ticks == 0
