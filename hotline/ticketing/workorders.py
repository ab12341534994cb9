"""Work orders from calls, bus events from call/agent/queue facts, and SLA card changes. Pure.

A call becomes a work order when it **reached an agent**: one of its legs is an agent seat that
answered (``Leg.answered_at``, from ``Newstate Up``), or the facts provider names an agent. The
work order is created when the call ends (:class:`hotline.telephony.calls.CallEnded`); the received time
is the end of the call, the due date comes from :func:`hotline.ticketing.sla.due_date`.

Which leg is an agent: by default the endpoint in the leg's channel name (``PJSIP/1001-0000002a``
-> seat ``1001``) within the configured seat range. This reads a fact of the leg at the end of the
call; nothing is keyed on channel names. The routing engineers' facts (``CallFacts.agent_id``)
take precedence.

Event ids are derived from what the event is about, so that a repeat (a replayed log, a
transcript announced twice, a card re-evaluated after a restart) carries the same id and is
suppressed at every sink:

=========================  ============================================
``work_order.created``     ``work_order.created:{linkedid}``
``work_order.transcript``  ``work_order.transcript:{job_id}``
``work_order.card``        ``work_order.card:{linkedid}:{yellow|red}``
``call.*``                 ``{kind}:{linkedid or uniqueid}[:{at}]``
``call.merged``            ``call.merged:{uniqueid}:{into_linkedid}``
``agent.state``            ``agent.state:{agent_id}:{at}``
``queue.stats``            ``queue.stats:{queue}:{at}``
=========================  ============================================

The work order id is the call's linkedid (one work order per call).

Merges (:class:`hotline.telephony.calls.CallMerged`): an agent leg that hotline originated has its own
linkedid until Asterisk bridges it to the citizen and gives it the citizen's (older) linkedid. The
emptied call disappears without a ``CallEnded``, so it never becomes a work order; the agent's seat
is read from the citizen's call when *that* ends. When Asterisk re-links the agent leg only at its
hang-up (the citizen hung up first; the model then re-opens the citizen's linkedid as a new call
holding just the agent leg), the citizen's call has ended without an agent and the re-opened one
ends with it: :func:`merge_ended` joins the two, so the work order is still one, keyed by the
citizen's linkedid, with the citizen's number and start.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from hotline.telephony.calls import Call, CallEnded, CallEvent, CallMerged, CallStarted, LegAdded, LegEnded
from hotline.ticketing.connector import WORK_ORDER_CREATED, WORK_ORDER_TRANSCRIPT, OutboxEvent
from hotline.ticketing.sla import DEFAULT_POLICY, CallType, Card, SlaPolicy, WorkOrderClock, card_for, due_for
from hotline.ticketing.topics import (
    AGENT_STATE,
    CALL_ENDED,
    CALL_LEG_ADDED,
    CALL_LEG_ENDED,
    CALL_MERGED,
    CALL_STARTED,
    QUEUE_STATS,
    WORK_ORDER_CARD,
)

_SEAT = re.compile(r"^PJSIP/(\d+)-[0-9a-fA-F]+$")

CALL_TYPE_ZH = {
    CallType.CONSULTATION: "咨询",
    CallType.REQUEST: "求助",
    CallType.COMPLAINT: "投诉",
    CallType.SUGGESTION: "建议",
}


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the IVR and routing learnt about a call (all optional; given by a facts provider).

    Attributes:
        agent_id: the agent who handled it (makes the call a work order even without a seat leg).
        queue: the department queue in RT (``environment``, ``housing_fund``...).
        call_type: ``consultation`` (default), ``request``, ``complaint`` or ``suggestion``.
        district: the caller's district, if known.
        recording_url: link to the recording, if known.
        caller_number: overrides the number of the call's first leg.
        subject: ticket subject.
        description: first message of the ticket.
    """

    agent_id: str | None = None
    queue: str | None = None
    call_type: str | None = None
    district: str | None = None
    recording_url: str | None = None
    caller_number: str | None = None
    subject: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class EndedCall:
    """The facts of an ended call that a work order needs, read from the call model.

    Attributes:
        linkedid: the call.
        caller_number: CallerIDNum of the first leg (the citizen, on the trunk).
        started_at: epoch seconds.
        ended_at: epoch seconds.
        agent_seats: seats whose leg answered, in the order they were created.
    """

    linkedid: str
    caller_number: str
    started_at: float
    ended_at: float
    agent_seats: tuple[str, ...] = ()


