"""Pure RT helpers: naive-UTC dates, custom-field read-back, TicketSQL quoting, the event body."""

from __future__ import annotations

import datetime as dt
import json

import aiohttp
import pytest

from hotline.ticketing.connector import Connector, OutboxEvent
from hotline.ticketing.rt import (
    RtClient,
    RtConnector,
    custom_field_values,
    missing_fields,
    parse_rt_datetime,
    rt_datetime,
    ticketsql_equals,
)
from hotline.ticketing.sla import SHANGHAI
from hotline.ticketing.webhook import WebhookSink, encode_body


def test_given_shanghai_due_then_rt_gets_naive_utc() -> None:
    assert rt_datetime(dt.datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)) == "2025-10-14 02:00:00"


def test_given_naive_datetime_then_rt_datetime_refuses() -> None:
    with pytest.raises(ValueError, match="aware"):
        rt_datetime(dt.datetime(2025, 10, 14, 10, 0))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("2025-10-14T02:00:00Z", dt.datetime(2025, 10, 14, 2, 0, tzinfo=dt.UTC)),
        ("1970-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_rt_datetime(text: str | None, parsed: dt.datetime | None) -> None:
    assert parse_rt_datetime(text) == parsed


TICKET = {
    "id": 7,
    "CustomFields": [
        {"id": "2", "name": "Caller Number", "values": ["13800000000"]},
        {"id": "7", "name": "Satisfaction", "values": []},
        {"id": "8", "name": "Hotline Events", "values": ["e1", "e2"]},
    ],
}


def test_custom_field_values_reads_rest2_shape() -> None:
    assert custom_field_values(TICKET) == {
        "Caller Number": ["13800000000"],
        "Satisfaction": [],
        "Hotline Events": ["e1", "e2"],
    }


def test_given_dropped_fields_then_missing_names_them() -> None:
    stored = custom_field_values(TICKET)
    wanted = {
        "Caller Number": "13800000000",
        "Satisfaction": "bogus",
        "Nonexistent": "x",
        "Hotline Events": ["e2", "e1"],
        "District": None,
    }
    assert missing_fields(wanted, stored) == {"Satisfaction": ["bogus"], "Nonexistent": ["x"]}


def test_ticketsql_quotes_values() -> None:
    assert ticketsql_equals("Linkedid", "1759.1") == "'CF.{Linkedid}' = '1759.1'"
    assert ticketsql_equals("Linkedid", "a'b\\c") == "'CF.{Linkedid}' = 'a\\'b\\\\c'"


def test_webhook_body_is_compact_sorted_utf8_json() -> None:
    event = OutboxEvent("e1", "work_order.created", "1759.1", {"subject": "噪音"}, 1.5)
    body = encode_body(event)
    assert "噪音".encode() in body
    assert json.loads(body) == {
        "created_at": 1.5, "event_id": "e1", "kind": "work_order.created",
        "linkedid": "1759.1", "payload": {"subject": "噪音"},
    }
    assert body.startswith(b'{"created_at":1.5,"event_id"')


async def test_both_sinks_implement_the_connector_protocol() -> None:
    async with aiohttp.ClientSession() as session:
        rt = RtConnector(RtClient(session, "http://127.0.0.1:9", token="t"))
        webhook = WebhookSink(session, "http://127.0.0.1:9/hook", "secret")
        assert isinstance(rt, Connector) and rt.name == "rt"
        assert isinstance(webhook, Connector) and webhook.name == "webhook"
