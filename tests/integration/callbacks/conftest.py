"""Fixtures for the callbacks integration tests: the lab Asterisk, a private Redis, a controllable
clock, and the PSTN simulator (SIPp UAS on 127.0.0.1:5080, which only these tests use)."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.app.config import AmiConfig
from hotline.callbacks.dialler import Dialler
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore, open_store
from hotline.telephony.ami import AmiClient, AmiError
from hotline_lab import lab
from hotline_lab.sipp import SippRun, start_sipp
from tests.support.servers import ServerProcess
from tests.support.wait import until

PSTN_PORT = 5080  # where the lab trunk sends outbound calls (asterisk_conf/pjsip.conf)
#: callbacks' seats for tests (other engineers use other ranges at the same time)
SEATS = range(1251, 1271)


class Clock:
    """A controllable epoch-seconds clock: starts on a working Tuesday 10:00 Asia/Shanghai."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        start = start or dt.datetime(2025, 9, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(redis_server: ServerProcess) -> AsyncIterator[CallbackStore]:
    s = open_store(redis_server.url, prefix=f"hotline:test:{uuid.uuid4().hex[:8]}:callbacks:")
    yield s
    await s.close()


@pytest.fixture
async def ami(asterisk: lab.LabPaths, ami_config: AmiConfig) -> AsyncIterator[AmiClient]:
    client = AmiClient(ami_config)
    await client.start()
    await client.wait_connected(timeout=15)
    yield client
    await client.stop()


@pytest.fixture
def cb_settings() -> CallbacksSettings:
    """Whole-day windows (the clock decides), short retry gaps, short ring timeout."""
    return CallbacksSettings(windows=("08:00-22:00",), ring_timeout_s=4.0, tick_s=0.2,
                             retry_gaps_s={"busy": 600, "no_answer": 1800, "congestion": 300, "failed": 900},
                             max_attempts=3)


@pytest.fixture
async def make_dialler(ami: AmiClient, store: CallbackStore, cb_settings: CallbacksSettings,
                       clock: Clock) -> AsyncIterator[Callable[..., Dialler]]:
    made: list[Dialler] = []

    def make(**kwargs: object) -> Dialler:
        d = Dialler(ami, kwargs.pop("store", store), kwargs.pop("settings", cb_settings),  # type: ignore[arg-type]
                    clock=clock, **kwargs)  # type: ignore[arg-type]
        made.append(d)
        return d

    yield make
    for d in made:
        await d.stop()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def udp_bound(port: int) -> bool:
    """True when a UDP socket is bound to ``port`` (read from /proc/net/udp: probing by binding
    would race with SIPp's own bind)."""
    suffix = f":{port:04X}"
    with open("/proc/net/udp") as f:
        return any(line.split()[1].endswith(suffix) for line in f.readlines()[1:])


async def start_phone(scenario: str, workdir: Path, **kwargs: object) -> SippRun:
    """Start the PSTN simulator (SIPp UAS) on 127.0.0.1:5080 and wait until it listens.

    Raises:
        AssertionError: something else already holds 5080 (a SIPp left over by an aborted run).
    """
    assert not udp_bound(PSTN_PORT), "UDP 5080 is busy before the test: a SIPp left over from an aborted run?"
    run = await start_sipp(scenario, workdir, port=PSTN_PORT, **kwargs)  # type: ignore[arg-type]
    await until(lambda: udp_bound(PSTN_PORT), timeout=10, what="SIPp listening on 5080")
    return run


async def hang_up_and_drain(ami: AmiClient, account_prefix: str, *runs: SippRun) -> None:
    """End a test's calls cleanly: hang up every channel whose AccountCode (the attempt id) starts
    with ``account_prefix``, then let the SIPp phones see their BYE and exit (else Asterisk keeps
    retransmitting the BYE to 5080 and the next test's phone takes it for a call)."""
    resp = await ami.action("CoreShowChannels", timeout=5)
    for m in resp.events:
        if m.text("AccountCode").startswith(account_prefix):
            with contextlib.suppress(AmiError):
                await ami.action("Hangup", {"Channel": m.text("Channel")}, timeout=5)  # names: cleanup only
    for run in runs:
        with contextlib.suppress(TimeoutError):
            await run.wait(15)
