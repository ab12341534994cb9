"""Work order resolved in the lab RT -> the ticketing side announces it (ticketing.closed) -> the
callbacks component calls the citizen (PSTN simulator on 127.0.0.1:5080 presses 1) -> the rating
is written to the ticket's ``Satisfaction`` custom field (read back from RT: RT answers 200 even
for a field it drops) and counted for the department."""

from __future__ import annotations

import uuid
from pathlib import Path

from hotline.callbacks.component import CallbacksComponent
from hotline.callbacks.model import JobStatus
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.telephony.ami import AmiClient
from hotline.ticketing.closed import ClosedWatcher, WorkOrderClosed
from hotline.ticketing.rt import FIELD_SATISFACTION, RtClient, RtConnector, custom_field_values
from hotline_lab.rtpcap import schedule, write_dtmf_pcap
from tests.integration.callbacks.conftest import hang_up_and_drain, start_phone
from tests.integration.ticketing.conftest import http, rt_client, rt_lab  # noqa: F401  (fixtures)
from tests.support.wait import until


async def test_given_work_order_resolved_in_rt_when_citizen_presses_1_then_satisfied_is_on_the_ticket_and_counted(
        make_dialler, store: CallbackStore, ami: AmiClient, cb_settings: CallbacksSettings, workdir: Path,
        rt_client: RtClient) -> None:  # noqa: F811
    linkedid = f"hotline-test-{uuid.uuid4().hex[:12]}"
    ticket_id = await rt_client.create_ticket(
        "commerce", "survey test", custom_fields={"Linkedid": linkedid, "Caller Number": "13900139000",
                                                  "Call Type": "complaint"})
    connector = RtConnector(rt_client)  # the outbox's RT sink, called directly
    write_dtmf_pcap(workdir / "answer_dtmf.pcap", schedule("11", first_at_ms=2500, gap_ms=2500))
    phone = await start_phone("answer_dtmf", workdir, calls=1, duration_ms=300, timeout_s=60)
    dialler = make_dialler(publish=connector.deliver)
    component = CallbacksComponent(dialler, store, cb_settings)
    watcher = ClosedWatcher(lambda: rt_client, interval_s=0.5, lookback_s=0)
    ours: list[WorkOrderClosed] = []

    async def only_ours(closed: WorkOrderClosed) -> None:
        # the lab RT is shared: other tests resolve tickets too; this test follows its own work order
        if closed.work_order_id == linkedid:
            ours.append(closed)
            await component.on_work_order_closed(closed)

    watcher.subscribe(only_ours)
    await component.start()
    await watcher.start()
    try:
        await rt_client.set_status(ticket_id, "resolved")  # the department closes the work order
        job = await until(lambda: _finished(store, f"sat-{linkedid}"), timeout=60,
                          what="the survey call to end")
        assert job.status is JobStatus.DONE and job.rating == 1
        assert job.meta["department"] == "commerce"

        async def rated() -> list[str] | None:
            values = custom_field_values(await rt_client.get_ticket(ticket_id)).get(FIELD_SATISFACTION)
            return values or None

        assert await until(rated, timeout=15, what="Satisfaction on the ticket") == ["satisfied"]
        assert await store.satisfaction(["commerce"]) == {"commerce": {"satisfied": 1}}
        await watcher.sweep()  # seen again: no second announcement, no second call
        assert len(ours) == 1 and ours[0].caller_number == "13900139000" and dialler.originates == 1
    finally:
        await watcher.stop()
        await component.stop()
        await hang_up_and_drain(ami, f"sat-{linkedid}#", phone)
        await phone.stop()


async def _finished(store: CallbackStore, job_id: str):
    job = await store.get_job(job_id)
    return job if not job.status.open else None
