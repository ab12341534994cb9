"""Outbox retry policy and entry format (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.ticketing.connector import OutboxEvent
from hotline.ticketing.delivery import (
    BadEntry,
    RetryPolicy,
    Verdict,
    backoff_s,
    decide,
    entry_time_s,
    from_fields,
    is_outage,
    sinks_for,
    to_fields,
)
from hotline.ticketing.errors import (
    BusUnavailable,
    FieldsNotApplied,
    TicketingRejected,
    TicketingUnavailable,
    UnknownEventKind,
    WorkOrderNotFound,
)

POLICY = RetryPolicy(max_attempts=3, base_s=0.5, cap_s=4.0, jitter=0.2)


@pytest.mark.parametrize(
    ("exc", "attempts", "verdict"),
    [
        (TicketingUnavailable("http://rt", "connection refused"), 99, Verdict.PAUSE),
        (TicketingUnavailable("http://hook", "HTTP 503", 503), 99, Verdict.PAUSE),
        (BusUnavailable("127.0.0.1:1883", "not connected"), 99, Verdict.PAUSE),
        (TimeoutError(), 99, Verdict.PAUSE),
        (TicketingUnavailable("http://hook", "HTTP 500", 500), 1, Verdict.RETRY),
        (TicketingUnavailable("http://hook", "HTTP 500", 500), 3, Verdict.DEAD),
        (WorkOrderNotFound("1.2"), 2, Verdict.RETRY),
        (WorkOrderNotFound("1.2"), 3, Verdict.DEAD),
        (TicketingRejected("http://rt", 400, "bad"), 1, Verdict.DEAD),
        (FieldsNotApplied(7, {"Satisfaction": ["meh"]}), 1, Verdict.DEAD),
        (UnknownEventKind("x"), 1, Verdict.DEAD),
        (KeyError("payload"), 1, Verdict.DEAD),
    ],
)
def test_given_failure_then_verdict(exc: BaseException, attempts: int, verdict: Verdict) -> None:
    assert decide(exc, attempts, POLICY) is verdict


def test_given_outage_then_attempts_do_not_matter() -> None:
    assert is_outage(ConnectionRefusedError()) and not is_outage(ValueError())


def test_given_consecutive_failures_then_backoff_doubles_up_to_cap() -> None:
    assert [backoff_s(n, POLICY) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@given(st.integers(min_value=1, max_value=10_000), st.floats(min_value=0, max_value=1))
def test_backoff_is_within_jitter_band_and_never_above_cap(n: int, r: float) -> None:
    full = backoff_s(n, POLICY)
    jittered = backoff_s(n, POLICY, r)
    assert full * (1 - POLICY.jitter) - 1e-9 <= jittered <= full <= POLICY.cap_s


def test_given_routes_then_sinks_by_kind_prefix() -> None:
    routes = {"rt": ["work_order.created", "work_order.transcript"], "webhook": ["work_order."], "mqtt": ["*"]}
    assert sinks_for("work_order.created", routes) == ["rt", "webhook", "mqtt"]
    assert sinks_for("work_order.card", routes) == ["webhook", "mqtt"]
    assert sinks_for("call.ended", routes) == ["mqtt"]
    assert sinks_for("call.ended", {"rt": ["work_order."]}) == []


@given(
    st.text(min_size=1), st.text(), st.text(),
    st.dictionaries(st.text(), st.one_of(st.integers(), st.text(), st.none())),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_event_survives_stream_fields_round_trip(
    event_id: str, kind: str, linkedid: str, payload: dict[str, object], at: float
) -> None:
    event = OutboxEvent(event_id, kind, linkedid, payload, at)
    fields = to_fields(event)
    assert all(isinstance(v, str) for v in fields.values())
    encoded = {k.encode(): v.encode() for k, v in fields.items()}  # what redis-py returns without decoding
    assert from_fields(encoded) == event


@pytest.mark.parametrize(
    "fields",
    [{"kind": "x"}, {"event_id": "e", "kind": "k", "linkedid": "", "payload": "[1]", "created_at": "0"},
     {"event_id": "e", "kind": "k", "linkedid": "", "payload": "{", "created_at": "0"}],
)
def test_given_foreign_entry_then_bad_entry(fields: dict[str, str]) -> None:
    with pytest.raises(BadEntry):
        from_fields(fields)


def test_stream_id_encodes_milliseconds() -> None:
    assert entry_time_s("1759284000123-7") == pytest.approx(1759284000.123)
