"""Shared fixtures for the IVR unit tests: the sample menu and instants on the Shanghai clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.ivr.menus import Menu, load_menu

EXAMPLES = Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples"
SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> float:
    """Epoch seconds of a Shanghai wall-clock time."""
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH).timestamp()


OPEN = at(2025, 10, 9, 10)  # Thursday after Golden Week, 10:00
CLOSED = at(2025, 10, 9, 23)  # same day, 23:00
HOLIDAY = at(2025, 10, 1, 10)  # National Day


@pytest.fixture(scope="session")
def menu() -> Menu:
    return load_menu(EXAMPLES / "12345.yaml")
