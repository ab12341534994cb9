"""Menu reload without restart: a broken menu is refused with every problem logged, the old one kept."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from hotline.ivr.menu_watch import MenuWatcher
from hotline.ivr.settings import EXAMPLES


def _write(path: Path, text: str, bump_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_ns))  # a new mtime even within one clock tick


async def test_given_invalid_yaml_when_reloading_then_refused_problems_logged_and_previous_menu_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    menu_file = tmp_path / "12345.yaml"
    good = (EXAMPLES / "12345.yaml").read_text(encoding="utf-8")
    _write(menu_file, good, 0)
    watcher = MenuWatcher(menu_file, interval_s=0.1)
    first = await watcher.load()
    assert await watcher.check() is None  # unchanged files: nothing reloaded

    broken = good.replace("    next: opening_hours", "    next: opening_hours\n  bad: [unclosed", 1)
    broken = broken.replace('"1": consult_commerce', '"1": no_such_node', 1)
    _write(menu_file, broken, 1_000_000)
    with caplog.at_level(logging.WARNING, logger="hotline.ivr.menus"):
        outcome = await watcher.check()

    assert outcome is not None and not outcome.accepted
    assert watcher.current is first
    refused = [r.getMessage() for r in caplog.records if "reload refused" in r.getMessage()]
    assert refused and len(refused) == len(outcome.problems)
    assert all(str(menu_file) in line for line in refused)
    assert await watcher.check() is None  # the same broken files are not re-read every poll

    _write(menu_file, good.replace("priority: 7\n    prompt: complaint_transfer", "priority: 8\n    prompt: "
                                   "complaint_transfer"), 2_000_000)
    outcome = await watcher.check()
    assert outcome is not None and outcome.accepted
    assert watcher.current is not first and watcher.current.nodes["complaint"].priority == 8
    assert first.nodes["complaint"].priority == 7  # a call that started on the old menu keeps it unchanged


async def test_given_semantic_error_in_reloaded_menu_then_every_problem_is_reported_with_node_path(
    tmp_path: Path,
) -> None:
    menu_file = tmp_path / "12345.yaml"
    good = (EXAMPLES / "12345.yaml").read_text(encoding="utf-8")
    _write(menu_file, good, 0)
    watcher = MenuWatcher(menu_file)
    await watcher.load()
    bad = good.replace('"1": consult_commerce', '"1": nowhere', 1).replace("queue: complaints", "queue: 7", 1)
    bad = bad.replace("    hours: agents", "    hours: nightshift", 1)
    _write(menu_file, bad, 1_000_000)

    outcome = await watcher.reload()

    assert not outcome.accepted
    text = "\n".join(outcome.problems)
    assert "nowhere" in text and "nightshift" in text
    assert watcher.current.id == "foshan-12345"
