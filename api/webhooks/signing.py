"""Signing webhook bodies. The receiver recomputes

    X-Alliance-Signature = "sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.{raw body}"))

with the timestamp taken from ``X-Alliance-Timestamp`` (Unix seconds), compares in constant
time and rejects timestamps too far from its clock (replays). See docs/webhooks.md."""

import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 — a public prefix that makes leaked secrets recognisable
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_SECONDS = 5 * 60


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str | int,
    body: bytes,
    header: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does (shown here so that our tests and docs agree)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, ts, body), header or "")
