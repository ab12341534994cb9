"""The call tracker's fan-out, and every in-tree call-event subscriber, given every call-event kind.

Given a subscriber that raises, when a batch of call events is fanned out, then the other subscribers
still get this event and the rest of the batch (a merge used to cost the work orders their
``CallEnded``). And the subscribers that are cheap to build (call counters, the facts book, the
floor, the recorder) accept every kind, a merge sequence included, without raising.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from hotline.app.facts import CallFactsBook
from hotline.app.service import CallCounters
from hotline.telephony import events as ev
from hotline.telephony.calls import CallEnded, CallEvent, CallMerged, CallStarted, LegAdded, LegEnded
from hotline.telephony.tracker import CallTracker

CITIZEN, AGENT, T0 = "100.1", "101.2", 100.0

EVERY_KIND: list[CallEvent] = [
    CallStarted(T0, CITIZEN, CITIZEN, "13800138000"),
    LegAdded(T0, CITIZEN, CITIZEN, "PJSIP/trunk-00000001"),
    CallMerged(T0 + 3, AGENT, CITIZEN, AGENT, True),
    LegEnded(T0 + 9, CITIZEN, CITIZEN, 16, "Normal Clearing"),
    CallEnded(T0 + 9, CITIZEN, "hangup", 9.0),
]

MERGE_LATE = [  # the agent leg re-linked only by its hang-up, after the citizen's call ended
    ev.ChannelCreated(T0, CITIZEN, CITIZEN, "PJSIP/trunk-00000001", caller_num="13800138000", state="Up"),
    ev.ChannelCreated(T0 + 2, AGENT, AGENT, "PJSIP/1281-00000002", state="Up"),
    ev.ChannelHungUp(T0 + 60, CITIZEN, CITIZEN, "PJSIP/trunk-00000001", cause=16),
    ev.ChannelHungUp(T0 + 61, AGENT, CITIZEN, "PJSIP/1281-00000002", cause=16),
]


class StubAmi:
    def subscribe(self, handler: Any) -> None:
        self.handler = handler


async def pump(tracker: CallTracker, *events: ev.DomainEvent) -> None:
    for event in events:
        result = tracker._on_message(None, event)
        if result is not None:
            await result


def test_given_a_raising_subscriber_then_the_others_get_every_event(caplog: pytest.LogCaptureFixture) -> None:
    tracker = CallTracker(StubAmi(), live=False)  # type: ignore[arg-type]
    seen: list[str] = []

    def broken(event: CallEvent) -> None:
        if isinstance(event, CallMerged):
            raise TypeError("not a call event")

    tracker.subscribe(broken)
    tracker.subscribe(lambda e: seen.append(type(e).__name__))
    with caplog.at_level(logging.ERROR, "hotline.calls"):
        asyncio.run(pump(tracker, *MERGE_LATE))
    assert seen[-4:] == ["CallStarted", "CallMerged", "LegEnded", "CallEnded"]
    assert tracker.handler_errors == 1
    assert "linkedid=100.1" in caplog.text and "13800138000" not in caplog.text


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: type(e).__name__)
def test_given_every_kind_then_the_light_subscribers_do_not_raise(event: CallEvent, tmp_path: Path) -> None:
    from hotline.web.config import FloorConfig
    from hotline.web.floor import StandaloneFloor

    tracker = CallTracker(StubAmi(), live=False)  # type: ignore[arg-type]
    counters = CallCounters()
    book = CallFactsBook(tracker)
    floor = StandaloneFloor(FloorConfig(first_agent=1271, last_agent=1272, events_log=tmp_path / "f.jsonl"),
                            persist=False)
    counters(event)
    book._on_call_event(event)
    floor.on_call_event(event)


def test_given_a_late_merge_then_counters_count_one_call() -> None:
    tracker = CallTracker(StubAmi(), live=False)  # type: ignore[arg-type]
    counters = CallCounters()
    tracker.subscribe(counters)
    asyncio.run(pump(tracker, *MERGE_LATE))
    assert counters.started == 2 and tracker.handler_errors == 0  # citizen, agent, re-opened citizen, minus the merge
