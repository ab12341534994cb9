"""The demo's menu copy is open around the clock (a demo at night must still reach agents)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.ivr.menus import load_menu
from hotline.kernel.calendar import status_at
from hotline_lab.demo import demo_menu_file

SAMPLE = Path(__file__).resolve().parents[3] / "hotline" / "ivr" / "examples" / "12345.yaml"


def test_given_the_sample_menu_when_copied_for_the_demo_then_every_hours_profile_is_open_at_3am_and_on_holidays(
        tmp_path: Path) -> None:
    menu = load_menu(demo_menu_file(SAMPLE, tmp_path / "menu.yaml"))
    sh = ZoneInfo("Asia/Shanghai")
    for when in (dt.datetime(2026, 12, 8, 3, 0, tzinfo=sh),        # a working day, at night
                 dt.datetime(2026, 10, 1, 23, 30, tzinfo=sh),      # National Day
                 dt.datetime(2026, 12, 12, 23, 59, tzinfo=sh)):    # a Saturday
        for hours in menu.hours.values():
            assert status_at(hours, when) == "open"
    # the original is untouched: closed at 03:00
    original = load_menu(SAMPLE)
    assert status_at(original.hours["agents"], dt.datetime(2026, 12, 8, 3, 0, tzinfo=sh)) == "closed"
