"""Mainland China phone numbers: validate and normalise what a citizen keyed in or a CSV holds. Pure.

Accepted (after removing spaces, ``-``, ``.``, parentheses, and a ``+86`` / ``0086`` / ``86``
country prefix):

* **mobile**: 11 digits ``1[3-9]xxxxxxxxx`` (e.g. ``13800138000``);
* **landline**: a trunk ``0`` + area code + subscriber number. Area codes ``10`` (Beijing) and
  ``2x`` (Shanghai, Guangzhou, ...) take an 8-digit subscriber (``010 12345678``: 11 digits);
  other area codes are 3 digits (``0755``, ``0757``) with a 7- or 8-digit subscriber (11-12
  digits). A subscriber number never starts with 0 or 1. After ``+86`` the trunk 0 is absent
  (``+86 10 1234 5678`` -> ``01012345678``); a ``+86 0...`` form is tolerated.

Rejected with a reason: empty, letters, other country codes, short service numbers (110, 12345,
95xxx), 12x mobile prefixes, wrong lengths.

The normalised form is digits only, national format, no prefix: what ``PJSIP/<number>@trunk``
dials and the key of "one open callback per number".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NumberKind = Literal["mobile", "landline"]

_SEPARATORS = re.compile(r"[\s\-.()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_SHORT_AREA = re.compile(r"0(10|2\d)([2-9]\d{7})")  # 010 / 02x + 8 digits
_LANDLINE_LONG_AREA = re.compile(r"0([3-9]\d{2})([2-9]\d{6,7})")  # 0xxx + 7-8 digits


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid mainland number. ``number``: national digits (``13800138000``, ``075712345678``)."""

    number: str
    kind: NumberKind
    area_code: str = ""  # landlines: with the trunk 0 (``0757``)


@dataclass(frozen=True, slots=True)
class NumberRejected:
    """Why ``raw`` is not a callable mainland number (a value, not an exception)."""

    raw: str
    reason: str


def parse_number(raw: str) -> PhoneNumber | NumberRejected:
    """Validate and normalise a mainland mobile or landline number.

    Args:
        raw: as keyed in (DTMF digits), typed in a CSV, or from ``CALLERID(num)``.
    Returns:
        :class:`PhoneNumber`, or :class:`NumberRejected` with a human-readable reason.
    """
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        return NumberRejected(raw, "empty")
    international = False
    if text.startswith("+"):
        if not text.startswith("+86"):
            return NumberRejected(raw, "not a mainland China number (country code other than +86)")
        text, international = text[3:], True
    elif text.startswith("0086"):
        text, international = text[4:], True
    elif text.startswith("86") and len(text) in (13, 12, 11) and not _MOBILE.fullmatch(text):
        text, international = text[2:], True
    elif text.startswith("00"):
        return NumberRejected(raw, "international number (00 prefix other than 0086)")
    if not text.isdigit():
        return NumberRejected(raw, "contains characters other than digits")
    if international and not text.startswith("0") and not _MOBILE.fullmatch(text):
        text = "0" + text  # +86 757 ... -> 0757 ..., +86 10 ... -> 010 ...
    if text.startswith("1"):
        if _MOBILE.fullmatch(text):
            return PhoneNumber(text, "mobile")
        if len(text) == 11:
            return NumberRejected(raw, f"mobile numbers start with 13-19, not {text[:2]}")
        if len(text) <= 6:
            return NumberRejected(raw, "a short service number, not a citizen's phone")
        return NumberRejected(raw, f"a mobile number has 11 digits, got {len(text)}")
    if text.startswith("0"):
        m = _LANDLINE_SHORT_AREA.fullmatch(text)
        if m:
            return PhoneNumber(text, "landline", "0" + m.group(1))
        if text[1:3] == "10" or text[1] == "2":
            return NumberRejected(raw, f"area code 0{text[1:3]} takes an 8-digit number not starting with 0/1")
        m = _LANDLINE_LONG_AREA.fullmatch(text)
        if m:
            return PhoneNumber(text, "landline", "0" + m.group(1))
        return NumberRejected(raw, "a landline needs an area code (0xx/0xxx) and a 7-8 digit number")
    if len(text) <= 6:
        return NumberRejected(raw, "a short service number, not a citizen's phone")
    return NumberRejected(raw, "a landline needs its area code (0xx/0xxx)")


def normalise_number(raw: str) -> str:
    """The national digits of a valid number.

    Raises:
        callbacks.errors.InvalidNumber: the number is not a mainland mobile or landline (``reason``).
    """
    from hotline.callbacks.errors import InvalidNumber

    parsed = parse_number(raw)
    if isinstance(parsed, NumberRejected):
        raise InvalidNumber(raw, parsed.reason)
    return parsed.number
