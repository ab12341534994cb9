"""Work orders in the real Request Tracker 5 of the lab (REST2, token auth)."""

from __future__ import annotations

import datetime as dt
import socket
import uuid

import aiohttp
import pytest

from hotline.ticketing.connector import (
    WORK_ORDER_CREATED,
    WORK_ORDER_TRANSCRIPT,
    WORK_ORDER_UPDATED,
    OutboxEvent,
)
from hotline.ticketing.errors import FieldsNotApplied, TicketingRejected, TicketingUnavailable, WorkOrderNotFound
from hotline.ticketing.rt import (
    FIELD_EVENTS,
    FIELD_LINKEDID,
    RtClient,
    RtConnector,
    custom_field_values,
    parse_rt_datetime,
)
from hotline.ticketing.sla import SHANGHAI, CallType, due_date
from tests.integration.ticketing.conftest import RtLab
from tests.support.wait import free_port, until

pytestmark = pytest.mark.integration

RECEIVED = dt.datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)  # Tue before the National Day holidays
TRANSCRIPT = "坐席：您好，12345热线。\n市民：楼下餐馆油烟太大，晚上十点还在营业。"


def new_linkedid() -> str:
    return f"{1759197600 + uuid.uuid4().int % 10**6}.{uuid.uuid4().int % 1000}"


def created_event(linkedid: str, **payload: object) -> OutboxEvent:
    due = due_date(CallType.REQUEST, RECEIVED)
    body = {
        "queue": "environment",
        "subject": "油烟扰民 cooking fumes",
        "call_type": "request",
        "caller_number": "13800138000",
        "district": "鼓楼区",
        "recording_url": f"https://hotline.lab/recordings/{linkedid}.wav",
        "received": RECEIVED.isoformat(),
        "due": due.isoformat(),
        "description": "市民反映餐馆油烟扰民",
    }
    body.update(payload)
    return OutboxEvent(f"evt-{uuid.uuid4()}", WORK_ORDER_CREATED, linkedid, body, 1759197600.0)


