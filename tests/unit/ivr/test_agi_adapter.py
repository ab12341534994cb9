"""The AsyncAGI adapter against a scripted in-memory AMI: type-ahead and AGI errors (no sockets)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from hotline.ivr.agi import IvrComponent
from hotline.ivr.menus import Menu
from hotline.ivr.settings import IvrConfig
from hotline.ivr.workorders import InMemoryWorkOrders
from hotline.queues.handover import QueueRequest
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiConnectionError, AmiNotConnected

from .conftest import OPEN

UID, LINKED, CHAN = "1700000000.1", "1700000000.1", "PJSIP/trunk-00000001"

@dataclass(frozen=True)
class Later:
    """Events emitted ``delay_s`` after the command's reply."""

    delay_s: float
    events: tuple[ev.DomainEvent, ...]


Reply = str | ev.DomainEvent | Later  # an AGI reply text, an event to emit in order, or later ones


class ScriptedAmi:
    """Answers each AGI action by the first script entry whose key starts the command line."""

    def __init__(self, script: dict[str, list[Reply]]) -> None:
        self.script = script
        self.handlers: list[Callable[..., None]] = []
        self.commands: list[str] = []
        self.actions: list[tuple[str, dict[str, str]]] = []

    def subscribe(self, handler: Callable[..., None]) -> None:
        self.handlers.append(handler)

    def emit(self, event: ev.DomainEvent) -> None:
        for h in self.handlers:
            h(None, event)

    async def action(self, name: str, fields: dict[str, str], *, timeout: float, check: bool = False) -> object:
        self.actions.append((name, dict(fields)))
        if name == "AGI":
            line = fields["Command"]
            self.commands.append(line)
            entry = next((v for k, v in self.script.items() if line.startswith(k)), ["200 result=0"])
            loop = asyncio.get_running_loop()
            for item in entry:
                if isinstance(item, Later):
                    for event in item.events:
                        loop.call_later(item.delay_s, self.emit, event)
                    continue
                event = item if not isinstance(item, str) else ev.AsyncAgiExecuted(
                    1.0, UID, LINKED, CHAN, command_id=fields["CommandID"], result=item)
                loop.call_soon(self.emit, event)
        return SimpleNamespace(ok=True, message="")


def key(digit: str, at: float = 1.0) -> ev.DtmfReceived:
    return ev.DtmfReceived(at, UID, LINKED, CHAN, digit=digit, direction="Received", duration_ms=120)


async def run_call(menu: Menu, script: dict[str, list[Reply]]) -> tuple[IvrComponent, ScriptedAmi, list[QueueRequest]]:
    ami = ScriptedAmi(script)
    handed: list[QueueRequest] = []

    async def hand_over(request: QueueRequest) -> None:
        handed.append(request)

    menus = SimpleNamespace(current=menu)
    ivr = IvrComponent(ami, menus, hand_over, work_orders=InMemoryWorkOrders(), announcements=None,  # type: ignore[arg-type]
                       config=IvrConfig(prompt_dir=None), clock=lambda: OPEN)
    ami.emit(ev.AsyncAgiStarted(1.0, UID, LINKED, CHAN, env={"agi_channel": CHAN, "agi_callerid": "13800000000"}))
    await ivr.wait_finished(UID, timeout=5)
    return ivr, ami, handed


async def test_given_reply_before_its_dtmfend_and_keys_during_welcome_then_each_key_used_once(menu: Menu) -> None:
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": ["200 result=2"],  # the reply first ...
        # ... the DTMFEnd of that "2" only now, then "1" and "3" pressed during the welcome
        "SET VARIABLE HOTLINE_LANGUAGE": [key("2"), key("1"), key("3"), "200 result=1"],
        "STREAM FILE hotline/yue/welcome": ["200 result=0 endpos=65000"],
    }
    ivr, ami, handed = await run_call(menu, script)

    rec = ivr.finished[-1]
    assert rec.path[-2:] == ("consultation", "consult_housing_fund"), rec
    assert handed[0].queue == "housing_fund" and handed[0].language == "yue"
    assert [c.split(" ")[2] for c in ami.commands if c.startswith(("GET DATA", "STREAM FILE"))] == [
        "hotline/zh/choose_language", "hotline/yue/welcome", "hotline/yue/transfer"]
    assert rec.keys_buffered == 2 and rec.keys_dropped == 0
    assert ivr.keys["by_asterisk"] == 1 and ivr.keys["from_buffer"] == 2


