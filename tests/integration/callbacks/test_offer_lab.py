"""The callback offer on the real lab: a waiting caller (SIPp with RFC 4733 DTMF on the test line
12399, parked in hotline-hold) is redirected into the offer, presses keys, and is called back on
the PSTN simulator (127.0.0.1:5080) and bridged to an agent (seats 1254-1256)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from hotline.callbacks.component import CallbacksComponent, routing_connect
from hotline.callbacks.dialler import Dialler
from hotline.callbacks.keepplace import RequestStatus
from hotline.callbacks.plugin import RoutingLinks, build_offers
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.queues.dispatch import Dispatcher
from hotline.queues.exceptions import CallNotQueued
from hotline.queues.model import AgentStatus
from hotline.telephony.ami import AmiClient
from hotline.telephony.calls import Leg
from hotline_lab.rtpcap import Digit, schedule
from hotline_lab.sipp import start_dtmf_caller
from tests.integration.callbacks.conftest import SEATS, hang_up_and_drain, start_phone
from tests.integration.queues.conftest import Lab, lab, request_for, write_agents  # noqa: F401  (lab: fixture)
from tests.support.wait import until


def _number() -> str:
    return f"139{random.randrange(10**8):08d}"


async def _parked(d: Dispatcher, number: str) -> Leg | None:
    for lg in d.tracker.model.legs.values():
        if lg.caller_num == number and lg.channel.startswith("PJSIP/trunk") and lg.state == "Up":
            return lg
    return None


def _ended(d: Dispatcher, uniqueid: str) -> bool:
    leg = d.tracker.model.legs.get(uniqueid)
    return leg is None or leg.ended_at is not None


def _component(ami: AmiClient, store: CallbackStore, settings: CallbacksSettings, d: Dispatcher) -> CallbacksComponent:
    """What build_callbacks makes and the wiring subscribes, on the test's dispatcher."""
    called_back: set[str] = set()
    dialler = Dialler(ami, store, settings, waiting_calls=d.waiting,
                      connect=routing_connect(d.enqueue, 1000, called_back))
    links = RoutingLinks.of(d)
    component = CallbacksComponent(dialler, store, settings, callback_requested=d.callback_requested,
                                   make_offers=lambda accept: build_offers(settings, ami, links, accept, called_back))
    assert component.offers is not None
    d.subscribe_offer_callback(component.offers.on_offer_callback)
    return component


def _settings(cb_settings: CallbacksSettings) -> CallbacksSettings:
    # the real clock (any time of day); offer at once: no agent is ready, so the EWT is unknown
    return cb_settings.model_copy(update={"windows": ("00:00-00:00",), "offer_ewt_s": 0.0, "offer_check_s": 0.3})


async def _through(the_lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore, settings: CallbacksSettings,
                   seat: str, digits: list[Digit], expected_number: str | None) -> None:
    agents = write_agents(tmp_path, f"  - {{id: '{seat}', skills: {{commerce: 5}}}}\n")
    await the_lab.phones("answer", [int(seat)], calls=2)
    d = await the_lab.dispatcher(agents)
    await d.login(seat)  # logged in, not ready: the caller waits and nobody can serve: EWT unknown
    component = _component(ami, store, settings, d)
    number = _number()
    caller = await start_dtmf_caller(tmp_path, number, digits, dial="12399", stay_ms=30000, timeout_s=90)
    the_lab.runs.append(caller)
    citizen = await start_phone("answer", tmp_path, calls=1, duration_ms=300, timeout_s=90)
    try:
        leg = await until(lambda: _parked(d, number), timeout=15, what=f"caller {number} parked in hotline-hold")
        await d.enqueue(request_for(leg, "commerce"))
        enqueued_at = next(w.enqueued_at for w in d.waiting() if w.linkedid == leg.linkedid)
        await component.start()
        offers = component.offers
        assert offers is not None
        outcome = await until(lambda: offers.outcomes.get(leg.linkedid), timeout=40,
                              what="the caller's keys to decide the offer")
        assert outcome.startswith("accepted"), outcome
        request = await store.get_request(f"cb-{leg.linkedid}")
        assert request.number == (expected_number or number)
        assert request.enqueued_at == enqueued_at  # the place in line is kept
        await until(lambda: not [w for w in d.waiting() if w.linkedid == leg.linkedid], timeout=5,
                    what="the caller to leave the queue")
        await until(lambda: _ended(d, leg.uniqueid), timeout=30, what="confirmation played and caller hung up")
        await d.ready(seat)
        on_call = await until(lambda: d.agent_state(seat).status is AgentStatus.ON_CALL and d.agent_state(seat),
                              timeout=40, what="the called-back citizen bridged to the agent")
        assert on_call.linkedid != leg.linkedid  # the call hotline placed to the citizen
        assert (await store.get_request(request.request_id)).status is RequestStatus.DONE
        assert await d.flush(5)
        counters = d.metrics.daily(d.metrics.local_day(time.time()), "commerce")
        assert counters.callbacks == 1 and counters.abandoned == 0
        log = (tmp_path / "routing.log").read_text()
        assert "CallbackRequested" in log and "CallAbandoned" not in log
    finally:
        await component.stop()
        await hang_up_and_drain(ami, "cb-cb-", citizen)


async def test_given_waiting_caller_offered_when_presses_1_then_called_back_at_that_number_and_bridged(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore, cb_settings: CallbacksSettings) -> None:  # noqa: F811
    await _through(lab, tmp_path, ami, store, _settings(cb_settings), str(SEATS[3]),
                   schedule("1", first_at_ms=6000, gap_ms=0), None)


async def test_given_caller_on_hold_when_presses_7_then_2_and_a_number_then_called_back_there(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore, cb_settings: CallbacksSettings) -> None:  # noqa: F811
    # no automatic offer (EWT offers off): the caller asks on hold with 7, then 2, then keys a number
    settings = _settings(cb_settings).model_copy(update={"offer_ewt_s": None})
    other = "13800138000"
    keys = schedule("7", first_at_ms=4000, gap_ms=0) + schedule("2", first_at_ms=8000, gap_ms=0) + \
        schedule(other + "#", first_at_ms=11000, gap_ms=400)
    await _through(lab, tmp_path, ami, store, settings, str(SEATS[4]), keys, other)


async def test_given_call_answered_before_acceptance_when_callback_accepted_then_refused_and_request_cancelled(
        lab: Lab, tmp_path: Path, ami: AmiClient, store: CallbackStore,  # noqa: F811  (lab: fixture)
        cb_settings: CallbacksSettings) -> None:
    agents = write_agents(tmp_path, f"  - {{id: '{SEATS[0]}', skills: {{commerce: 5}}}}\n")
    d = await lab.dispatcher(agents)
    component = _component(ami, store, _settings(cb_settings), d)
    linkedid = f"gone-{random.randrange(10**9)}"  # routing does not hold it: an agent's Bridge() took it
    try:
        await component.accept_callback(linkedid, _number(), "commerce", enqueued_at=time.time())
    except CallNotQueued as exc:
        assert exc.linkedid == linkedid
    else:
        raise AssertionError("a callback for a call routing no longer holds was accepted")
    request = await store.get_request(f"cb-{linkedid}")
    assert request.status is RequestStatus.CANCELLED  # never called back
    today = d.metrics.local_day(time.time())
    assert d.metrics.day_totals(today).callbacks == 0  # nor counted as a callback in the stats
