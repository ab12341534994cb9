"""Every call-model event reaches the work-order logic without an exception, merges included (pure).

Given the call model's event kinds (``telephony.calls.CallEvent``: started, leg added, leg ended,
merged, ended), when each is handed to ``WorkOrders.on_call_event`` (as the tracker does on the
AMI pump), then nothing raises, ``CallMerged`` is published as ``call.merged``, and an answered
call gives exactly one work order keyed by the citizen's linkedid, whether Asterisk re-linked the
agent leg when bridging it or only when it hung up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hotline.telephony import events as ev
from hotline.telephony.calls import CallEnded, CallEvent, CallMerged, CallModel, CallStarted, LegAdded, LegEnded
from hotline.ticketing.component import WorkOrders
from hotline.ticketing.connector import WORK_ORDER_CREATED, OutboxEvent
from hotline.ticketing.topics import CALL_MERGED, message_body, route_for
from hotline.ticketing.workorders import CallFacts, EndedCall, call_event, merge_ended

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "hotline" / "ticketing" / "schema" / "events.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())

CITIZEN = "1759197600.42"   # the citizen's leg: uniqueid = linkedid (the older call)
AGENT = "1759197601.43"     # the originated agent leg: its own linkedid until bridged
T0 = 1759197600.0

EVERY_KIND: list[CallEvent] = [
    CallStarted(T0, CITIZEN, CITIZEN, "13800138000"),
    LegAdded(T0, CITIZEN, CITIZEN, "PJSIP/trunk-00000001"),
    LegEnded(T0 + 9, CITIZEN, CITIZEN, 16, "Normal Clearing"),
    CallMerged(T0 + 3, AGENT, CITIZEN, AGENT, True),
    CallEnded(T0 + 9, CITIZEN, "hangup", 9.0),
]


class FakeTracker:
    """The part of ``CallTracker`` WorkOrders uses: ``model`` and ``subscribe``; ``feed`` plays the pump."""

    def __init__(self) -> None:
        self.model = CallModel()
        self.handlers: list[Any] = []

    def subscribe(self, handler: Any) -> None:
        self.handlers.append(handler)

    def feed(self, *events: ev.DomainEvent) -> list[CallEvent]:
        out: list[CallEvent] = []
        for event in events:
            for call_event_ in self.model.apply(event):
                out.append(call_event_)
                for handler in self.handlers:
                    assert handler(call_event_) is None  # sync facts provider: nothing to await
        return out


class FakeWriter:
    def __init__(self) -> None:
        self.events: list[OutboxEvent] = []

    def submit(self, event: OutboxEvent, also: Any = ()) -> None:
        self.events.append(event)


class FakeIndex:
    def add_step(self, record: Any) -> Any:
        return lambda pipe: None


def work_orders(facts: Any = None) -> tuple[FakeTracker, FakeWriter, WorkOrders]:
    tracker, writer = FakeTracker(), FakeWriter()
    wo = WorkOrders(tracker, writer, FakeIndex(), facts=facts, first_seat=1281, last_seat=1300)  # type: ignore[arg-type]
    return tracker, writer, wo


def created(writer: FakeWriter) -> list[OutboxEvent]:
    return [e for e in writer.events if e.kind == WORK_ORDER_CREATED]


def citizen(at: float, **kw: Any) -> dict[str, Any]:
    return {"at": at, "uniqueid": CITIZEN, "linkedid": CITIZEN, "channel": "PJSIP/trunk-00000001", **kw}


def agent(at: float, linkedid: str = AGENT, **kw: Any) -> dict[str, Any]:
    return {"at": at, "uniqueid": AGENT, "linkedid": linkedid, "channel": "PJSIP/1281-00000002", **kw}


def answered_call_start() -> list[ev.DomainEvent]:
    return [
        ev.ChannelCreated(**citizen(T0, caller_num="13800138000", state="Ring")),
        ev.ChannelStateChanged(**citizen(T0 + 1, state="Up")),
        ev.ChannelCreated(**agent(T0 + 2, caller_num="12345", state="Down")),
        ev.ChannelStateChanged(**agent(T0 + 4, state="Up")),
    ]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: type(e).__name__)
def test_given_every_call_event_kind_when_handed_to_work_orders_then_nothing_raises(event: CallEvent) -> None:
    _tracker, writer, wo = work_orders()
    assert wo.on_call_event(event) is None
    bus = call_event(event)
    assert bus is not None and writer.events[0] == bus
    jsonschema.validate(json.loads(message_body(bus)), SCHEMA)
    assert route_for(bus).topic == f"hotline/calls/{bus.linkedid}/events"


def test_given_a_call_event_kind_the_bus_does_not_know_then_it_is_ignored() -> None:
    class CallRenumbered:  # a kind a newer call model might add
        linkedid = CITIZEN

    _tracker, writer, wo = work_orders()
    assert call_event(CallRenumbered()) is None  # type: ignore[arg-type]
    assert wo.on_call_event(CallRenumbered()) is None  # type: ignore[arg-type]
    assert writer.events == []


def test_call_merged_is_published_on_the_call_the_leg_joined() -> None:
    bus = call_event(CallMerged(T0 + 3, AGENT, CITIZEN, AGENT, True))
    assert bus is not None and bus.kind == CALL_MERGED and bus.linkedid == CITIZEN
    assert bus.event_id == f"call.merged:{AGENT}:{CITIZEN}"
    assert dict(bus.payload) == {"uniqueid": AGENT, "from_linkedid": AGENT, "emptied": True}


def test_given_agent_leg_relinked_when_bridged_then_one_work_order_keyed_by_the_citizen() -> None:
    tracker, writer, _wo = work_orders()
    out = tracker.feed(
        *answered_call_start(),
        ev.BridgeEntered(**citizen(T0 + 4.1, bridge_id="b1", num_channels=1)),
        ev.BridgeEntered(**agent(T0 + 4.1, CITIZEN, bridge_id="b1", num_channels=2)),  # Asterisk re-linked it
        ev.ChannelHungUp(**citizen(T0 + 60, cause=16)),
        ev.ChannelHungUp(**agent(T0 + 60.2, CITIZEN, cause=16)),
    )
    assert [type(e).__name__ for e in out].count("CallMerged") == 1
    assert not any(isinstance(e, CallEnded) and e.linkedid == AGENT for e in out)  # the emptied call never ends
    [order] = created(writer)
    assert order.linkedid == CITIZEN and order.payload["agent_id"] == "1281"
    assert order.payload["caller_number"] == "13800138000"
    assert any(e.kind == CALL_MERGED for e in writer.events)


def test_given_agent_leg_relinked_only_at_its_hangup_after_the_citizen_left_then_still_one_work_order() -> None:
    """Bridge() pushed the agent first: its BridgeEnter still had its own linkedid, and its next event
    (the hang-up, after the citizen's) is the first to carry the citizen's."""
    tracker, writer, _wo = work_orders()
    out = tracker.feed(
        *answered_call_start(),
        ev.BridgeEntered(**agent(T0 + 4.1, AGENT, bridge_id="b1", num_channels=1)),
        ev.BridgeEntered(**citizen(T0 + 4.1, bridge_id="b1", num_channels=2)),
        ev.ChannelHungUp(**citizen(T0 + 60, cause=16)),          # the citizen's call ends without an agent
        ev.ChannelHungUp(**agent(T0 + 60.2, CITIZEN, cause=16)),  # re-linked now: the model re-opens CITIZEN
    )
    assert [e.linkedid for e in out if isinstance(e, CallEnded)] == [CITIZEN, CITIZEN]
    [order] = created(writer)
    assert order.linkedid == CITIZEN and order.event_id == f"work_order.created:{CITIZEN}"
    assert order.payload["agent_id"] == "1281"
    assert order.payload["caller_number"] == "13800138000"  # the citizen's, not the agent leg's caller id
    assert order.payload["duration_s"] == pytest.approx(60.2)


def test_given_facts_provider_when_merged_late_then_facts_still_apply() -> None:
    tracker, writer, _wo = work_orders(facts=lambda linkedid: CallFacts(queue="environment"))
    tracker.feed(
        *answered_call_start(),
        ev.BridgeEntered(**agent(T0 + 4.1, AGENT, bridge_id="b1", num_channels=1)),
        ev.ChannelHungUp(**citizen(T0 + 60, cause=16)),
        ev.ChannelHungUp(**agent(T0 + 60.2, CITIZEN, cause=16)),
    )
    [order] = created(writer)
    assert order.payload["queue"] == "environment" and order.linkedid == CITIZEN


def test_given_an_unanswered_call_then_no_work_order_and_the_memory_is_bounded() -> None:
    tracker, writer, wo = work_orders()
    wo.keep_unanswered = 2
    for n in range(4):
        lid = f"{T0 + n}.{n}"
        tracker.feed(ev.ChannelCreated(T0 + n, lid, lid, f"PJSIP/trunk-{n:08x}", caller_num="1380013800"),
                     ev.ChannelHungUp(T0 + n + 1, lid, lid, f"PJSIP/trunk-{n:08x}", cause=16))
    assert created(writer) == [] and len(wo._unanswered) == 2


def test_merge_ended_keeps_the_citizen_and_spans_both_parts() -> None:
    early = EndedCall(CITIZEN, "13800138000", T0, T0 + 60, ())
    late = EndedCall(CITIZEN, "12345", T0 + 2, T0 + 60.2, ("1281",))
    assert merge_ended(early, late) == EndedCall(CITIZEN, "13800138000", T0, T0 + 60.2, ("1281",))
    with pytest.raises(ValueError):
        merge_ended(early, EndedCall("other", "", T0, T0, ()))