async def test_given_collect_when_part_of_number_typed_ahead_then_rest_awaited_as_dtmfend_without_agi(
    menu: Menu,
) -> None:
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1"), "200 result=1"],
        # "5" (work-order status) and half the number typed during the welcome, the rest just after
        "STREAM FILE hotline/zh/welcome": [*(key(k) for k in "5202510"), "200 result=0 endpos=65000",
                                           Later(0.05, tuple(key(k) for k in "09001#"))],
        # not found; "0" (operator) typed during that message
        "STREAM FILE hotline/zh/wo_not_found": [key("0"), "200 result=0"],
    }
    ivr, ami, handed = await run_call(menu, script)

    rec = ivr.finished[-1]
    assert rec.path[-4:] == ("wo_number", "wo_lookup", "after_status", "operator"), rec
    assert handed[0].variables == {"work_order_number": "20251009001"}
    assert not [c for c in ami.commands if "wo_enter_number" in c or "main_menu" in c or "after_status" in c]
    assert rec.keys_buffered == len("5202510" + "09001#" + "0")


async def test_given_510_reply_then_warning_with_linkedid_and_counted(menu: Menu,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="hotline.ivr")
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1"), "200 result=1"],
        "SET VARIABLE": ["510 Invalid or unknown command"],
        "GET DATA hotline/zh/main_menu": [key("0"), "200 result=0"],
    }
    ivr, _, handed = await run_call(menu, script)

    assert ivr.agi_errors == {510: 1}
    # /metrics: hotline_ivr_agi_errors
    assert ivr.gauges() == {"ivr_agi_errors": 1.0, "ivr_keys_dropped": 0.0, "ivr_ami_waits": 0.0}
    assert handed[0].queue == "general"
    assert any(LINKED in r.getMessage() and "SET VARIABLE" in r.getMessage() for r in caplog.records)


async def test_given_hash_alone_at_main_menu_then_invalid_prompt_not_no_input(menu: Menu) -> None:
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1"), "200 result=1"],
        "GET DATA hotline/zh/main_menu": [key("#"), "200 result="],
        "STREAM FILE hotline/zh/invalid": [key("0"), "200 result=48 endpos=100"],
    }
    ivr, ami, handed = await run_call(menu, script)

    assert any(c.startswith("STREAM FILE hotline/zh/invalid") for c in ami.commands)
    assert not any("no_input" in c for c in ami.commands)
    assert handed[0].queue == "general"
    assert ivr.finished[-1].keys_buffered == 0


# The two demo-run-0307 callers that missed their queue, replayed from ami.log (AGIExecStart commands,
# AsyncAGIExec replies, DTMFEnd Direction Received). Each pressed 3 keys (SIPp pcap); Asterisk reported 2:
# the third key's RFC 4733 packets were lost at Asterisk's RTP socket while the lab stalled (RTCPSent
# Report0CumulativeLost 0 -> 308 resp. 0 -> 107 across the key's instant). The IVR did the right thing
# with the keys it got, and its record says how many arrived.

async def test_given_call_52_third_key_never_reported_then_consultation_waits_and_record_shows_two_keys(
    menu: Menu,
) -> None:
    hangup = ev.ChannelHungUp(2.0, UID, LINKED, CHAN, cause=16)
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1", 9.94), "200 result=1"],
        # "1" (main menu: consultation) typed while the welcome played 27.7 s on the stalled lab
        "STREAM FILE hotline/zh/welcome": [key("1", 30.94), "200 result=0 endpos=65775"],
        # "1" (consultation: commerce) pressed at 51.3 s: no DTMFEnd ever came
        "GET DATA hotline/zh/consultation_menu": ["200 result= (timeout)"],
        # the caller's SIPp ends the call during the retry (ami.log: the second GET DATA answered -1)
        "STREAM FILE hotline/zh/no_input": ["200 result=0 endpos=25018", hangup],
    }
    ivr, ami, handed = await run_call(menu, script)

    rec = ivr.finished[-1]
    assert not handed and rec.outcome == "caller_hung_up" and rec.node == "consultation", rec
    assert not any("main_menu" in c for c in ami.commands)  # the typed-ahead "1" answered it
    assert rec.keys_received == 2 and rec.keys_buffered == 1 and ivr.keys["by_asterisk"] == 1


