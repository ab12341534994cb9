"""The real Request Tracker 5 of the lab, started (idempotently) by ``lab/rt.sh``.

``lab/rt.sh install && lab/rt.sh start`` runs once per session; the first run on a fresh machine
installs Debian packages (about 30 s with a warm apt cache), later runs take about 2 s. The
credentials come from ``$HOTLINE_RT_DIR/rt.env`` (default ``/var/lib/hotline/rt``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from hotline.ticketing.rt import RtClient, RtConnector

REPO = Path(__file__).resolve().parents[3]
RT_SH = REPO / "lab" / "rt.sh"
INSTALL_TIMEOUT_S = 900.0
START_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class RtLab:
    """The lab RT: its URL, credentials, and start/stop for fault tests."""

    url: str
    user: str
    password: str
    token: str
    state_dir: Path

    def run(self, command: str, timeout_s: float = START_TIMEOUT_S) -> None:
        """Run ``lab/rt.sh <command>``; fail the test with its output if it fails."""
        proc = subprocess.run(
            [str(RT_SH), command], capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if proc.returncode != 0:
            pytest.fail(f"lab/rt.sh {command} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.fixture(scope="session")
def rt_lab() -> Iterator[RtLab]:
    """Install (idempotent) and start the lab RT; leave it running for the next session."""
    if os.geteuid() != 0:
        pytest.skip("lab/rt.sh needs root (apt-get, /var/lib/hotline)")
    state = Path(os.environ.get("HOTLINE_RT_DIR", "/var/lib/hotline/rt"))
    lab = RtLab("", "", "", "", state)
    lab.run("install", INSTALL_TIMEOUT_S)
    lab.run("start")
    env = _read_env(state / "rt.env")
    yield RtLab(
        env["HOTLINE_RT_URL"], env["HOTLINE_RT_USER"], env["HOTLINE_RT_PASSWORD"],
        env.get("HOTLINE_RT_TOKEN", ""), state,
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session per test (the event loop is per test)."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def rt_client(rt_lab: RtLab, http: aiohttp.ClientSession) -> RtClient:
    """A REST2 client authenticated with the lab's token."""
    return RtClient(http, rt_lab.url, token=rt_lab.token, timeout_s=10.0)


@pytest.fixture
def rt_connector(rt_client: RtClient) -> RtConnector:
    """The RT sink over :func:`rt_client`."""
    return RtConnector(rt_client, ticket_wait_s=1.0)
