"""A short-lived cache of verified API keys, so a busy client costs one database lookup every
few seconds instead of one per request. A revoked key stops working within ``ttl`` seconds
in every worker (and at once in the worker that revoked it)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from vigil.store.accounts import Principal

DEFAULT_TTL = 5.0
MAX_ENTRIES = 10_000


class CredentialCache:
    def __init__(self, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # keyed by a digest of the token, so the cache never holds a usable secret
        self._entries: OrderedDict[str, tuple[Principal, float, datetime | None]] = OrderedDict()

    def get(self, token: str, now: datetime) -> Principal | None:
        key = _digest(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            principal, cached_at, expires_at = entry
            if self._clock() - cached_at > self.ttl or (expires_at and expires_at <= now):
                del self._entries[key]
                return None
            return principal

    def put(self, token: str, principal: Principal, expires_at: datetime | None) -> None:
        with self._lock:
            self._entries[_digest(token)] = (principal, self._clock(), expires_at)
            if len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def forget(self, prefix: str) -> None:
        """Drop every cached key with this prefix (after a revocation here)."""
        with self._lock:
            for key in [k for k, (p, _, _) in self._entries.items() if p.name == prefix]:
                del self._entries[key]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
