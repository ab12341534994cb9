"""Keep-my-place callback end to end with the real routing component: a waiting caller accepts a
callback (counted as a callback, not an abandon, and leaves the queue), hangs up, reaches the front,
is called back on the PSTN simulator (127.0.0.1:5080) and routed to the agent (seat 1253)."""

from __future__ import annotations

import time
from pathlib import Path

from hotline.callbacks.component import CallbacksComponent, routing_connect
from hotline.callbacks.dialler import Dialler
from hotline.callbacks.keepplace import RequestStatus
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.queues.model import AgentStatus
from hotline.telephony.ami import AmiClient
from tests.integration.callbacks.conftest import SEATS, hang_up_and_drain, start_phone
from tests.integration.queues.conftest import Lab, lab, request_for, write_agents  # noqa: F401  (lab: fixture)
from tests.support.wait import until

SEAT = str(SEATS[2])  # 1253


async def test_given_waiting_caller_accepts_callback_when_it_reaches_the_front_then_called_back_and_bridged(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore, cb_settings: CallbacksSettings) -> None:  # noqa: F811
    agents = write_agents(tmp_path, f"  - {{id: '{SEAT}', skills: {{commerce: 5}}}}\n")
    await lab.phones("answer", [int(SEAT)], calls=2)
    d = await lab.dispatcher(agents)
    await d.login(SEAT)  # logged in but not ready: the caller has to wait
    caller_run, leg = await lab.caller(d.tracker, talk_ms=4000)
    await d.enqueue(request_for(leg, "commerce"))
    await until(lambda: [w for w in d.waiting() if w.linkedid == leg.linkedid], timeout=5, what="caller waiting")
    enqueued_at = next(w.enqueued_at for w in d.waiting() if w.linkedid == leg.linkedid)

    settings = cb_settings.model_copy(update={"windows": ("00:00-00:00",)})  # the real clock: any time of day
    dialler = Dialler(ami, store, settings, waiting_calls=d.waiting, connect=routing_connect(d.enqueue, 1000))
    component = CallbacksComponent(dialler, store, settings, callback_requested=d._command)
    citizen = await start_phone("answer", tmp_path, calls=1, duration_ms=300, timeout_s=90)
    try:
        # the caller presses the key: their place is kept, routing counts a callback
        request, created = await component.accept_callback(leg.linkedid, leg.caller_num, "commerce",
                                                           enqueued_at=enqueued_at)
        assert created and request.enqueued_at == enqueued_at
        await until(lambda: not [w for w in d.waiting() if w.linkedid == leg.linkedid], timeout=5,
                    what="the caller to leave the queue")
        again, created_again = await component.accept_callback(leg.linkedid, leg.caller_num, "commerce")
        assert not created_again and again.request_id == request.request_id
        await caller_run.wait(30)  # the citizen hangs up and waits for the call back
        await component.start()
        await d.ready(SEAT)
        on_call = await until(lambda: d.agent_state(SEAT).status is AgentStatus.ON_CALL and d.agent_state(SEAT),
                              timeout=30, what="the called-back citizen bridged to the agent")
        job = await store.get_job(f"cb-{request.request_id}")
        assert on_call.linkedid != leg.linkedid  # a new call: the one hotline placed to the citizen
        assert job.attempts == 1 and job.status.value == "done"
        closed = await store.get_request(request.request_id)
        assert closed.status is RequestStatus.DONE
        today = d.metrics.local_day(time.time())
        counters = d.metrics.daily(today, "commerce")
        assert counters.callbacks == 1 and counters.abandoned == 0
    finally:
        await component.stop()
        await hang_up_and_drain(ami, "cb-cb-", citizen)