def seat_of(channel: str, first_seat: int, last_seat: int) -> str | None:
    """The agent seat of a leg from its channel name (``PJSIP/1001-0000002a`` -> ``"1001"``), or None."""
    m = _SEAT.match(channel)
    if m is None or not first_seat <= int(m.group(1)) <= last_seat:
        return None
    return m.group(1)


def ended_call(call: Call, first_seat: int = 1001, last_seat: int = 1300) -> EndedCall:
    """Read an ended call from the model (:class:`hotline.telephony.calls.Call`, legs by uniqueid)."""
    legs = sorted(call.legs.values(), key=lambda leg: (leg.created_at, leg.seq))
    caller = next((leg.caller_num for leg in legs if leg.caller_num), "")
    seats: list[str] = []
    for leg in legs:
        seat = seat_of(leg.channel, first_seat, last_seat)
        if seat and leg.answered_at is not None and seat not in seats:
            seats.append(seat)
    ended = call.ended_at if call.ended_at is not None else max((leg.ended_at or 0.0) for leg in legs)
    return EndedCall(call.linkedid, caller, call.started_at, ended, tuple(seats))


def merge_ended(earlier: EndedCall, later: EndedCall) -> EndedCall:
    """One call from two ``CallEnded`` of the same linkedid (the model re-opened it for a late re-link).

    ``earlier`` is the citizen's part (ended without an agent), ``later`` the re-opened part holding
    the agent leg. The citizen's number wins; the call spans both; the seats are the later part's.

    Raises:
        ValueError: the two are not the same linkedid.
    """
    if earlier.linkedid != later.linkedid:
        raise ValueError(f"cannot merge calls {earlier.linkedid!r} and {later.linkedid!r}")
    seats = tuple(dict.fromkeys((*earlier.agent_seats, *later.agent_seats)))
    return EndedCall(later.linkedid, earlier.caller_number or later.caller_number,
                     min(earlier.started_at, later.started_at), max(earlier.ended_at, later.ended_at), seats)


def _iso(epoch_s: float, policy: SlaPolicy) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).astimezone(policy.zone)


