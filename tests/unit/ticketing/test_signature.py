"""Webhook signatures: sign/verify round trip, tampering, replay, malformed headers."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.ticketing.errors import SignatureExpired, SignatureMismatch, SignatureMissing
from hotline.ticketing.signature import sign, verify

SECRET = "s3cret-共享"
BODY = '{"event_id":"e1","kind":"work_order.created","payload":{"subject":"噪音投诉"}}'.encode()
T = 1_759_284_000


def test_given_signed_body_when_verified_then_returns_timestamp() -> None:
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now=T + 5) == T


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"t={T},v1={expected}"


@pytest.mark.parametrize(
    "tampered",
    [BODY.replace(b"e1", b"e2"), BODY + b" ", BODY[:-1], b""],
)
def test_given_tampered_body_then_mismatch(tampered: bytes) -> None:
    with pytest.raises(SignatureMismatch):
        verify(SECRET, sign(SECRET, T, BODY), tampered, now=T)


def test_given_wrong_secret_then_mismatch() -> None:
    with pytest.raises(SignatureMismatch):
        verify("other", sign(SECRET, T, BODY), BODY, now=T)


def test_given_timestamp_changed_in_header_then_mismatch() -> None:
    header = sign(SECRET, T, BODY).replace(f"t={T}", f"t={T + 600}")
    with pytest.raises(SignatureMismatch):
        verify(SECRET, header, BODY, now=T + 600)


@pytest.mark.parametrize("now", [T + 301, T - 301, T + 86_400])
def test_given_old_or_future_signature_then_expired(now: int) -> None:
    with pytest.raises(SignatureExpired) as info:
        verify(SECRET, sign(SECRET, T, BODY), BODY, now=now)
    assert info.value.timestamp == T


@pytest.mark.parametrize("now", [T + 300, T - 300])
def test_given_signature_at_tolerance_edge_then_accepted(now: int) -> None:
    verify(SECRET, sign(SECRET, T, BODY), BODY, now=now)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={T}", f"t=soon,v1={'0' * 64}", "garbage"])
def test_given_missing_or_malformed_header_then_missing(header: str | None) -> None:
    with pytest.raises(SignatureMissing):
        verify(SECRET, header, BODY, now=T)


def test_given_rotation_with_two_v1_values_then_either_secret_verifies() -> None:
    old = sign("old", T, BODY).split(",")[1]
    header = f"{sign(SECRET, T, BODY)},{old}"
    assert verify(SECRET, header, BODY, now=T) == T
    assert verify("old", header, BODY, now=T) == T


def test_errors_are_value_errors_for_generic_handlers() -> None:
    with pytest.raises(ValueError):
        verify(SECRET, None, BODY, now=T)


@given(body=st.binary(max_size=512), ts=st.integers(min_value=0, max_value=2**40), secret=st.binary(min_size=1))
def test_property_sign_then_verify_round_trips(body: bytes, ts: int, secret: bytes) -> None:
    assert verify(secret, sign(secret, ts, body), body, now=ts) == ts
