"""Privacy for reviewers (pure): masking personal numbers, safe recording paths, signed media links.

**Masking.** Reviewers see phone numbers and ID-card numbers masked, in transcripts and on every
page, by the one masker :func:`hotline.kernel.masking.mask_numbers` (re-exported here as
:func:`mask_text`, with :func:`mask_words` for numbers spoken across several Vosk words); see that
module for the rules. The output has the input's length, so word timestamps and offsets stay valid.

**Paths.** :func:`resolve_under` turns a stored recording path into a real file under the
storage root, or raises :class:`~hotline.qa.errors.PathEscape`.

**Media links.** Recording URLs are HMAC-SHA256-signed, expiring, and bound to one user and one
assignment (:func:`sign_media` / :func:`check_media`): not guessable, not shareable, not replayable
after ``exp``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from urllib.parse import unquote

from hotline.kernel.masking import mask_numbers
from hotline.kernel.masking import mask_words as mask_words  # re-exported for the QA pages
from hotline.qa.errors import BadMediaLink, PathEscape

#: the one masker (:mod:`hotline.kernel.masking`), under the names the QA pages use
mask_text = mask_numbers


def resolve_under(root: str | os.PathLike[str], stored: str) -> Path:
    """The real file for a stored recording path, guaranteed to be under ``root``.

    Args:
        root: the recordings' storage root.
        stored: the path as stored in the catalog, relative to ``root``.
    Returns:
        The resolved path (symlinks followed) of an existing regular file under ``root``.
    Raises:
        PathEscape: empty, NUL byte, backslash, absolute, ``..`` (also percent-encoded, once or
            several times), a symlink resolving outside ``root``, or not an existing file.
    """
    if not stored or "\x00" in stored:
        raise PathEscape(stored, "empty or NUL byte")
    decoded = stored
    for _ in range(5):  # %252e%252e -> %2e%2e -> ..
        nxt = unquote(decoded)
        if nxt == decoded:
            break
        decoded = nxt
    if "\x00" in decoded or "\\" in decoded:
        raise PathEscape(stored, "NUL byte or backslash")
    if decoded.startswith("/") or os.path.isabs(decoded):
        raise PathEscape(stored, "absolute path")
    if any(part == ".." for part in decoded.split("/")):
        raise PathEscape(stored, "parent directory (..)")
    base = Path(root).resolve()
    try:
        real = (base / decoded).resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise PathEscape(stored, "no such recording") from exc
    if not real.is_relative_to(base):
        raise PathEscape(stored, "resolves outside the storage root (symlink)")
    if not real.is_file():
        raise PathEscape(stored, "not a regular file")
    return real


def sign_media(key: bytes, user: str, assignment_id: int, exp: int) -> str:
    """The signature of a media link: hex HMAC-SHA256 of ``f"{user}|{assignment_id}|{exp}"``.

    Args:
        key: the secret (32 random bytes, ``QaConfig.media_key_file``).
        exp: epoch seconds after which the link is refused.
    """
    return hmac.new(key, f"{user}|{assignment_id}|{exp}".encode(), hashlib.sha256).hexdigest()


def check_media(key: bytes, user: str, assignment_id: int, exp: int, sig: str, now: float) -> None:
    """Accept a media link or raise BadMediaLink (wrong signature, other user, or ``now > exp``)."""
    if not hmac.compare_digest(sign_media(key, user, assignment_id, exp), sig):
        raise BadMediaLink("media link signature does not match this user and assignment")
    if now > exp:
        raise BadMediaLink("media link expired")
