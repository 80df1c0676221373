"""Verified reporting-company credentials, remembered for a few seconds per worker.

One report is at least three requests (submit, upload, finish; more with files), each with
basic auth; an argon2 check on every one would cost more than the report's own work. The
cache is keyed by a digest of the credential pair, so it never holds a usable password; a
disabled company or a changed password takes effect within ``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from vigil.store.models.intake import ReportingCompany

DEFAULT_TTL = 5.0
MAX_ENTRIES = 1000


class CompanyCache:
    def __init__(self, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[ReportingCompany, float]] = OrderedDict()

    def get(self, username: str, password: str) -> ReportingCompany | None:
        key = _digest(username, password)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() - entry[1] > self.ttl:
                self._entries.pop(key, None)
                return None
            return entry[0]

    def put(self, username: str, password: str, company: ReportingCompany) -> None:
        with self._lock:
            self._entries[_digest(username, password)] = (company, self._clock())
            if len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


def _digest(username: str, password: str) -> str:
    pair = f"{len(username)}:{username}:{password}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(pair).hexdigest()