def work_order_created(
    call: EndedCall,
    facts: CallFacts | None = None,
    *,
    default_queue: str = "general",
    recording_url_template: str | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> OutboxEvent | None:
    """The ``work_order.created`` event of an ended call, or None when no agent handled it.

    Args:
        call: from :func:`ended_call`.
        facts: IVR/routing facts; missing ones fall back to defaults.
        default_queue: RT queue when the facts name none.
        recording_url_template: e.g. ``"https://rec.example/{linkedid}.wav"``; None: no link unless
            the facts give one.
        policy: SLA allowances (the due date).
    Returns:
        The event (payload keys as :mod:`hotline.ticketing.connector` documents, plus ``work_order_id``,
        ``agent_id``, ``duration_s``), or None (an abandoned or IVR-only call is not an error).
    Raises:
        ValueError: an unknown call type in the facts.
    """
    f = facts or CallFacts()
    agent = f.agent_id or (call.agent_seats[0] if call.agent_seats else None)
    if agent is None:
        return None
    call_type = CallType(f.call_type or CallType.CONSULTATION)
    received = _iso(call.ended_at, policy)
    due_at = due_for(call_type, received, policy)  # never refused for a calendar year (provisional)
    due = due_at.at
    caller = f.caller_number or call.caller_number
    recording = f.recording_url or (
        recording_url_template.format(linkedid=call.linkedid) if recording_url_template else None
    )
    duration_s = round(max(0.0, call.ended_at - call.started_at), 3)
    subject = f.subject or f"12345 {CALL_TYPE_ZH[call_type]} {call_type.value} {caller or '未知号码'}"
    description = f.description or "\n".join([
        f"来电号码 caller: {caller or '-'}",
        f"受理坐席 agent: {agent}",
        f"来电时间 received: {received.isoformat()}",
        f"通话时长 duration: {duration_s:.0f} s",
        f"办理时限 due: {due.isoformat()}" + (f" (暂定 provisional, {due_at.source})" if due_at.provisional else ""),
        f"linkedid: {call.linkedid}",
    ])
    payload: dict[str, Any] = {
        "work_order_id": call.linkedid,
        "queue": f.queue or default_queue,
        "subject": subject,
        "call_type": call_type.value,
        "caller_number": caller,
        "district": f.district,
        "recording_url": recording,
        "agent_id": agent,
        "received": received.isoformat(),
        "due": due.isoformat(),
        "due_source": due_at.source,
        "due_provisional": due_at.provisional,
        "duration_s": duration_s,
        "description": description,
    }
    return OutboxEvent(f"{WORK_ORDER_CREATED}:{call.linkedid}", WORK_ORDER_CREATED, call.linkedid, payload,
                       call.ended_at)


def transcript_event(linkedid: str, job_id: str, text: str, at: float, *, no_speech: bool = False,
                     work_order: WorkOrderRecord | None = None) -> OutboxEvent:
    """The ``work_order.transcript`` event of a stored transcript (speech outcome ``done``).

    Args:
        work_order: the call's index record; carried as ``payload["work_order"]`` (queue,
            call_type, received, due) so that a sink can open the ticket if it is not there yet.
    """
    body = text if text.strip() else "（无可识别语音 no speech recognised）"
    payload: dict[str, Any] = {"work_order_id": linkedid, "text": body, "job_id": job_id, "no_speech": no_speech,
                               "subject": "通话转写 transcript"}
    if work_order is not None:
        payload["work_order"] = {"queue": work_order.queue, "call_type": work_order.call_type,
                                 "received": work_order.received, "due": work_order.due}
    return OutboxEvent(f"{WORK_ORDER_TRANSCRIPT}:{job_id}", WORK_ORDER_TRANSCRIPT, linkedid, payload, at)


# --- the work-order index (what the SLA monitor reads) ---------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkOrderRecord:
    """An open work order in the local index (a Redis hash field per linkedid, JSON).

    Attributes:
        work_order_id: the linkedid.
        queue: RT queue (department).
        call_type: the call type value.
        received: ISO 8601 with offset.
        due: ISO 8601 with offset.
        card: the highest card raised so far (None, ``yellow``, ``red``).
    """

    work_order_id: str
    queue: str
    call_type: str
    received: str
    due: str
    card: Card | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> WorkOrderRecord:
        d = json.loads(text)
        return cls(str(d["work_order_id"]), str(d.get("queue", "")), str(d.get("call_type", "")),
                   str(d["received"]), str(d["due"]), d.get("card"))

    def clock(self) -> WorkOrderClock:
        return WorkOrderClock(dt.datetime.fromisoformat(self.received), dt.datetime.fromisoformat(self.due))


def record_of(created: OutboxEvent) -> WorkOrderRecord:
    """The index record of a ``work_order.created`` event."""
    p = created.payload
    return WorkOrderRecord(created.linkedid, str(p.get("queue", "")), str(p.get("call_type", "")),
                           str(p["received"]), str(p["due"]))


_RANK = {None: 0, "yellow": 1, "red": 2}


@dataclass(frozen=True, slots=True)
class CardChange:
    """A work order whose card went up (none -> yellow, none/yellow -> red)."""

    record: WorkOrderRecord
    card: Card


def card_changes(records: Iterable[WorkOrderRecord], now: dt.datetime, policy: SlaPolicy = DEFAULT_POLICY) -> list[
    CardChange
]:
    """The work orders whose card is higher at ``now`` than the one already raised.

    Cards only go up: a work order once red is not announced yellow again, and each level is
    raised once (the event id carries the level).

    Args:
        records: open work orders from the index.
        now: aware datetime.
        policy: thresholds (:func:`hotline.ticketing.sla.card_for`).
    """
    out: list[CardChange] = []
    for record in records:
        card = card_for(record.clock(), now, policy)
        if card is not None and _RANK[card] > _RANK[record.card]:
            out.append(CardChange(record, card))
    return out


def card_event(change: CardChange, now: dt.datetime) -> OutboxEvent:
    """The ``work_order.card`` event of a card change (MQTT, webhook, wallboard)."""
    r = change.record
    due = dt.datetime.fromisoformat(r.due)
    payload = {
        "work_order_id": r.work_order_id, "card": change.card, "queue": r.queue, "call_type": r.call_type,
        "received": r.received, "due": r.due, "overdue_s": round((now - due).total_seconds(), 3),
    }
    return OutboxEvent(f"{WORK_ORDER_CARD}:{r.work_order_id}:{change.card}", WORK_ORDER_CARD, r.work_order_id,
                       payload, now.timestamp())


# --- bus events from telephony and routing facts ---------------------------------------------------
def call_event(event: CallEvent) -> OutboxEvent | None:
    """A call-model event (:mod:`hotline.telephony.calls`) as a ``call.*`` bus event.

    ``CallMerged`` becomes ``call.merged`` on the topic of the call the leg joined
    (``into_linkedid``; ``data.from_linkedid`` names the call it left, ``data.emptied`` says that
    call is gone: a subscriber that saw its ``call.started`` will see no ``call.ended``).

    Returns:
        The event, or None for a kind of call event this function does not know (a newer model):
        ignored, never an error on the AMI pump.
    """
    if isinstance(event, CallStarted):
        return OutboxEvent(f"{CALL_STARTED}:{event.linkedid}:{event.at!r}", CALL_STARTED, event.linkedid,
                           {"uniqueid": event.uniqueid, "caller_number": event.caller_num}, event.at)
    if isinstance(event, LegAdded):
        return OutboxEvent(f"{CALL_LEG_ADDED}:{event.uniqueid}", CALL_LEG_ADDED, event.linkedid,
                           {"uniqueid": event.uniqueid, "channel": event.channel}, event.at)
    if isinstance(event, LegEnded):
        return OutboxEvent(f"{CALL_LEG_ENDED}:{event.uniqueid}", CALL_LEG_ENDED, event.linkedid,
                           {"uniqueid": event.uniqueid, "cause": event.cause, "cause_text": event.cause_text},
                           event.at)
    if isinstance(event, CallEnded):
        return OutboxEvent(f"{CALL_ENDED}:{event.linkedid}:{event.at!r}", CALL_ENDED, event.linkedid,
                           {"reason": event.reason, "duration_s": event.duration_s}, event.at)
    if isinstance(event, CallMerged):
        return OutboxEvent(f"{CALL_MERGED}:{event.uniqueid}:{event.into_linkedid}", CALL_MERGED,
                           event.into_linkedid,
                           {"uniqueid": event.uniqueid, "from_linkedid": event.from_linkedid,
                            "emptied": event.emptied}, event.at)
    return None


def agent_state_event(agent_id: str, status: str, at: float, **data: Any) -> OutboxEvent:
    """An ``agent.state`` event (retained on ``hotline/agents/{agent_id}/state``).

    Args:
        agent_id: the agent.
        status: e.g. ``ready``, ``not_ready``, ``on_call``, ``wrap_up`` (``queues.model.AgentStatus``).
        at: epoch seconds.
        data: more fields (``reason``, ``linkedid``, ``queue``); None values are dropped.
    """
    payload = {"agent_id": agent_id, "status": status, **{k: v for k, v in data.items() if v is not None}}
    return OutboxEvent(f"{AGENT_STATE}:{agent_id}:{at!r}", AGENT_STATE, str(data.get("linkedid") or ""),
                       payload, at)


def queue_stats_event(queue: str, stats: Mapping[str, Any], at: float) -> OutboxEvent:
    """A ``queue.stats`` snapshot (retained on ``hotline/queues/{queue}/stats``).

    Args:
        queue: the queue.
        stats: JSON-serialisable figures (``waiting``, ``longest_wait_s``, ``sl1_ratio``...).
        at: epoch seconds of the snapshot.
    """
    return OutboxEvent(f"{QUEUE_STATS}:{queue}:{at!r}", QUEUE_STATS, "", {"queue": queue, **stats}, at)


def transcript_action(status: str, indexed: bool, age_s: float, grace_s: float) -> str:
    """What to do with a transcript announcement from the speech pipeline.

    Args:
        status: the outcome status (``done``, ``skipped``, ``failed``).
        indexed: the call has a work order in the index.
        age_s: seconds since the announcement (from its stream id).
        grace_s: how long to wait for the work order of a call that has none yet.
    Returns:
        ``"emit"`` (a transcript event), ``"wait"`` (leave it pending; the work order may still be
        on its way) or ``"skip"`` (acknowledge: not a transcript, or a call without a work order).
    """
    if status != "done":
        return "skip"
    if indexed:
        return "emit"
    return "wait" if age_s < grace_s else "skip"
