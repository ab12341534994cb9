"""Reminder and satisfaction calls on the real lab: Asterisk 22 Originates to the trunk, the PSTN
simulator (SIPp UAS on 127.0.0.1:5080) answers, presses keys, is busy or never answers."""

from __future__ import annotations

from pathlib import Path

from hotline.callbacks.model import JobStatus, Outcome
from hotline.callbacks.store import CallbackStore
from hotline.telephony.ami import AmiClient
from hotline.ticketing.connector import OutboxEvent
from hotline_lab.rtpcap import schedule, write_dtmf_pcap
from tests.integration.callbacks.conftest import Clock, hang_up_and_drain, start_phone
from tests.support.wait import until


async def _job(store: CallbackStore, job_id: str):
    return await store.get_job(job_id)


async def test_given_closed_work_order_when_citizen_presses_1_then_satisfied_goes_to_work_order_and_stats(
        make_dialler, store: CallbackStore, ami: AmiClient, workdir: Path) -> None:
    write_dtmf_pcap(workdir / "answer_dtmf.pcap", schedule("11", first_at_ms=2500, gap_ms=2500))
    phone = await start_phone("answer_dtmf", workdir, calls=1, duration_ms=300, timeout_s=60)
    published: list[OutboxEvent] = []

    async def publish(event: OutboxEvent) -> None:
        published.append(event)

    dialler = make_dialler(publish=publish)
    await dialler.start()
    try:
        job, created = await dialler.on_work_order_closed("WO-20250930-0001", "138 0013 8000", "housing_fund",
                                                          linkedid="1759197600.101")
        assert created
        done = await until(lambda: _done(store, job.job_id), timeout=40, what="the survey call to finish")
        assert done.status is JobStatus.DONE and done.rating == 1
        assert [a.outcome for a in done.history] == [Outcome.ANSWERED]
        await until(lambda: published, timeout=5, what="the work-order update")
        [event] = published
        assert event.kind == "work_order.updated"
        assert event.payload["satisfaction"] == "satisfied"
        assert event.payload["work_order_id"] == "WO-20250930-0001"
        assert event.linkedid == "1759197600.101"
        assert await store.satisfaction(["housing_fund"]) == {"housing_fund": {"satisfied": 1}}
        # a second close of the same work order makes no second call
        _again, created_again = await dialler.on_work_order_closed("WO-20250930-0001", "13800138000",
                                                                   "housing_fund")
        assert not created_again
    finally:
        await hang_up_and_drain(ami, "sat-WO-20250930-0001#", phone)
        await phone.stop()


async def _done(store: CallbackStore, job_id: str):
    job = await store.get_job(job_id)
    return job if not job.status.open else None


async def _status(store: CallbackStore, job_id: str, status: JobStatus, attempts: int):
    job = await store.get_job(job_id)
    return job if job.status is status and job.attempts == attempts else None


async def test_given_busy_citizen_when_reminder_dials_then_it_retries_at_the_busy_gap_until_attempts_run_out(
        make_dialler, store: CallbackStore, clock: Clock, workdir: Path) -> None:
    from hotline.callbacks.model import Job, JobKind, Message

    phone = await start_phone("busy", workdir, calls=3, timeout_s=60)
    dialler = make_dialler()
    await dialler.start()
    try:
        t0 = clock()
        job = Job("rem-busy-1", JobKind.REMINDER, "13900139000", created_at=t0, not_before_at=t0,
                  message=Message(prompts=("hello",)))
        await dialler.add(job)
        first = await until(lambda: _status(store, job.job_id, JobStatus.PENDING, 1), timeout=20,
                            what="first attempt busy")
        assert first.last_outcome is Outcome.BUSY
        assert first.next_at == t0 + 600  # the busy gap, inside the window
        clock.advance(599)
        dialler.wake()
        await until(lambda: dialler.ami.connected, timeout=1)
        assert (await store.get_job(job.job_id)).attempts == 1  # not before the gap
        clock.advance(1)
        dialler.wake()
        second = await until(lambda: _status(store, job.job_id, JobStatus.PENDING, 2), timeout=20,
                             what="second attempt busy")
        assert second.next_at == clock() + 600
        clock.advance(600)
        dialler.wake()
        last = await until(lambda: _status(store, job.job_id, JobStatus.FAILED, 3), timeout=20,
                           what="third attempt -> failed")
        assert [a.outcome for a in last.history] == [Outcome.BUSY] * 3
        assert dialler.originates == 3
        assert await phone.wait(15) == 0
    finally:
        await phone.stop()


async def test_given_phone_that_never_answers_when_reminder_dials_then_no_answer_gap_applies(
        make_dialler, store: CallbackStore, clock: Clock, workdir: Path) -> None:
    from hotline.callbacks.model import Job, JobKind, Message

    phone = await start_phone("ring_noanswer", workdir, calls=1, timeout_s=60)
    dialler = make_dialler()
    await dialler.start()
    try:
        t0 = clock()
        job = Job("rem-noanswer-1", JobKind.REMINDER, "13700137000", created_at=t0, not_before_at=t0,
                  message=Message(prompts=("hello",)))
        await dialler.add(job)
        after = await until(lambda: _status(store, job.job_id, JobStatus.PENDING, 1), timeout=30,
                            what="ring timeout -> no answer")
        assert after.last_outcome is Outcome.NO_ANSWER
        assert after.next_at == t0 + 1800
    finally:
        await phone.stop()
