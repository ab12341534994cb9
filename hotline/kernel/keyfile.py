"""Secret keys kept in files: read one, or create it (mode 0600) on first use."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def load_or_create_key(path: Path, what: str = "key", nbytes: int = 32) -> bytes:
    """The ``nbytes``-byte key in ``path`` (url-safe base64, one line), created on first use.

    A missing file (and its folder) is created with ``nbytes`` random bytes, mode 0600 from the
    start (``O_EXCL``: two processes starting together never overwrite each other's key; the loser
    fails with ``FileExistsError``). Blocking: call at start, not on the event loop.

    Args:
        path: the key file (e.g. ``web.session_key_file``, ``qa.media_key_file``).
        what: the key's name in the error message (``"session key"``, ``"QA media key"``).
        nbytes: the key's length in bytes.
    Returns:
        The raw key, ``nbytes`` long.
    Raises:
        OSError: the file cannot be read or created.
        ValueError: the file does not hold ``nbytes`` bytes of url-safe base64.
    """
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = base64.urlsafe_b64encode(secrets.token_bytes(nbytes))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw + b"\n")
    try:
        key = base64.urlsafe_b64decode(raw)
    except ValueError:  # binascii.Error: bad padding or characters
        key = b""
    if len(key) != nbytes:
        raise ValueError(f"{path}: the {what} must be {nbytes} bytes of url-safe base64")
    return key
