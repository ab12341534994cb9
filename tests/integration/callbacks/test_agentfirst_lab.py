"""Agent-first keep-my-place callbacks on the lab (``callback_mode: agent_first``): a Local placeholder
is queued in the real routing component, the agent (seats 1256-1258, an answering SIPp phone farm)
answers first, then the citizen is dialled on the PSTN simulator (127.0.0.1:5080) and talks to the
agent through the placeholder; a busy citizen ends the agent's call normally (wrap-up, then ready,
never "missed") and the request is retried at the busy / no-answer gap; a placeholder left behind
by a restart is hung up and the request retried."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from hotline.callbacks.component import routing_connect
from hotline.callbacks.dialler import Dialler
from hotline.callbacks.keepplace import CallbackRequest, RequestStatus
from hotline.callbacks.model import Job, JobStatus, Outcome
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.queues.dispatch import Dispatcher
from hotline.queues.model import AgentStatus
from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import Leg
from tests.integration.callbacks.conftest import hang_up_and_drain, start_phone
from tests.integration.queues.conftest import Lab, citizen_number, lab, write_agents  # noqa: F401  (lab: fixture)
from tests.support.wait import until


async def agent_first(lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore,  # noqa: F811
                      cb_settings: CallbacksSettings, seat: str) -> tuple[Dispatcher, Dialler, CallbackRequest]:
    """A ready agent on ``seat``, a routing component, an agent-first dialler wired to it and one open
    request at the front of ``commerce`` (nobody else waits)."""
    agents = write_agents(tmp_path, f"  - {{id: '{seat}', skills: {{commerce: 5}}}}\n")
    await lab.phones("answer", [int(seat)], calls=2)
    d = await lab.dispatcher(agents)
    await d.login(seat)
    await d.ready(seat)
    settings = cb_settings.model_copy(update={"windows": ("00:00-00:00",), "callback_mode": "agent_first"})
    dialler = Dialler(ami, store, settings, waiting_calls=d.waiting, connect=routing_connect(d.enqueue, 1000))
    d.subscribe_answered(dialler.on_agent_answered)
    now = time.time()
    request = CallbackRequest(request_id=f"cb-af{uuid.uuid4().hex[:10]}", number=citizen_number(), queue="commerce",
                              linkedid="af-test", enqueued_at=now - 60, requested_at=now - 30, mode="agent_first")
    stored, created = await dialler.request_callback(request)
    assert created and stored.mode == "agent_first"
    return d, dialler, request


async def test_given_agent_first_callback_at_the_front_when_agent_answers_then_citizen_dialled_and_bridged(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore,  # noqa: F811
        cb_settings: CallbacksSettings) -> None:
    seat = "1256"
    d, dialler, request = await agent_first(lab, tmp_path, ami, store, cb_settings, seat)
    citizen = await start_phone("answer", tmp_path, calls=1, duration_ms=300, timeout_s=90)
    try:
        await dialler.start()
        job = await until(lambda: dialler.flight.get(f"cb-{request.request_id}"), timeout=10, what="the attempt")
        one = job.meta["one"]
        on_call = await until(lambda: d.agent_state(seat).status is AgentStatus.ON_CALL and d.agent_state(seat),
                              timeout=30, what="the agent bridged to the placeholder")
        assert on_call.linkedid == one  # routing owns the agent: the placeholder is its queued call
        closed = await until(lambda: _closed(store, request.request_id), timeout=30, what="the request done")
        assert closed.status is RequestStatus.DONE
        done = await store.get_job(f"cb-{request.request_id}")
        assert done.status is JobStatus.DONE and done.attempts == 1 and done.last_outcome is Outcome.ANSWERED

        citizen_leg = await until(lambda: _answered_citizen_leg(d, one), timeout=10, what="the citizen's leg answered")
        agent_leg = _agent_leg(d, seat)
        # the order the mode promises: the agent answered before the citizen's phone was even dialled
        assert agent_leg.answered_at is not None and agent_leg.answered_at <= citizen_leg.created_at
        assert d.agent_state(seat).status is AgentStatus.ON_CALL  # still talking, now to the citizen

        # the citizen hangs up: the agent's call ends normally (wrap-up, then ready)
        await ami.action("Hangup", {"Channel": citizen_leg.uniqueid}, timeout=5, check=True)
        await until(lambda: d.agent_state(seat).status is AgentStatus.READY, timeout=15, what="agent ready again")
    finally:
        await dialler.stop()
        await hang_up_and_drain(ami, "cb-cb-af", citizen)


@pytest.mark.parametrize(("phone", "outcome", "gap_s"), [("busy", Outcome.BUSY, 600),
                                                         ("ring_noanswer", Outcome.NO_ANSWER, 1800)])
async def test_given_agent_first_callback_when_citizen_busy_or_no_answer_then_agent_ready_and_retry_scheduled(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore,  # noqa: F811
        cb_settings: CallbacksSettings, phone: str, outcome: Outcome, gap_s: float) -> None:
    seat = "1257"
    d, dialler, request = await agent_first(lab, tmp_path, ami, store, cb_settings, seat)
    citizen = await start_phone(phone, tmp_path, calls=1, timeout_s=60)  # the dial rings for ring_timeout_s (4 s)
    try:
        await dialler.start()
        job_id = f"cb-{request.request_id}"
        retried = await until(lambda: _job_status(store, job_id, JobStatus.PENDING), timeout=30,
                              what="the busy attempt closed and a retry scheduled")
        one = str(retried.meta["one"])
        # the agent answered first (a 486 ends the call at once: ON_CALL may last only milliseconds)
        agent_leg = _agent_leg(d, seat)
        citizen_leg = next(lg for lg in d.tracker.model.legs.values()
                           if lg.linkedid == one and lg.channel.startswith("PJSIP/trunk"))
        assert agent_leg.answered_at is not None and agent_leg.answered_at <= citizen_leg.created_at
        assert citizen_leg.answered_at is None
        assert retried.last_outcome is outcome and retried.attempts == 1
        assert retried.next_at is not None and retried.next_at >= time.time() + gap_s - 60  # the outcome's gap
        assert (await store.get_request(request.request_id)).status is RequestStatus.CALLING  # keeps its turn
        # the placeholder ended, so did the agent's call: wrap-up then ready, never NOT_READY "missed"
        seen: list[AgentStatus] = []

        def ready() -> bool:
            st = d.agent_state(seat)
            seen.append(st.status)
            return st.status is AgentStatus.READY

        await until(ready, timeout=15, what="agent ready again")
        assert AgentStatus.NOT_READY not in seen
        counters = d.metrics.daily(d.metrics.local_day(time.time()), "commerce")
        assert counters.abandoned == 0
    finally:
        await dialler.stop()
        await hang_up_and_drain(ami, "cb-cb-af", citizen)


async def _closed(store: CallbackStore, request_id: str) -> CallbackRequest | None:
    r = await store.get_request(request_id)
    return r if not r.status.pending else None


async def _job_status(store: CallbackStore, job_id: str, status: JobStatus) -> Job | None:
    j = await store.get_job(job_id)
    return j if j.status is status else None


def _agent_leg(d: Dispatcher, seat: str) -> Leg:
    """The leg routing originated to the seat (its ``ChannelId`` is ``hlq-...``)."""
    return next(lg for lg in d.tracker.model.legs.values()
                if lg.uniqueid.startswith("hlq-") and lg.channel.startswith(f"PJSIP/{seat}-"))


def _answered_citizen_leg(d: Dispatcher, one: str) -> Leg | None:
    """The leg the placeholder's ;2 half dialled (same linkedid as the placeholder), once answered."""
    found = [lg for lg in d.tracker.model.legs.values()
             if lg.linkedid == one and lg.channel.startswith("PJSIP/trunk") and lg.answered_at is not None]
    return found[0] if found else None


