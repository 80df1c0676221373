"""A short-lived cache of verified API keys, so a busy client costs one database lookup every
few seconds instead of one per request. A revoked key stops working within ``ttl`` seconds
in every worker (and at once in the worker that revoked it)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime

from vigil.core.ttl_cache import TtlCache
from vigil.store.accounts import Principal

DEFAULT_TTL = 5.0
MAX_ENTRIES = 10_000

_Verified = tuple[Principal, datetime | None]  # the key's holder, and when the key expires


class CredentialCache:
    def __init__(
        self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # keyed by a digest of the token, so the cache never holds a usable secret
        self._verified: TtlCache[str, _Verified] = TtlCache(ttl, MAX_ENTRIES, clock)

    def get(self, token: str, now: datetime) -> Principal | None:
        entry = self._verified.get(
            _digest(token), valid=lambda verified: not (verified[1] and verified[1] <= now)
        )
        return None if entry is None else entry[0]

    def put(self, token: str, principal: Principal, expires_at: datetime | None) -> None:
        self._verified.put(_digest(token), (principal, expires_at))

    def forget(self, prefix: str) -> None:
        """Drop every cached key with this prefix (after a revocation here)."""
        self._verified.discard_where(lambda verified: verified[0].name == prefix)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
