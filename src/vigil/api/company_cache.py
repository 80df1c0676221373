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
        self._loaders: dict[str, threading.Lock] = {}

    def get(self, username: str, password: str) -> ReportingCompany | None:
        key = _digest(username, password)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() - entry[1] > self.ttl:
                self._entries.pop(key, None)
                return None
            return entry[0]

    def get_or_verify(self, username: str, password: str,
                      verify: Callable[[], ReportingCompany | None]) -> ReportingCompany | None:
        """The cached company, or ``verify()`` run by ONE caller per credential pair while
        the others wait for its answer: when the entry expires under load, a burst of
        requests costs one argon2 check, not one each. Wrong passwords have their own keys,
        so a guesser never holds up a real company."""
        cached = self.get(username, password)
        if cached is not None:
            return cached
        with self._loader(_digest(username, password)):
            cached = self.get(username, password)
            if cached is not None:
                return cached
            company = verify()
            if company is not None:
                self.put(username, password, company)
            return company

    def _loader(self, key: str) -> threading.Lock:
        with self._lock:
            lock = self._loaders.setdefault(key, threading.Lock())
            if len(self._loaders) > MAX_ENTRIES:  # idle locks are cheap to forget
                self._loaders.pop(next(iter(self._loaders)))
            return lock

    def put(self, username: str, password: str, company: ReportingCompany) -> None:
        with self._lock:
            self._entries[_digest(username, password)] = (company, self._clock())
            if len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


def _digest(username: str, password: str) -> str:
    pair = f"{len(username)}:{username}:{password}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(pair).hexdigest()
