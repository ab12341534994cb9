"""Fixtures for recording tests: a fresh catalog per test (SQLite in tmp, migrated by Alembic).

The speech fixtures (``ko_model``, ``ko_clips``) are shared from the speech suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from recording.catalog import Catalog
from tests.integration.speech.conftest import ko_clips, ko_model  # noqa: F401  (shared fixtures)


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'catalog' / 'catalog.sqlite'}"


@pytest.fixture
async def catalog(catalog_url: str) -> AsyncIterator[Catalog]:
    cat = Catalog(catalog_url)
    await cat.upgrade()
    yield cat
    await cat.close()
