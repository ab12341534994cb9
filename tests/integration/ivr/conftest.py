"""The IVR on the real lab: AsyncAGI over the lab Asterisk, SIPp callers pressing RFC 4733 keys.

Each test builds its own :class:`hotline.ivr.agi.IvrComponent` on a fresh AMI connection. It drives only
calls from caller numbers starting with ``CALLER_PREFIX`` (other engineers' tests share this
Asterisk), runs the sample menu with the lab's synthesized prompts, and a clock pinned to a
working-day morning (so the schedule node always says "open"). Announcements live in the private
``redis_server``; work orders in the in-memory stand-in.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.app.config import AmiConfig
from hotline.ivr.agi import IvrComponent
from hotline.ivr.announcement_store import AnnouncementStore
from hotline.ivr.menu_watch import MenuWatcher
from hotline.ivr.settings import EXAMPLES, IvrConfig
from hotline.ivr.workorders import InMemoryWorkOrders
from hotline.kernel.redisutil import connect
from hotline.queues.handover import QueueRequest
from hotline.telephony.ami import AmiClient
from hotline.telephony.frames import AmiMessage
from hotline_lab import lab

CALLER_PREFIX = "1390121"  # this suite's callers: 1390121xxxx (seat range 1211-1230 of the brief)
OPEN_AT = dt.datetime(2025, 10, 9, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()  # Thursday 10:00
_numbers = itertools.count(int(time.time()) % 10000)


def caller_number() -> str:
    """A fresh caller number of this suite."""
    return f"{CALLER_PREFIX}{next(_numbers) % 10000:04d}"


@dataclass
class IvrLab:
    """What a test drives and observes."""

    ivr: IvrComponent
    ami: AmiClient
    handed: list[QueueRequest]
    work_orders: InMemoryWorkOrders
    store: AnnouncementStore
    sounds: Path
    raw: list[AmiMessage] = field(default_factory=list)

    def events(self, name: str, uniqueid: str) -> list[AmiMessage]:
        """Raw AMI events ``name`` of one leg, in arrival order."""
        return [m for m in self.raw if m.get("Event") == name and m.get("Uniqueid") == uniqueid]

    def uniqueid_of(self, caller: str) -> str | None:
        for m in self.raw:
            if m.get("Event") == "AsyncAGIStart" and m.get("CallerIDNum") == caller:
                return str(m.get("Uniqueid"))
        return None


@pytest.fixture
def sounds(asterisk: lab.LabPaths) -> Path:
    """The lab's sound folder, with the sample prompts made (idempotent)."""
    lab.make_prompts(asterisk)
    return asterisk.chroot / "usr/share/asterisk/sounds"


@pytest.fixture
async def ivr_lab(sounds: Path, ami_config: AmiConfig, redis_server, tmp_path: Path) -> AsyncIterator[IvrLab]:
    ami = AmiClient(ami_config)
    raw: list[AmiMessage] = []
    keep = {"AsyncAGIStart", "AsyncAGIExec", "AsyncAGIEnd", "AGIExecStart", "DTMFEnd", "Newexten", "VarSet",
            "Hangup"}

    def record(msg: AmiMessage | None, event: object) -> None:
        if msg is not None and msg.get("Event") in keep and str(msg.get("CallerIDNum", "")).startswith(CALLER_PREFIX):
            raw.append(msg)

    ami.subscribe(record)
    handed: list[QueueRequest] = []

    async def hand_over(request: QueueRequest) -> None:
        handed.append(request)

    cfg = IvrConfig(prompt_dir=sounds, caller_prefixes=(CALLER_PREFIX,), reload_interval_s=0.5)
    menus = MenuWatcher(EXAMPLES / "12345.yaml", prompt_dir=sounds, interval_s=cfg.reload_interval_s)
    redis = connect(redis_server.url, call_timeout_s=2.0, decode_responses=True)
    store = AnnouncementStore(redis, f"test:{tmp_path.name}:ivr:announcements")
    work_orders = InMemoryWorkOrders()
    t0 = time.time()
    ivr = IvrComponent(ami, menus, hand_over, work_orders=work_orders, announcements=store, config=cfg,
                       clock=lambda: OPEN_AT + (time.time() - t0))
    await ami.start()
    await ami.wait_connected(timeout=15)
    await ivr.start()
    yield IvrLab(ivr, ami, handed, work_orders, store, sounds, raw)
    await ivr.stop()
    await ami.stop()
    await redis.aclose()
