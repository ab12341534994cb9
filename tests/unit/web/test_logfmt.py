"""Phone numbers are masked in logs; JSON lines carry the linkedid."""

from __future__ import annotations

import json
import logging

import pytest

from hotline.web.logfmt import JsonFormatter, MaskingFilter, mask_phone_numbers


@pytest.mark.parametrize(("text", "masked"), [
    ("caller 13800138000 queued", "caller 138****8000 queued"),
    ("+8613912345678", "+86139****5678"),
    ("from 0757-83201234 ok", "from 0757-****1234 ok"),
    ("uniqueid 1767225600.12 linkedid 1767225600.11", "uniqueid 1767225600.12 linkedid 1767225600.11"),
    ("12345 hotline", "12345 hotline"),
    ("seat 1272 rang", "seat 1272 rang"),
    ("张先生 15012345678 投诉", "张先生 150****5678 投诉"),
])
def test_given_text_with_numbers_when_masked_then_only_phone_numbers_change(text: str, masked: str) -> None:
    assert mask_phone_numbers(text) == masked


def test_given_record_with_args_and_extra_when_formatted_then_json_line_is_masked_with_linkedid() -> None:
    record = logging.LogRecord("hotline.x", logging.INFO, __file__, 1, "call from %s", ("13800138000",), None)
    record.linkedid = "1767225600.11"
    record.caller = "13912345678"
    assert MaskingFilter().filter(record)
    out = json.loads(JsonFormatter().format(record))
    assert out["msg"] == "call from 138****8000"
    assert out["linkedid"] == "1767225600.11"
    assert out["caller"] == "139****5678"


def test_given_linkedid_in_message_when_formatted_then_it_becomes_a_field() -> None:
    record = logging.LogRecord("hotline.x", logging.WARNING, __file__, 1, "handler failed (linkedid=17.5)", (), None)
    assert json.loads(JsonFormatter().format(record))["linkedid"] == "17.5"
