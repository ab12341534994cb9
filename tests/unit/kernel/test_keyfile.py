"""load_or_create_key: the session key and the QA media key files."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from hotline.kernel.keyfile import load_or_create_key


def test_given_no_file_when_loaded_then_created_0600_and_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "media.key"
    key = load_or_create_key(path, "QA media key")
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.urlsafe_b64decode(path.read_bytes().strip()) == key
    assert load_or_create_key(path, "QA media key") == key


def test_given_nbytes_when_created_then_that_long(tmp_path: Path) -> None:
    assert len(load_or_create_key(tmp_path / "k", nbytes=16)) == 16


@pytest.mark.parametrize("content", [base64.urlsafe_b64encode(b"short"), b"not base64 at all!"])
def test_given_a_bad_key_file_when_loaded_then_value_error_names_the_file_and_key(
        tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "session.key"
    path.write_bytes(content + b"\n")
    with pytest.raises(ValueError, match=r"session\.key: the session key must be 32 bytes of url-safe base64"):
        load_or_create_key(path, "session key")


def test_given_an_unreadable_path_when_loaded_then_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_or_create_key(tmp_path)  # a directory
