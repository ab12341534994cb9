"""MQTT topic tree and message bodies (pure), checked against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from hotline.telephony.calls import CallEnded, CallStarted, LegAdded, LegEnded
from hotline.ticketing.connector import WORK_ORDER_TRANSCRIPT, WORK_ORDER_UPDATED, OutboxEvent
from hotline.ticketing.topics import NoTopic, Route, level, message_body, route_for
from hotline.ticketing.workorders import (
    CallFacts,
    EndedCall,
    agent_state_event,
    call_event,
    queue_stats_event,
    transcript_event,
    work_order_created,
)

SCHEMA_FILE = Path(__file__).resolve().parents[3] / "hotline" / "ticketing" / "schema" / "events.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

CALL = EndedCall("1759197600.42", "13800138000", 1759197600.0, 1759197690.5, ("1281",))


def examples() -> list[OutboxEvent]:
    created = work_order_created(CALL, CallFacts(queue="environment", district="鼓楼区", call_type="request"))
    assert created is not None
    return [
        call_event(CallStarted(1759197600.0, "1759197600.42", "1759197600.42", "13800138000")),
        call_event(LegAdded(1759197601.0, "1759197600.42", "1759197601.43", "PJSIP/1281-00000002")),
        call_event(LegEnded(1759197690.5, "1759197600.42", "1759197601.43", 16, "Normal Clearing")),
        call_event(CallEnded(1759197690.5, "1759197600.42", "hangup", 90.5)),
        agent_state_event("1281", "wrap_up", 1759197690.5, linkedid="1759197600.42", queue="environment"),
        queue_stats_event("environment", {"waiting": 3, "longest_wait_s": 41.5, "sl1_ratio": 0.8}, 1759197700.0),
        created,
        transcript_event("1759197600.42", "job-1", "市民：你好", 1759197800.0),
        OutboxEvent("u-1", WORK_ORDER_UPDATED, "1759197600.42", {"satisfaction": "satisfied"}, 1759197900.0),
    ]


@pytest.mark.parametrize(
    ("index", "route"),
    [
        (0, Route("hotline/calls/1759197600.42/events")),
        (3, Route("hotline/calls/1759197600.42/events")),
        (4, Route("hotline/agents/1281/state", retain=True)),
        (5, Route("hotline/queues/environment/stats", retain=True)),
        (6, Route("hotline/workorders/1759197600.42/events")),
        (7, Route("hotline/workorders/1759197600.42/events")),
    ],
)
def test_given_event_then_topic_in_documented_tree(index: int, route: Route) -> None:
    assert route_for(examples()[index]) == route


def test_every_example_body_validates_against_schema() -> None:
    for event in examples():
        body = json.loads(message_body(event))
        errors = sorted(VALIDATOR.iter_errors(body), key=str)
        assert not errors, f"{event.kind}: {errors[0].message}"
        assert body["event_id"] == event.event_id and body["type"] == event.kind


def test_given_body_missing_required_data_then_schema_rejects_it() -> None:
    body = json.loads(message_body(OutboxEvent("e", WORK_ORDER_TRANSCRIPT, "1.2", {"job_id": "j"}, 0.0)))
    assert list(VALIDATOR.iter_errors(body))


def test_example_event_ids_are_unique() -> None:
    ids = [e.event_id for e in examples()]
    assert len(ids) == len(set(ids))


def test_given_wildcard_characters_in_data_then_one_plain_level() -> None:
    assert level("a/b+c#") == "a_b_c_"
    event = queue_stats_event("lab/#", {}, 0.0)
    assert route_for(event, "x").topic == "x/queues/lab__/stats"


@pytest.mark.parametrize("event", [OutboxEvent("e", "mystery", "1.2"), OutboxEvent("e", "agent.state", "", {})])
def test_given_event_without_place_in_tree_then_no_topic(event: OutboxEvent) -> None:
    with pytest.raises(NoTopic):
        route_for(event)


def test_chinese_text_is_not_escaped_in_body() -> None:
    assert "市民".encode() in message_body(transcript_event("1.2", "j", "市民：你好", 0.0))
