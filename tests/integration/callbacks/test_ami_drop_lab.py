"""The unknown rule on the real lab: the AMI connection goes silent right after an Originate; the
dialler does not re-send it, finds the ringing channel by its AccountCode after the reconnect, and
follows that same call to its end."""

from __future__ import annotations

from pathlib import Path

from hotline.app.config import AmiConfig
from hotline.callbacks.dialler import Dialler
from hotline.callbacks.model import Job, JobKind, JobStatus, Message, Outcome
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.telephony.ami import AmiClient
from tests.integration.callbacks.conftest import Clock, hang_up_and_drain, start_phone
from tests.support.proxy import SilenceableProxy
from tests.support.wait import until


async def _live(ami: AmiClient, account: str) -> bool:
    resp = await ami.action("CoreShowChannels", timeout=5)
    return any(m.text("AccountCode") == account for m in resp.events)


async def test_given_originate_sent_when_ami_goes_silent_then_not_resent_and_the_same_call_is_followed(
        ami: AmiClient, ami_config: AmiConfig, store: CallbackStore, clock: Clock, cb_settings: CallbacksSettings,
        workdir: Path) -> None:
    phone = await start_phone("answer", workdir, calls=1, duration_ms=8000, timeout_s=90)  # rings 8 s
    proxy = SilenceableProxy(ami_config.host, ami_config.port)
    await proxy.start()
    proxied = AmiClient(ami_config.model_copy(update={"port": proxy.port, "ping_interval_s": 1.0}))
    await proxied.start()
    await proxied.wait_connected(timeout=15)
    dialler = Dialler(proxied, store, cb_settings.model_copy(update={"ring_timeout_s": 30.0}), clock=clock)
    try:
        await dialler.start()
        t0 = clock()
        await dialler.add(Job("rem-drop-1", JobKind.REMINDER, "13500135000", created_at=t0, not_before_at=t0,
                              message=Message(prompts=("hello",))))
        await until(lambda: _live(ami, "rem-drop-1#1"), timeout=10, what="the call ringing")
        proxy.freeze()  # no OriginateResponse will ever reach this session
        await until(lambda: not proxied.connected, timeout=10, what="the dead connection detected")
        # the dialler learns of the drop from the client's disconnect callback, a moment later
        unknown = await until(lambda: _status_is(store, "rem-drop-1", JobStatus.UNKNOWN), timeout=10,
                              what="the in-flight attempt marked unknown")
        assert unknown.status is JobStatus.UNKNOWN
        proxy.thaw()
        done = await until(lambda: _closed(store, "rem-drop-1"), timeout=30, what="the same call answered and played")
        assert done.status is JobStatus.DONE and done.attempts == 1
        assert [a.outcome for a in done.history] == [Outcome.ANSWERED]
        assert dialler.originates == 1  # never re-sent
        assert proxy.connections >= 2  # it did reconnect
    finally:
        await dialler.stop()
        await proxied.stop()
        await proxy.close()
        await hang_up_and_drain(ami, "rem-drop-1#", phone)
        await phone.stop()


async def _status_is(store: CallbackStore, job_id: str, status: JobStatus) -> Job | None:
    job = await store.get_job(job_id)
    return job if job.status is status else None


async def _closed(store: CallbackStore, job_id: str) -> Job | None:
    job = await store.get_job(job_id)
    return job if not job.status.open else None
