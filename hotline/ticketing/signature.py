"""Webhook signatures: HMAC-SHA256 over timestamp and body, with replay protection. Pure.

Header (sent on every webhook POST)::

    X-Hotline-Signature: t=1759284000,v1=5f2b...e9

* ``t``: the sender's clock when it signed, integer epoch seconds;
* ``v1``: lowercase hex of ``HMAC-SHA256(secret, f"{t}.".encode() + body)``, where ``body`` is
  the exact bytes of the HTTP request body (UTF-8 JSON). Several ``v1=`` entries may appear
  during a secret rotation; one match is enough.

A receiver verifies with :func:`verify` (or re-implements it in three lines): recompute the HMAC
over the raw body, compare in constant time, and reject a ``t`` more than ``tolerance_s`` (300 s)
away from its own clock, so a captured request cannot be replayed later. Duplicate deliveries
within the window carry the same ``Idempotency-Key`` header (the event id): receivers
deduplicate on it.
"""

from __future__ import annotations

import hashlib
import hmac

from hotline.ticketing.errors import SignatureExpired, SignatureMismatch, SignatureMissing

SIGNATURE_HEADER = "X-Hotline-Signature"
DEFAULT_TOLERANCE_S = 300.0


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def signature_hex(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body``."""
    return hmac.new(_key(secret), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Hotline-Signature`` header value for a body.

    Args:
        secret: the shared secret (str is UTF-8 encoded).
        timestamp: epoch seconds (integer) at signing.
        body: the exact request body bytes.
    Returns:
        ``"t=<timestamp>,v1=<64 hex chars>"``.
    """
    return f"t={int(timestamp)},v1={signature_hex(secret, int(timestamp), body)}"


def parse_header(header: str | None) -> tuple[int, list[str]]:
    """Split a signature header into its timestamp and ``v1`` signatures.

    Raises:
        SignatureMissing: no header, no ``t=``, a non-integer ``t``, or no ``v1=``.
    """
    if not header:
        raise SignatureMissing(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureMissing(f"bad timestamp in {SIGNATURE_HEADER}: {value!r}") from None
        elif key == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureMissing(f"{SIGNATURE_HEADER} needs t=<epoch s> and v1=<hex>, got {header!r}")
    return timestamp, signatures


def verify(
    secret: str | bytes,
    header: str | None,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> int:
    """Check a webhook signature; return the signed timestamp.

    The HMAC is checked before the age, so a forged request is reported as a mismatch, not as
    expired. Comparison is constant-time (:func:`hmac.compare_digest`).

    Args:
        secret: the shared secret.
        header: the ``X-Hotline-Signature`` value (None when absent).
        body: the raw request body bytes, as received (not re-serialised JSON).
        now: the receiver's clock, epoch seconds.
        tolerance_s: maximum ``|now - t|`` in seconds.
    Returns:
        The signed timestamp ``t`` (epoch seconds).
    Raises:
        SignatureMissing: header absent or malformed.
        SignatureMismatch: no ``v1`` matches (wrong secret, tampered body or timestamp).
        SignatureExpired: ``t`` is more than ``tolerance_s`` from ``now`` (replay, clock skew).
    """
    timestamp, signatures = parse_header(header)
    expected = signature_hex(secret, timestamp, body)
    matched = False
    for candidate in signatures:  # no early exit: time does not depend on which one matches
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureMismatch("signature does not match the body")
    if abs(now - timestamp) > tolerance_s:
        raise SignatureExpired(timestamp, now, tolerance_s)
    return timestamp