async def test_given_call_48_second_key_never_reported_then_third_key_taken_by_main_menu_once(menu: Menu) -> None:
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1", 12.65), "200 result=1"],
        "STREAM FILE hotline/zh/welcome": ["200 result=0 endpos=65775"],
        # "1" (consultation) pressed at 35.5 s never reported; "5" meant for the consultation menu (transport)
        # lands in the main menu: work-order status
        "GET DATA hotline/zh/main_menu": [key("5", 72.41), "200 result=5"],
        "GET DATA hotline/zh/wo_enter_number": ["200 result= (timeout)"],
        "STREAM FILE hotline/zh/no_input": ["200 result=0 endpos=25018"],
        "GET DATA hotline/zh/after_status_menu": ["200 result= (timeout)"],
        "STREAM FILE hotline/zh/goodbye": ["200 result=0 endpos=31047"],
        "EXEC Hangup": ["200 result=-1"],
    }
    ivr, ami, handed = await run_call(menu, script)

    rec = ivr.finished[-1]
    assert not handed and rec.node == "goodbye" and "wo_number" in rec.path, rec
    assert [c.split(" ")[2] if c.startswith(("GET DATA", "STREAM FILE")) else c for c in ami.commands] == [
        "hotline/zh/choose_language", "SET VARIABLE HOTLINE_LANGUAGE zh", "hotline/zh/welcome",
        "hotline/zh/main_menu", "hotline/zh/wo_enter_number", "hotline/zh/no_input", "hotline/zh/wo_enter_number",
        "hotline/zh/no_input", "hotline/zh/wo_enter_number", "hotline/zh/after_status_menu", "hotline/zh/goodbye",
        "EXEC Hangup 16"]  # as in ami.log: the "5" used once, never again from the buffer
    assert rec.keys_received == 2 and rec.keys_buffered == 0 and ivr.keys["by_asterisk"] == 2


class BlippingAmi(ScriptedAmi):
    """AMI that is down (reconnecting) for the first ``down`` actions, then back after ``wait_connected``."""

    def __init__(self, script: dict[str, list[Reply]], down: int, comes_back: bool = True) -> None:
        super().__init__(script)
        self.down = down
        self.comes_back = comes_back
        self.waits = 0

    async def action(self, name: str, fields: dict[str, str], *, timeout: float, check: bool = False) -> object:
        if self.down > 0:
            self.down -= 1
            raise AmiNotConnected(f"AMI not connected: cannot send {name}")
        return await super().action(name, fields, timeout=timeout, check=check)

    async def wait_connected(self, timeout: float, fail_fast: bool = False) -> None:
        self.waits += 1
        if not self.comes_back:
            raise AmiConnectionError(f"not connected within {timeout:.1f}s")
        self.down = 0


async def _run_blipping(menu: Menu, ami: BlippingAmi) -> tuple[IvrComponent, list[QueueRequest]]:
    handed: list[QueueRequest] = []

    async def hand_over(request: QueueRequest) -> None:
        handed.append(request)

    ivr = IvrComponent(ami, SimpleNamespace(current=menu), hand_over, work_orders=InMemoryWorkOrders(),  # type: ignore[arg-type]
                       announcements=None, config=IvrConfig(prompt_dir=None, ami_wait_s=1.0), clock=lambda: OPEN)
    ami.emit(ev.AsyncAgiStarted(1.0, UID, LINKED, CHAN, env={"agi_channel": CHAN, "agi_callerid": "13800000000"}))
    await ivr.wait_finished(UID, timeout=5)
    return ivr, handed


async def test_given_ami_reconnecting_when_the_caller_is_handed_over_then_setvar_waits_and_the_call_is_queued(
    menu: Menu,
) -> None:
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1"), "200 result=1"],
        "GET DATA hotline/zh/main_menu": [key("0"), "200 result=0"],
    }
    ami = BlippingAmi(script, down=0)
    async def action(name: str, fields: dict[str, str], *, timeout: float, check: bool = False) -> object:
        if name == "Setvar" and ami.waits == 0:
            ami.down = 3  # AMI drops just as the caller reaches the queue node
        return await BlippingAmi.action(ami, name, fields, timeout=timeout, check=check)

    ami.action = action  # type: ignore[method-assign]
    ivr, handed = await _run_blipping(menu, ami)

    assert ami.waits == 1 and ivr.ami_waits == 1
    assert [q.queue for q in handed] == ["general"]
    assert ivr.finished[-1].outcome == "queued"
    assert [n for n, _ in ami.actions].count("Redirect") == 1


async def test_given_ami_down_longer_than_ami_wait_then_handover_fails_and_is_counted_as_such(menu: Menu) -> None:
    script: dict[str, list[Reply]] = {
        "GET DATA hotline/zh/choose_language": [key("1"), "200 result=1"],
        "GET DATA hotline/zh/main_menu": [key("0"), "200 result=0"],
    }
    ami = BlippingAmi(script, down=0, comes_back=False)

    async def action(name: str, fields: dict[str, str], *, timeout: float, check: bool = False) -> object:
        if name == "Setvar":
            ami.down = 1
        return await BlippingAmi.action(ami, name, fields, timeout=timeout, check=check)

    ami.action = action  # type: ignore[method-assign]
    ivr, handed = await _run_blipping(menu, ami)

    assert handed == [] and ivr.finished[-1].outcome == "handover_failed"
    assert any("hand-over to hold failed" in w for w in ivr.finished[-1].warnings)
