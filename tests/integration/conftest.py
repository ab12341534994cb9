"""Integration fixtures: the real lab (Asterisk 22 in its chroot, Redis, Mosquitto).

The lab is brought up once per test session through ``hotline.lab.up`` (idempotent: a
few hundred ms when it is already running). Nothing is skipped: if the lab cannot start,
the tests fail with the lab's own error (step name and log tail).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from hotline.app.config import AmiConfig, LabConfig, Settings
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline_lab import lab


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def lab_config(settings: Settings) -> LabConfig:
    return settings.lab.model_copy(update={"with_rt": False})


@pytest.fixture(scope="session")
def lab_up(settings: Settings, lab_config: LabConfig) -> Iterator[dict[str, str]]:
    """The lab's services, started if needed (left running for the next session)."""
    yield lab.up(lab_config, settings.ami, progress=lambda s: print(f"lab: {s}"))


@pytest.fixture
def asterisk(lab_up: dict[str, str], settings: Settings, lab_config: LabConfig) -> lab.LabPaths:
    """Asterisk running (restarted if an earlier test stopped it); returns the lab paths."""
    paths = lab.LabPaths(lab_config.root)
    lab.start_asterisk(lab_config, paths, settings.ami)
    return paths


@pytest.fixture
def ami_config(settings: Settings) -> AmiConfig:
    """Fast timeouts so fault tests finish quickly."""
    return settings.ami.model_copy(update={"ping_interval_s": 1.0, "action_timeout_s": 5.0,
                                           "reconnect_min_s": 0.2, "reconnect_max_s": 2.0})


@pytest.fixture
async def tracked(asterisk: lab.LabPaths, ami_config: AmiConfig) -> AsyncIterator[CallTracker]:
    """A connected AMI client with a call tracker on it."""
    client = AmiClient(ami_config)
    tracker = CallTracker(client)
    await client.start()
    await client.wait_connected(timeout=15)
    yield tracker
    await client.stop()
