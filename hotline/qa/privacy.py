"""Privacy for reviewers (pure): masking personal numbers, safe recording paths, signed media links.

**Masking.** Reviewers see phone numbers and ID-card numbers masked, in transcripts and on every
page. :func:`mask_text` finds runs of digits written as ASCII, full-width (``１３８``) or Chinese
numerals (``一三八``, ``幺`` and ``两`` included, as ASR writes spoken numbers), separated or not
by spaces and hyphens (Vosk puts a space between words; Chinese text has none), and masks:

* mainland mobiles, ``1[3-9]`` + 9 digits, optionally after ``86``/``+86``: keeps the first 3 and
  last 4 digits (``138****8000``);
* landlines, ``0`` + 2-3 digit area code + 7-8 digits (10-12 digits): keeps the area code and the
  last 2 digits; a bare 7-8 digit number is masked too when ``电话``/``号码``/``座机``/``手机``/``热线``
  precedes it within 6 characters (``010`` hotlines like 12345 are 5 digits and kept);
* resident ID cards, 17 digits + a digit or ``X``: keeps the first 3 and the last 2 characters (the
  checksum is not verified: ASR errors must not leak an ID).

Each masked character becomes ``*`` and nothing else changes length, so word timestamps and
offsets stay valid (:func:`mask_words` masks numbers spoken across several Vosk words).

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
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from hotline.qa.errors import BadMediaLink, PathEscape

_CN_DIGITS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
              "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_SEPARATORS = " \u3000-‐‑–—"
_PHONE_CONTEXT = re.compile(r"(电话|号码|座机|手机|热线|联系方式)[^\d一二三四五六七八九零〇幺两]{0,6}$")


def _digit(ch: str) -> str | None:
    if ch in _CN_DIGITS:
        return _CN_DIGITS[ch]
    n = unicodedata.normalize("NFKC", ch)
    return n if len(n) == 1 and "0" <= n <= "9" else None


def _runs(text: str) -> list[tuple[list[int], str]]:
    """Maximal runs of digits (separators allowed inside): (positions of the digit chars, digits)."""
    runs: list[tuple[list[int], str]] = []
    i, n = 0, len(text)
    while i < n:
        if _digit(text[i]) is None:
            i += 1
            continue
        pos: list[int] = []
        digits = ""
        j = i
        while j < n:
            d = _digit(text[j])
            if d is not None:
                pos.append(j)
                digits += d
                j += 1
            elif text[j] in "xX" and len(digits) == 17:
                pos.append(j)
                digits += "X"
                j += 1
                break
            elif text[j] in _SEPARATORS and j + 1 < n and (_digit(text[j + 1]) is not None or
                                                           (text[j + 1] in "xX" and len(digits) == 17)):
                j += 1
            else:
                break
        runs.append((pos, digits))
        i = j
    return runs


def _keep(digits: str, before: str) -> tuple[int, int] | None:
    """How many leading and trailing digits to keep, or None to leave the run alone."""
    if len(digits) == 18 and digits[:17].isdigit():
        return 3, 2
    d = digits
    prefix = 0
    if len(d) == 13 and d.startswith("86"):
        d, prefix = d[2:], 2
    if len(d) == 11 and d[0] == "1" and d[1] in "3456789":
        return prefix + 3, 4
    if d.isdigit() and d[0] == "0" and 10 <= len(d) <= 12:
        area = 3 if d[1] in "12" else 4  # 010, 02x are 3 digits with the 0; others 4
        return area, 2
    if d.isdigit() and 7 <= len(d) <= 8 and _PHONE_CONTEXT.search(before):
        return 0, 2
    return None


def mask_text(text: str) -> str:
    """Mask mobile, landline and ID-card numbers in ``text`` (same length out; see the module docstring)."""
    out = list(text)
    for pos, digits in _runs(text):
        keep = _keep(digits, text[max(0, pos[0] - 12): pos[0]])
        if keep is None:
            continue
        head, tail = keep
        for p in pos[head: len(pos) - tail]:
            out[p] = "*"
    return "".join(out)


def mask_words(words: Sequence[str]) -> list[str]:
    """Mask numbers spoken across several words (Vosk tokens): masks the space-joined text, splits it back."""
    joined = " ".join(words)
    masked = mask_text(joined)
    out: list[str] = []
    at = 0
    for w in words:
        out.append(masked[at: at + len(w)])
        at += len(w) + 1
    return out


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
