"""Fixtures shared by every suite. Integration fixtures live in tests/integration/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import ServerProcess, start_mosquitto, start_redis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A private Redis for this test session (its own port); stopped at the end."""
    srv = start_redis(Path(tmp_path_factory.mktemp("redis")))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def mosquitto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A private Mosquitto broker for this test session (its own port); stopped at the end."""
    srv = start_mosquitto(Path(tmp_path_factory.mktemp("mosquitto")))
    yield srv
    srv.stop()
