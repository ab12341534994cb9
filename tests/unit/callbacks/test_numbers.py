"""Mainland number validation: normalised forms and rejection reasons."""

from __future__ import annotations

import pytest

from hotline.callbacks.errors import InvalidNumber
from hotline.callbacks.numbers import NumberRejected, PhoneNumber, normalise_number, parse_number


@pytest.mark.parametrize(("raw", "number", "kind"), [
    ("13800138000", "13800138000", "mobile"),
    ("+86 138 0013 8000", "13800138000", "mobile"),
    ("008613800138000", "13800138000", "mobile"),
    ("8613800138000", "13800138000", "mobile"),
    ("199-0000-1111", "19900001111", "mobile"),
    ("010-62345678", "01062345678", "landline"),
    ("(020) 8765 4321", "02087654321", "landline"),
    ("+86 10 62345678", "01062345678", "landline"),
    ("0757 8123 4567", "075781234567", "landline"),
    ("07578123456", "07578123456", "landline"),
    ("+86 757 8123 4567", "075781234567", "landline"),
])
def test_given_mainland_number_when_parsed_then_normalised(raw: str, number: str, kind: str) -> None:
    parsed = parse_number(raw)
    assert isinstance(parsed, PhoneNumber)
    assert (parsed.number, parsed.kind) == (number, kind)


@pytest.mark.parametrize(("raw", "reason_part"), [
    ("", "empty"),
    ("abc", "digits"),
    ("+1 555 123 4567", "country code"),
    ("001 555 1234", "international"),
    ("12345678901", "13-19"),
    ("1380013800", "11 digits"),
    ("138001380001", "11 digits"),
    ("12345", "short service number"),
    ("110", "short service number"),
    ("010-1234567", "8-digit"),
    ("021-02345678", "8-digit"),
    ("0757812345", "7-8 digit"),
    ("075701234567", "7-8 digit"),
    ("62345678", "area code"),
])
def test_given_bad_number_when_parsed_then_rejected_with_reason(raw: str, reason_part: str) -> None:
    parsed = parse_number(raw)
    assert isinstance(parsed, NumberRejected)
    assert reason_part in parsed.reason


def test_given_bad_number_when_normalised_then_invalid_number_says_why() -> None:
    with pytest.raises(InvalidNumber) as info:
        normalise_number("12345")
    assert info.value.reason.startswith("a short service number")
