"""Restart of the dialler with pending work, and a keep-my-place callback bridged to an agent,
on the real lab (Asterisk 22, SIPp phones: the citizen on 127.0.0.1:5080, agent seats 1251-1270)."""

from __future__ import annotations

from pathlib import Path

from hotline.app.config import AmiConfig
from hotline.callbacks.dialler import Dialler, direct_agent_connect
from hotline.callbacks.keepplace import CallbackRequest, RequestStatus
from hotline.callbacks.model import Job, JobKind, JobStatus, Message, Outcome
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.telephony.ami import AmiClient
from hotline.telephony.frames import AmiMessage
from hotline_lab.sipp import register_seats, start_sipp
from tests.integration.callbacks.conftest import SEATS, Clock, hang_up_and_drain, start_phone
from tests.support.wait import until


async def test_given_pending_and_ringing_work_when_dialler_restarts_then_nothing_lost_nothing_redialled(
        make_dialler, store: CallbackStore, clock: Clock, cb_settings: CallbacksSettings, ami_config: AmiConfig,
        workdir: Path) -> None:
    phone = await start_phone("ring_noanswer", workdir, calls=1, timeout_s=60)
    settings = cb_settings.model_copy(update={"ring_timeout_s": 6.0})
    first = make_dialler(settings=settings)
    t0 = clock()
    later = [Job(f"rem-later-{i}", JobKind.REMINDER, "13800138000", created_at=t0, not_before_at=t0 + 3600,
                 message=Message(prompts=("hello",))) for i in range(3)]
    for job in later:
        await first.add(job)
    request = CallbackRequest("cb-restart-1", "13600136000", "commerce", linkedid="restart-1", enqueued_at=t0 - 300,
                              requested_at=t0)
    await first.request_callback(request)
    await first.start()
    ringing = Job("rem-ringing", JobKind.REMINDER, "13700137001", created_at=t0, not_before_at=t0,
                  message=Message(prompts=("hello",)))
    await first.add(ringing)
    await until(lambda: _status(store, "rem-ringing", JobStatus.DIALING), timeout=10, what="the call to ring")
    await first.stop()  # the service goes away while the citizen's phone rings

    ami2 = AmiClient(ami_config)  # a new process has a new AMI session: it never sees the old OriginateResponse
    await ami2.start()
    await ami2.wait_connected(timeout=15)
    second = Dialler(ami2, store, settings, clock=clock)
    try:
        await second.start()
        done = await until(lambda: _status(store, "rem-ringing", JobStatus.PENDING), timeout=20,
                           what="the ringing attempt to end after the restart")
        assert done.attempts == 1 and [a.outcome for a in done.history] == [Outcome.NO_ANSWER]
        assert done.next_at == clock() + 1800
        assert first.originates + second.originates == 1  # re-attached, never re-sent
        jobs = {j.job_id: j for j in await store.all_jobs()}
        assert set(jobs) == {"rem-ringing", "rem-later-0", "rem-later-1", "rem-later-2"}
        assert all(jobs[f"rem-later-{i}"].status is JobStatus.PENDING for i in range(3))
        assert all(jobs[f"rem-later-{i}"].next_at == t0 + 3600 for i in range(3))
        [kept] = await store.requests()
        assert kept.request_id == "cb-restart-1" and kept.status is RequestStatus.OPEN
        again, created = await second.request_callback(
            CallbackRequest("cb-restart-2", "13600136000", "commerce", linkedid="restart-2", enqueued_at=t0,
                            requested_at=t0 + 10))
        assert not created and again.request_id == "cb-restart-1"  # the same citizen calling again
    finally:
        await second.stop()
        await ami2.stop()
        await phone.stop()


async def _status(store: CallbackStore, job_id: str, status: JobStatus) -> Job | None:
    job = await store.get_job(job_id)
    return job if job.status is status else None


async def test_given_callback_at_front_when_citizen_answers_then_bridged_to_agent_and_request_done(
        make_dialler, store: CallbackStore, clock: Clock, ami: AmiClient, workdir: Path) -> None:
    seat = str(SEATS[0])
    agents = await start_sipp("answer", workdir, calls=1, duration_ms=300, timeout_s=60)
    await register_seats([int(seat)], agents.port, workdir, expires=120)
    citizen = await start_phone("answer", workdir, calls=1, duration_ms=300, timeout_s=60)
    bridges: dict[str, set[str]] = {}

    def on_ami(msg: AmiMessage | None, _event: object) -> None:
        if msg is not None and msg.text("Event") == "BridgeEnter" and msg.text("AccountCode").startswith("cb-cb-1"):
            bridges.setdefault(msg.text("BridgeUniqueid"), set()).add(msg.text("Uniqueid"))

    ami.subscribe(on_ami)
    dialler = make_dialler(connect=direct_agent_connect(ami, lambda _r: seat, ring_timeout_s=10))
    await dialler.start()
    try:
        t0 = clock()
        req = CallbackRequest("cb-1", "13600136000", "commerce", linkedid="1759197000.5", enqueued_at=t0 - 200,
                              requested_at=t0 - 100)
        _stored, created = await dialler.request_callback(req)
        assert created
        both = await until(lambda: [b for b in bridges.values() if len(b) == 2], timeout=30,
                           what="citizen and agent in one bridge")
        assert len(both) == 1
        closed = await until(lambda: _request_closed(store, "cb-1"), timeout=10, what="request closed")
        assert closed.status is RequestStatus.DONE
        job = await store.get_job("cb-cb-1")
        assert job.status is JobStatus.DONE and job.attempts == 1
    finally:
        await hang_up_and_drain(ami, "cb-cb-1#", citizen, agents)


async def _request_closed(store: CallbackStore, rid: str) -> CallbackRequest | None:
    r = await store.get_request(rid)
    return r if not r.status.pending else None
