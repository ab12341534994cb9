"""What the IVR and routing learnt about each call, for work orders (ticketing) and QA.

The IVR hands a caller to routing with a :class:`~hotline.queues.handover.QueueRequest` (queue,
skills, IVR path, follow-up flag); the call model knows which agent seat answered and when
(the agent leg ``PJSIP/<seat>-...`` joins the caller's call when bridged). This book keeps
the request per linkedid and, when the call ends:

* answers the ticketing facts provider (``facts(linkedid) -> CallFacts``) so a work order
  gets its department queue, call type and agent;
* writes the call's QA facts (agent, queue, skill, call type, wait, IVR path) to the QA
  store, which the sampling plans read.

It is also an IVR session listener (:meth:`CallFactsBook.ivr_session`): the IVR path of EVERY
call is kept, including calls that never reached a queue (they hung up in the IVR, or the IVR
ended them). The caller's ``Hangup`` ends the call in the tracker before the IVR session has
written its record, so the QA write of a call still in the IVR waits (at most ``ivr_wait_s``) for
its session to end.

Pure parts (:func:`call_type_of`, :func:`agent_of`, :func:`qa_record`) take plain data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hotline.kernel.subscribers import connect_once
from hotline.queues.handover import HandOver, QueueRequest, SessionRecord, SessionStarted
from hotline.telephony.calls import Call, CallEnded, CallEvent
from hotline.telephony.tracker import CallTracker

if TYPE_CHECKING:
    from hotline.qa.store import QaStore

log = logging.getLogger("hotline.app.facts")

_SEAT = re.compile(r"^PJSIP/(\d{3,6})-")
#: IVR node-id prefixes of the sample 12345 menu -> the 12345 call types
_CALL_TYPES = (("consult", "consultation"), ("request", "request"), ("complaint", "complaint"),
               ("suggestion", "suggestion"))


def call_type_of(ivr_path: tuple[str, ...] | list[str]) -> str:
    """The work-order call type from the IVR path (the last node naming one), default consultation."""
    for node in reversed(tuple(ivr_path)):
        for prefix, kind in _CALL_TYPES:
            if node.startswith(prefix):
                return kind
    return "consultation"


def agent_of(call: Call) -> tuple[str | None, float | None]:
    """``(seat, answered_at)`` of the first agent seat leg that answered, or ``(None, None)``."""
    best: tuple[str | None, float | None] = (None, None)
    for leg in call.legs.values():
        m = _SEAT.match(leg.channel)
        if m and leg.answered_at is not None and (best[1] is None or leg.answered_at < best[1]):
            best = (m.group(1), leg.answered_at)
    return best


def qa_record(call: Call, request: QueueRequest | None, ivr_path: tuple[str, ...] = ()) -> dict[str, Any]:
    """The QA facts of an ended call as keyword arguments of ``qa.models.CallRecord``; ``ivr_path``
    (from the IVR session) is used when the call was not handed over (``request`` None)."""
    agent, answered_at = agent_of(call)
    ended = call.ended_at or call.started_at
    wait_s = 0.0
    if request is not None and request.at:
        wait_s = max(0.0, (answered_at or ended) - request.at)
    caller = next((leg.caller_num for leg in sorted(call.legs.values(), key=lambda leg: leg.created_at)
                   if leg.caller_num), None)
    return {
        "linkedid": call.linkedid, "started_at": call.started_at, "duration_s": max(0.0, ended - call.started_at),
        "agent": agent, "queue": request.queue if request else None,
        "skill": request.skills[0] if request and request.skills else None,
        "call_type": call_type_of(request.ivr_path) if request else None,
        "caller": request.caller_num if request else caller, "wait_s": round(wait_s, 3),
        "ivr_path": tuple(request.ivr_path) if request and request.ivr_path else tuple(ivr_path),
    }


class CallFactsBook:
    """Keeps the hand-over facts of recent calls and hands them on.

    Args:
        tracker: the call tracker (subscribed for ``CallEnded``).
        qa_store: ``qa.store.QaStore`` or None (no QA facts written).
        keep: how many recent calls to remember (oldest forgotten first).
        clock: epoch seconds.
        ivr_wait_s: how long the QA write of a call still in the IVR waits for its session record.
    """

    def __init__(self, tracker: CallTracker, qa_store: Any | None = None, keep: int = 20_000,
                 clock: Callable[[], float] = time.time, ivr_wait_s: float = 10.0) -> None:
        self.tracker = tracker
        self.qa_store = qa_store
        self.keep = keep
        self.clock = clock
        self.requests: OrderedDict[str, QueueRequest] = OrderedDict()
        #: linkedid -> the IVR session of every call (path, node, outcome), newest last
        self.ivr_sessions: OrderedDict[str, SessionRecord] = OrderedDict()
        self.ivr_wait_s = ivr_wait_s
        self._in_ivr: dict[str, asyncio.Event] = {}  # linkedid -> set when its session record arrives
        self.written = 0
        self._tasks: set[asyncio.Task[None]] = set()
        tracker.subscribe(self._on_call_event)

    def connect_qa_store(self, qa_store: QaStore) -> None:
        """Late binding, once: the QA store (on the recording catalog's database, built after this book,
        whose hand-over wrapper and session listener the IVR needs first).

        Raises:
            AlreadyConnected: a store is already set.
        """
        connect_once(self.qa_store, "call facts QA store")
        self.qa_store = qa_store

    def wrap(self, hand_over: HandOver) -> HandOver:
        """A hand-over that records the request, then passes it on."""

        async def recorded(request: QueueRequest) -> None:
            self.requests[request.linkedid] = request
            self.requests.move_to_end(request.linkedid)
            while len(self.requests) > self.keep:
                self.requests.popitem(last=False)
            await hand_over(request)

        return recorded

    def ivr_session(self, item: SessionStarted | SessionRecord) -> None:
        """The IVR's session listener (:data:`hotline.ivr.agi.SessionListener`): keep every call's IVR path."""
        if isinstance(item, SessionStarted):
            self._in_ivr.setdefault(item.linkedid, asyncio.Event())
            return
        self.ivr_sessions[item.linkedid] = item
        self.ivr_sessions.move_to_end(item.linkedid)
        while len(self.ivr_sessions) > self.keep:
            self.ivr_sessions.popitem(last=False)
        done = self._in_ivr.pop(item.linkedid, None)
        if done is not None:
            done.set()

    def ivr_path(self, linkedid: str) -> tuple[str, ...]:
        """The IVR path of a call (from its hand-over, else from its IVR session), ``()`` if none."""
        request = self.requests.get(linkedid)
        if request is not None and request.ivr_path:
            return tuple(request.ivr_path)
        rec = self.ivr_sessions.get(linkedid)
        return tuple(rec.path) if rec is not None else ()

    def ticket_facts(self, linkedid: str) -> Any:
        """The ticketing facts provider: ``ticketing.workorders.CallFacts`` or None."""
        from hotline.ticketing.workorders import CallFacts

        request = self.requests.get(linkedid)
        call = self.tracker.model.calls.get(linkedid)
        agent = agent_of(call)[0] if call is not None else None
        if request is None and agent is None:
            return None
        return CallFacts(agent_id=agent, queue=request.queue if request else None,
                         call_type=call_type_of(request.ivr_path) if request else None,
                         caller_number=request.caller_num if request else None)

    def _on_call_event(self, event: CallEvent) -> None:
        if not isinstance(event, CallEnded) or self.qa_store is None:
            return
        call = self.tracker.model.calls.get(event.linkedid)
        if call is None:
            return
        task = asyncio.get_running_loop().create_task(self._write(call, self.qa_store))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, call: Call, qa_store: Any) -> None:
        from hotline.qa.models import CallRecord

        waiting = self._in_ivr.get(call.linkedid)
        if waiting is not None:  # the caller hung up in the IVR: its session record is on its way
            try:
                await asyncio.wait_for(waiting.wait(), self.ivr_wait_s)
            except TimeoutError:
                self._in_ivr.pop(call.linkedid, None)
                log.warning("no IVR session record for %s within %.0fs: QA facts without its IVR path",
                            call.linkedid, self.ivr_wait_s)
        facts = qa_record(call, self.requests.get(call.linkedid), self.ivr_path(call.linkedid))
        try:
            self.written += await qa_store.upsert_facts([CallRecord(**facts)], self.clock())
        except Exception as exc:  # QA facts are best effort: never disturb the call path
            log.warning("QA facts for %s not written: %s", facts.get("linkedid"), exc)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
