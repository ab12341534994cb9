"""The one masker of citizens' numbers (pure, no I/O): logs, QA pages and transcripts, the API, exports.

:func:`mask_numbers` finds runs of digits in free text and replaces the private digits with ``*``,
one ``*`` per masked character, so the output has the same length and keeps every other character
of the input as it was (word timestamps and offsets of transcripts stay valid).

**What counts as a digit.** ASCII digits, full-width digits (``１３８``, via ``unicodedata`` NFKC) and
Chinese numerals ``零〇一二三四五六七八九幺两`` (ASR writes spoken numbers that way; a run of
Chinese numerals is only ever masked when it reads as 7 or more digits forming a number below).
A run may contain separators between digits: spaces (ASCII and ideographic; ASR often writes a
number digit by digit with spaces), hyphens and dashes, and round brackets, full-width forms
included (``（０７５７）８３２０－１２３４``), at most 3 separator characters in a row. Colons, dots and
commas end a run, so times ``10:30``, money ``¥1,200`` and uniqueids ``1767225600.12`` are left alone.

**What is masked** (the digit counts are after removing the separators):

* mainland mobiles, ``1[3-9]`` + 9 digits, optionally after ``86`` / ``+86`` / ``0086``: the first 3
  and last 4 digits of the mobile stay (``138****5678``, ``+86 139****5678``);
* landlines, ``0`` + area code + 7-8 digits (10-12 digits): the area code (3 characters for
  ``010``/``02x``, else 4) and the last 4 digits stay; a bare 7-8 digit number is masked (last 4 kept)
  when ``电话``/``号码``/``座机``/``手机``/``热线``/``联系方式`` precedes it within 6 characters;
* resident ID numbers, 17 digits + a digit or ``X``: everything but the last 4 characters (the
  checksum is not verified: an ASR error must not leak an ID); any run of 18 or more digits is
  treated the same way (an ID followed by more digits);
* in a run of 12-17 digits that is none of the above and has separators or Chinese numerals in it:
  a mobile, landline or ID number once at most 2 digits are cut off each end
  (``13800138000一直打不通``), else one that starts and ends at a separator or where the writing
  changes between Chinese numerals and digits (``13800138000 1272``); if none, a run with Chinese
  numerals is masked but for the last 4 (a spoken number next to another numeral,
  ``一一三八零零一三八零零零``). Plain 12-17 digit strings (timestamps in logs) are left alone.

Never left readable: 7 consecutive digits of a masked number. Left alone: the 12345 hotline itself
and other short numbers, dates (``2026-12-07``), work-order ids, 7-8 digit numbers without a phone
word before them, digit runs of 12-17 digits with no number inside (e.g. millisecond timestamps).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

__all__ = ["mask_numbers", "mask_words"]

_CN_DIGITS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
              "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_SEPARATORS = frozenset(" \u3000\u00a0-‐‑‒–—()")
_MAX_SEPARATORS = 3
_PHONE_CONTEXT = re.compile(r"(电话|号码|座机|手机|热线|联系方式)[^\d０-９一二三四五六七八九零〇幺两]{0,6}$")
_MOBILE = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_ASCII_DIGIT = re.compile(r"[0-9]")


def _digit(ch: str) -> str | None:
    """The ASCII digit ``ch`` stands for, or None."""
    if ch < "\x80":
        return ch if "0" <= ch <= "9" else None
    if ch in _CN_DIGITS:
        return _CN_DIGITS[ch]
    n = unicodedata.normalize("NFKC", ch)
    return n if len(n) == 1 and "0" <= n <= "9" else None


def _is_x(ch: str) -> bool:
    if ch < "\x80":
        return ch in "xX"
    return unicodedata.normalize("NFKC", ch) in ("x", "X")


def _is_separator(ch: str) -> bool:
    return ch in _SEPARATORS or unicodedata.normalize("NFKC", ch) in _SEPARATORS


class _Run:
    """One run: the normalised digits, the index of each digit in the original text, and where the
    separators fell (``breaks``: digit indexes at which a new chunk starts, after a separator or where
    the writing changes between Chinese numerals and digits)."""

    __slots__ = ("any_cn", "breaks", "digits", "pos")

    def __init__(self) -> None:
        self.digits = ""
        self.pos: list[int] = []
        self.breaks: set[int] = {0}
        self.any_cn = False  # some digit written as a Chinese numeral


def _runs(text: str) -> list[_Run]:
    """Maximal runs of digits in ``text`` (separators allowed between digits; an ``X`` may end an ID)."""
    runs: list[_Run] = []
    i, n = 0, len(text)
    while i < n:
        if _digit(text[i]) is None:
            i += 1
            continue
        run = _Run()
        j = i
        while j < n:
            d = _digit(text[j])
            if d is not None:
                if run.pos and (text[j] in _CN_DIGITS) != (text[run.pos[-1]] in _CN_DIGITS):
                    run.breaks.add(len(run.digits))  # 13800138000一直...: the script changes, a chunk ends
                run.any_cn = run.any_cn or text[j] in _CN_DIGITS
                run.digits += d
                run.pos.append(j)
                j += 1
                continue
            if _is_x(text[j]) and len(run.digits) == 17:
                run.digits += "X"
                run.pos.append(j)
                j += 1
                break
            k = j
            while k < n and k - j < _MAX_SEPARATORS and _is_separator(text[k]):
                k += 1
            if k > j and k < n and (_digit(text[k]) is not None or (_is_x(text[k]) and len(run.digits) == 17)):
                run.breaks.add(len(run.digits))
                j = k
                continue
            break
        runs.append(run)
        i = j
    return runs


def _is_id(d: str) -> bool:
    return len(d) == 18 and d[:17].isdigit()


def _keep(d: str, before: str) -> tuple[int, int] | None:
    """(leading, trailing) digits of ``d`` left readable, or None when ``d`` is not a number to mask."""
    if _is_id(d):
        return 0, 4
    if not d.isdigit():
        return None
    if _MOBILE.fullmatch(d):
        return len(d) - 11 + 3, 4
    if d[0] == "0" and 10 <= len(d) <= 12 and d[1] != "0":
        return (3 if d[1] in "12" else 4), 4
    if 7 <= len(d) <= 8 and _PHONE_CONTEXT.search(before):
        return 0, 4
    return None


def _spans(run: _Run, before: str) -> list[tuple[int, int]]:
    """Digit-index spans ``[a, b)`` of ``run`` to replace with ``*``."""
    d = run.digits
    keep = _keep(d, before)
    if keep is not None:
        return [(keep[0], len(d) - keep[1])]
    if len(d) >= 18:  # an ID number followed (or preceded) by more digits: never leave it readable
        return [(0, len(d) - 4)]
    if len(d) < 12 or (len(run.breaks) < 2 and not run.any_cn):
        return []  # a plain digit string (millisecond timestamps, ids): left alone
    return _trimmed(run) or _chunked(run, before) or ([(0, len(d) - 4)] if run.any_cn else [])


def _trimmed(run: _Run) -> list[tuple[int, int]]:
    """A mobile, landline or ID number once at most 2 digits are cut off each end of a 12-17 digit run
    (``13800138000一直``, ``1 3 8 0 0 1 3 8 0 0 0一``), the smallest cut first."""
    d = run.digits
    for cut in range(1, 5):
        for lo in range(max(0, cut - 2), min(cut, 2) + 1):
            hi = len(d) - (cut - lo)
            k = _keep(d[lo:hi], "")
            if k is not None:
                return [(lo + k[0], hi - k[1])]
    return []


def _chunked(run: _Run, before: str) -> list[tuple[int, int]]:
    """Numbers that start and end at chunk boundaries of a 12-17 digit run (``13800138000 1272``)."""
    d = run.digits
    bounds = sorted(run.breaks | {len(d)})
    spans: list[tuple[int, int]] = []
    a = 0
    while a < len(bounds) - 1:
        found = False
        for b in range(len(bounds) - 1, a, -1):
            lo, hi = bounds[a], bounds[b]
            k = _keep(d[lo:hi], before if lo == 0 else "")
            if k is not None and hi - lo >= 7:
                spans.append((lo + k[0], hi - k[1]))
                a, found = b, True
                break
        if not found:
            a += 1
    return spans


def mask_numbers(text: str) -> str:
    """``text`` with the private digits of mobiles, landlines and ID numbers replaced by ``*``.

    Same length as ``text``; only masked digit characters change (see the module docstring for the
    rules). Pure and total: any ``str`` in, no exception.
    """
    if text.isascii() and len(_ASCII_DIGIT.findall(text)) < 7:  # fast path for most log lines
        return text
    out: list[str] | None = None
    for run in _runs(text):
        if len(run.digits) < 7:
            continue
        for a, b in _spans(run, text[max(0, run.pos[0] - 12): run.pos[0]]):
            if out is None:
                out = list(text)
            for p in run.pos[a:b]:
                out[p] = "*"
    return text if out is None else "".join(out)


def mask_words(words: Sequence[str]) -> list[str]:
    """Mask numbers spoken across several words (Vosk tokens): masks the space-joined text, splits it back.

    One output word per input word, each of the same length as its input.
    """
    joined = " ".join(words)
    masked = mask_numbers(joined)
    out: list[str] = []
    at = 0
    for w in words:
        out.append(masked[at: at + len(w)])
        at += len(w) + 1
    return out
