"""Verified reporting-company credentials, remembered for a few seconds per worker.

One report is at least three requests (submit, upload, finish; more with files), each with
basic auth; an argon2 check on every one would cost more than the report's own work. The
cache is keyed by a digest of the credential pair, so it never holds a usable password; a
disabled company or a changed password takes effect within ``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from vigil.core.ttl_cache import TtlCache
from vigil.store.models.intake import ReportingCompany

DEFAULT_TTL = 5.0
MAX_ENTRIES = 1000


class CompanyCache:
    def __init__(
        self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._verified: TtlCache[str, ReportingCompany] = TtlCache(ttl, MAX_ENTRIES, clock)

    def get(self, username: str, password: str) -> ReportingCompany | None:
        return self._verified.get(_digest(username, password))

    def get_or_verify(
        self, username: str, password: str, verify: Callable[[], ReportingCompany | None]
    ) -> ReportingCompany | None:
        """The cached company, or ``verify()`` run by ONE caller per credential pair while
        the others wait for its answer: when the entry expires under load, a burst of
        requests costs one argon2 check, not one each. Wrong passwords have their own keys,
        so a guesser never holds up a real company."""
        return self._verified.get_or_load(_digest(username, password), verify)

    def put(self, username: str, password: str, company: ReportingCompany) -> None:
        self._verified.put(_digest(username, password), company)

    def clear(self) -> None:
        """Forget every company (as if the ``ttl`` had passed for all of them)."""
        self._verified.clear()


def _digest(username: str, password: str) -> str:
    pair = f"{len(username)}:{username}:{password}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(pair).hexdigest()
