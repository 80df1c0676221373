"""The intake's credential cache: one argon2 check per credential pair when many requests
arrive together, none of a guesser's failures cached."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from vigil.http.company_cache import CompanyCache


def test_a_burst_verifies_once() -> None:
    cache, calls = CompanyCache(ttl=60), []
    company = SimpleNamespace(id=1)

    def verify():  # type: ignore[no-untyped-def]
        calls.append(1)
        time.sleep(0.05)  # an argon2 check takes this long
        return company

    answers: list[object] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(cache.get_or_verify("platform", "secret", verify))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and answers == [company] * 8


def test_failures_are_not_cached_and_expiry_reverifies() -> None:
    now = [0.0]
    cache, calls = CompanyCache(ttl=5, clock=lambda: now[0]), []
    assert cache.get_or_verify("platform", "wrong", lambda: calls.append(1)) is None
    assert cache.get_or_verify("platform", "wrong", lambda: calls.append(1)) is None
    assert len(calls) == 2
    company = SimpleNamespace(id=1)
    cache.get_or_verify("platform", "right", lambda: company)
    now[0] = 4.0
    assert cache.get("platform", "right") is company
    now[0] = 6.0
    assert cache.get("platform", "right") is None