async def test_given_call_ended_when_work_order_delivered_then_ticket_has_fields_and_utc_due(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    event = created_event(linkedid)

    await rt_connector.deliver(event)

    ticket_id = await rt_connector.ticket_for_call(linkedid)
    assert ticket_id is not None
    ticket = await rt_client.get_ticket(ticket_id)
    fields = custom_field_values(ticket)
    assert fields["Caller Number"] == ["13800138000"]
    assert fields["Call Type"] == ["request"]
    assert fields["District"] == ["鼓楼区"]
    assert fields["Linkedid"] == [linkedid]
    assert fields["Recording"] == [f"https://hotline.lab/recordings/{linkedid}.wav"]
    assert fields[FIELD_EVENTS] == [event.event_id]
    assert ticket["Subject"] == "油烟扰民 cooking fumes"
    # 5 working days over Golden Week: 2025-10-14 10:00 Shanghai == 02:00 UTC in RT.
    assert ticket["Due"] == "2025-10-14T02:00:00Z"
    assert parse_rt_datetime(ticket["Due"]) == dt.datetime(2025, 10, 14, 10, 0, tzinfo=SHANGHAI)


async def test_given_same_event_redelivered_then_no_second_ticket(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    event = created_event(linkedid)

    await rt_connector.deliver(event)
    await rt_connector.deliver(event)
    await rt_connector.deliver(event)

    assert len(await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid)) == 1


async def test_given_ticket_when_transcript_delivered_twice_then_one_comment(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    await rt_connector.deliver(created_event(linkedid))
    transcript = OutboxEvent(f"evt-{uuid.uuid4()}", WORK_ORDER_TRANSCRIPT, linkedid, {"text": TRANSCRIPT}, 0.0)

    await rt_connector.deliver(transcript)
    await rt_connector.deliver(transcript)

    ticket_id = await rt_connector.ticket_for_call(linkedid)
    assert ticket_id is not None
    comments = [a for a in await rt_client.attachments(ticket_id) if a.get("Content") == TRANSCRIPT]
    assert len(comments) == 1
    assert comments[0]["Subject"] == "通话转写 transcript"


async def test_given_transcript_before_ticket_then_retryable_not_found(rt_connector: RtConnector) -> None:
    event = OutboxEvent(f"evt-{uuid.uuid4()}", WORK_ORDER_TRANSCRIPT, new_linkedid(), {"text": "x"}, 0.0)

    with pytest.raises(WorkOrderNotFound) as info:
        await rt_connector.deliver(event)
    assert info.value.retryable


async def test_given_transcript_with_its_work_order_record_before_the_ticket_then_ticket_opened_and_completed(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    due = due_date(CallType.REQUEST, RECEIVED)
    record = {"queue": "environment", "call_type": "request", "received": RECEIVED.isoformat(), "due": due.isoformat()}
    early = OutboxEvent(f"evt-{uuid.uuid4()}", WORK_ORDER_TRANSCRIPT, linkedid,
                        {"text": TRANSCRIPT, "work_order": record}, 0.0)

    await rt_connector.deliver(early)  # no ticket yet: waits (bounded), then opens it: nothing dead-lettered
    ticket_id = await rt_connector.ticket_for_call(linkedid)
    assert ticket_id is not None
    ticket = await rt_client.get_ticket(ticket_id)
    assert parse_rt_datetime(ticket["Due"]) == due.replace(microsecond=0)
    assert custom_field_values(ticket)["Call Type"] == ["request"]

    work_order = created_event(linkedid)
    await rt_connector.deliver(work_order)  # the work order lands on the same ticket and completes it
    assert await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid) == [ticket_id]
    fields = custom_field_values(await rt_client.get_ticket(ticket_id))
    assert fields["Caller Number"] == ["13800138000"] and fields["District"] == ["鼓楼区"]
    assert set(fields[FIELD_EVENTS]) == {early.event_id, work_order.event_id}
    comments = [a for a in await rt_client.attachments(ticket_id) if a.get("Content") == TRANSCRIPT]
    assert len(comments) == 1


async def test_given_a_field_rt_rejects_on_create_then_not_marked_applied_and_a_replay_tries_again(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    bad = created_event(linkedid, call_type="not_a_call_type")  # outside the Select list: RT drops it silently

    with pytest.raises(FieldsNotApplied) as info:
        await rt_connector.deliver(bad)
    assert info.value.fields == {"Call Type": ["not_a_call_type"]}
    ticket_id = await rt_connector.ticket_for_call(linkedid)
    assert ticket_id is not None
    assert bad.event_id not in custom_field_values(await rt_client.get_ticket(ticket_id)).get(FIELD_EVENTS, [])

    # `hotline outbox replay` re-delivers the same event: it is applied again (and fails again while
    # RT still lacks the value), on the same ticket, never a no-op and never a second ticket.
    with pytest.raises(FieldsNotApplied):
        await rt_connector.deliver(bad)
    assert await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid) == [ticket_id]

    fixed = OutboxEvent(bad.event_id, bad.kind, linkedid, {**bad.payload, "call_type": "complaint"}, bad.created_at)
    await rt_connector.deliver(fixed)  # a value RT takes: the same event id completes the ticket and is recorded
    fields = custom_field_values(await rt_client.get_ticket(ticket_id))
    assert fields["Call Type"] == ["complaint"] and fields[FIELD_EVENTS] == [bad.event_id]
    await rt_connector.deliver(fixed)
    assert await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid) == [ticket_id]


async def test_given_a_department_queue_rt_lacks_then_filed_in_the_default_queue(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    await rt_connector.deliver(created_event(linkedid, queue="complaints"))
    ticket_id = await rt_connector.ticket_for_call(linkedid)
    assert ticket_id is not None
    ticket = await rt_client.get_ticket(ticket_id)
    queue = ticket["Queue"]["id"] if isinstance(ticket["Queue"], dict) else ticket["Queue"]
    assert (await rt_client.queue_name(queue)).lower() == "general"  # RT's own "General"
    assert any("complaints" in str(a.get("Content")) for a in await rt_client.attachments(ticket_id))


async def test_given_callback_survey_then_satisfaction_updated_once(
    rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    await rt_connector.deliver(created_event(linkedid))
    update = OutboxEvent(
        f"evt-{uuid.uuid4()}", WORK_ORDER_UPDATED, linkedid,
        {"satisfaction": "satisfied", "note": "回访：市民表示满意"}, 0.0,
    )

    await rt_connector.deliver(update)
    await rt_connector.deliver(update)

    ticket_id = await rt_connector.ticket_for_call(linkedid)
    assert ticket_id is not None
    fields = custom_field_values(await rt_client.get_ticket(ticket_id))
    assert fields["Satisfaction"] == ["satisfied"]
    assert update.event_id in fields[FIELD_EVENTS]
    notes = [a for a in await rt_client.attachments(ticket_id) if a.get("Content") == "回访：市民表示满意"]
    assert len(notes) == 1


async def test_given_value_outside_select_list_then_fields_not_applied_names_it(
    rt_connector: RtConnector,
) -> None:
    linkedid = new_linkedid()
    await rt_connector.deliver(created_event(linkedid))
    bad = OutboxEvent(f"evt-{uuid.uuid4()}", WORK_ORDER_UPDATED, linkedid, {"satisfaction": "meh"}, 0.0)

    with pytest.raises(FieldsNotApplied) as info:
        await rt_connector.deliver(bad)
    assert info.value.fields == {"Satisfaction": ["meh"]}
    assert any("Invalid value" in m for m in info.value.messages)
    assert not info.value.retryable
    # Not recorded as applied: a re-delivery fails the same way (and goes to the dead letters).
    with pytest.raises(FieldsNotApplied):
        await rt_connector.deliver(bad)


async def test_given_unknown_custom_field_then_rt_says_201_but_client_raises(rt_client: RtClient) -> None:
    with pytest.raises(FieldsNotApplied) as info:
        await rt_client.create_ticket(
            "general", "unknown field probe", custom_fields={"Linkedid": new_linkedid(), "No Such Field": "x"}
        )
    assert info.value.fields == {"No Such Field": ["x"]}
    assert info.value.ticket_id > 0


async def test_given_unknown_queue_then_rejected_with_rt_message(rt_client: RtClient) -> None:
    with pytest.raises(TicketingRejected) as info:
        await rt_client.create_ticket("no_such_queue", "x")
    assert info.value.status in (400, 403)
    assert "no_such_queue" in info.value.body


async def test_given_basic_auth_then_same_api(rt_lab: RtLab, http: aiohttp.ClientSession) -> None:
    client = RtClient(http, rt_lab.url, user=rt_lab.user, password=rt_lab.password)
    ticket_id = await client.create_ticket("commerce", "basic auth probe", custom_fields={"Call Type": "suggestion"})
    assert custom_field_values(await client.get_ticket(ticket_id))["Call Type"] == ["suggestion"]


async def test_given_wrong_password_then_rejected_401(rt_lab: RtLab, http: aiohttp.ClientSession) -> None:
    client = RtClient(http, rt_lab.url, user=rt_lab.user, password="wrong")
    with pytest.raises(TicketingRejected) as info:
        await client.get_ticket(1)
    assert info.value.status == 401


async def test_given_server_that_never_answers_then_unavailable_after_timeout(
    http: aiohttp.ClientSession,
) -> None:
    port = free_port()
    with socket.socket() as listener:  # accepts (kernel backlog) but never answers
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        client = RtClient(http, f"http://127.0.0.1:{port}", token="t", timeout_s=0.5)
        with pytest.raises(TicketingUnavailable) as info:
            await client.get_ticket(1)
    assert info.value.retryable and info.value.status is None


async def test_given_rt_stopped_then_unavailable_and_after_restart_delivery_works(
    rt_lab: RtLab, rt_connector: RtConnector, rt_client: RtClient
) -> None:
    linkedid = new_linkedid()
    event = created_event(linkedid)
    rt_lab.run("stop")
    try:
        with pytest.raises(TicketingUnavailable) as info:
            await rt_connector.deliver(event)
        assert info.value.retryable
    finally:
        rt_lab.run("start")

    async def answering() -> bool:
        await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid)
        return True

    await until(answering, timeout=30, what="RT answering REST2 after restart")
    await rt_connector.deliver(event)  # the outbox's retry
    assert len(await rt_client.find_ticket_ids(FIELD_LINKEDID, linkedid)) == 1
