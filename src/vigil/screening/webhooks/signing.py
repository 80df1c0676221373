"""Webhook signatures: ``Vigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The MAC covers ``f"{t}."`` followed by the raw request body, keyed with the endpoint secret, so
a receiver can check both who sent a request and that it is recent (replays of an old request
fail the timestamp check). Receivers verify with the same scheme (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_HEADER = "Vigil-Signature"
DEFAULT_TOLERANCE = 300  # seconds of clock skew and network delay accepted
MAX_HEADER_LENGTH = 1024  # room for a few v1 values during a secret change, no more

_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_MAC = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Vigil-Signature`` header value for ``body`` sent at ``timestamp``."""
    if timestamp < 0:
        raise ValueError("a signature timestamp is unix seconds, not negative")
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``header`` is a valid signature of ``body`` by ``secret``, made within
    ``tolerance`` seconds of ``now``. Malformed headers are simply not valid."""
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    parsed = _parse(header)
    if parsed is None:
        return False
    timestamp, macs = parsed
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    # Check every candidate so the time taken does not depend on which one matched.
    matches = [hmac.compare_digest(expected, mac) for mac in macs]
    return any(matches)


def _parse(header: object) -> tuple[int, list[str]] | None:
    """``(timestamp, v1 values)``, or None for anything but exactly one t and some v1."""
    if not isinstance(header, str) or not header or len(header) > MAX_HEADER_LENGTH:
        return None
    timestamps: list[int] = []
    macs: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip(" ").partition("=")
        if not sep:
            return None
        if key == "t":
            if not _TIMESTAMP.fullmatch(value):
                return None
            timestamps.append(int(value))
        elif key == "v1":
            if not _MAC.fullmatch(value):
                return None
            macs.append(value)
        # Other keys (future schemes) are ignored so receivers keep working when one is added.
    if len(timestamps) != 1 or not macs:
        return None
    return timestamps[0], macs
