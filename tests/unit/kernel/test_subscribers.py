"""Typed subscription lists: order, isolation of a failing subscriber, async budgets, one-time connect."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import pytest

from hotline.kernel.subscribers import AlreadyConnected, AsyncSubscribers, Subscribers, connect_once


@dataclass(frozen=True)
class _Answered:
    linkedid: str


def _boom(_item: _Answered) -> None:
    raise RuntimeError("subscriber bug")


def test_given_subscribers_when_published_then_each_is_called_in_subscription_order() -> None:
    calls: list[str] = []
    subs: Subscribers[_Answered] = Subscribers("answered")
    subs.subscribe(lambda e: calls.append(f"first {e.linkedid}"))
    subs.subscribe(lambda e: calls.append(f"second {e.linkedid}"))
    subs.publish(_Answered("L1"))
    assert calls == ["first L1", "second L1"]
    assert len(subs) == 2


def test_given_a_second_subscriber_then_it_does_not_replace_the_first() -> None:
    seen: list[int] = []
    subs: Subscribers[_Answered] = Subscribers("answered")
    subs.subscribe(lambda _e: seen.append(1))
    subs.subscribe(lambda _e: seen.append(2))
    subs.publish(_Answered("L1"))
    assert seen == [1, 2]


def test_given_a_failing_subscriber_when_published_then_the_others_still_run_and_the_linkedid_is_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    subs: Subscribers[_Answered] = Subscribers("answered", lambda e: f"linkedid={e.linkedid}")
    subs.subscribe(lambda e: calls.append("before"))
    subs.subscribe(_boom)
    subs.subscribe(lambda e: calls.append("after"))
    with caplog.at_level(logging.ERROR, logger="hotline.subscribers"):
        subs.publish(_Answered("1765000000.7"))  # never raises
    assert calls == ["before", "after"]
    assert subs.failures == 1
    [record] = caplog.records
    assert "linkedid=1765000000.7" in record.getMessage() and "answered" in record.getMessage()
    assert record.exc_info is not None


async def test_given_async_subscribers_then_awaited_in_order_and_a_slow_or_failing_one_does_not_stop_the_rest(
        caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    async def slow(_e: _Answered) -> None:
        await asyncio.sleep(10)

    async def fine(e: _Answered) -> None:
        calls.append(e.linkedid)

    subs: AsyncSubscribers[_Answered] = AsyncSubscribers("card", 0.05, lambda e: f"event_id={e.linkedid}")
    for fn in (slow, _boom, fine, lambda e: calls.append("sync")):
        subs.subscribe(fn)
    with caplog.at_level(logging.ERROR, logger="hotline.subscribers"):
        await asyncio.wait_for(subs.publish(_Answered("E1")), 2)
    assert calls == ["E1", "sync"]
    assert subs.failures == 2 and len(caplog.records) == 2
    assert list(subs)[2] is fine


def test_given_a_one_time_binding_when_connected_twice_then_it_raises() -> None:
    connect_once(None, "x")
    with pytest.raises(AlreadyConnected, match="x is already connected"):
        connect_once(object(), "x")