async def test_given_placeholder_waiting_for_an_agent_when_service_restarts_then_hung_up_and_retried(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore,  # noqa: F811
        cb_settings: CallbacksSettings) -> None:
    seat = "1258"
    d, dialler, request = await agent_first(lab, tmp_path, ami, store, cb_settings, seat)
    await d.pause(seat, "break")  # nobody takes the placeholder: it keeps waiting in routing
    job_id = f"cb-{request.request_id}"
    try:
        await dialler.start()
        job = await until(lambda: _job_status(store, job_id, JobStatus.IN_CALL), timeout=10,
                          what="the placeholder up and queued")
        one = job.meta["one"]
        await until(lambda: [w for w in d.waiting() if w.linkedid == one], timeout=10, what="placeholder waiting")
        await dialler.stop()  # the service stops; the placeholder is left behind in Asterisk

        again = Dialler(ami, store, dialler.settings, waiting_calls=d.waiting,
                        connect=routing_connect(d.enqueue, 1000))
        d.subscribe_answered(again.on_agent_answered)  # the restarted service's dialler (the stopped one stays idle)
        await again.start()
        try:
            retried = await until(lambda: _job_status(store, job_id, JobStatus.PENDING), timeout=15,
                                  what="the left-over attempt closed and a retry scheduled")
            assert retried.last_outcome is Outcome.FAILED and retried.attempts == 1
            await until(lambda: d.tracker.model.legs.get(one) is None or d.tracker.model.legs[one].ended_at,
                        timeout=10, what="the placeholder hung up")
            await until(lambda: not [w for w in d.waiting() if w.linkedid == one], timeout=10,
                        what="the placeholder out of routing")
            assert (await store.get_request(request.request_id)).status is RequestStatus.CALLING
        finally:
            await again.stop()
    finally:
        await dialler.stop()
        await hang_up_and_drain(ami, "cb-cb-af")
