"""The TTL cache behind the API-key and company caches and the intake sign-in guard: entries
expire after ``ttl`` seconds or when their own validity ends, memory is bounded, revocations
take effect at once and a burst of misses on one key runs one load."""

from __future__ import annotations

import threading
import time

from vigil.core.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_exactly_ttl_seconds() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(5, 10, clock)
    cache.put("a", 1)
    clock.now = 5.0
    assert cache.get("a") == 1
    clock.now = 5.01
    assert cache.get("a") is None
    clock.now = 0.0
    assert cache.get("a") is None  # an expired entry is gone, not hidden


def test_an_entry_that_no_longer_holds_is_dropped() -> None:
    cache: TtlCache[str, int] = TtlCache(60, 10, Clock())
    cache.put("key", 7)
    assert cache.get("key", valid=lambda value: value > 10) is None
    assert cache.get("key") is None


def test_the_oldest_entries_go_first_beyond_the_bound() -> None:
    cache: TtlCache[int, int] = TtlCache(60, 3, Clock())
    for key in range(5):
        cache.put(key, key)
    assert [cache.get(key) for key in range(5)] == [None, None, 2, 3, 4]


def test_discard_where_and_clear_forget_at_once() -> None:
    cache: TtlCache[str, str] = TtlCache(60, 10, Clock())
    for key, holder in (("k1", "revoked"), ("k2", "kept"), ("k3", "revoked")):
        cache.put(key, holder)
    cache.discard_where(lambda holder: holder == "revoked")
    assert [cache.get(k) for k in ("k1", "k2", "k3")] == [None, "kept", None]
    cache.clear()
    assert cache.get("k2") is None


def test_a_burst_of_misses_loads_once() -> None:
    cache: TtlCache[str, str] = TtlCache(60, 10)
    calls: list[int] = []

    def load() -> str:
        calls.append(1)
        time.sleep(0.05)  # an argon2 check takes this long
        return "company"

    answers: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get_or_load("pair", load)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1] and answers == ["company"] * 8


def test_a_failed_load_is_not_remembered() -> None:
    cache: TtlCache[str, str] = TtlCache(60, 10, Clock())
    calls: list[int] = []

    def refuse() -> str | None:
        calls.append(1)
        return None

    assert cache.get_or_load("wrong", refuse) is None
    assert cache.get_or_load("wrong", refuse) is None
    assert len(calls) == 2


def test_concurrent_writers_keep_the_bound() -> None:
    cache: TtlCache[int, int] = TtlCache(60, 50)

    def write(start: int) -> None:
        for key in range(start, start + 500):
            cache.put(key, key)

    threads = [threading.Thread(target=write, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (
        sum(cache.get(key) is not None for n in range(4) for key in range(n * 1000, n * 1000 + 500))
        == 50
    )


def test_one_key_can_be_forgotten_and_the_keys_listed_oldest_first() -> None:
    cache: TtlCache[bytes, bool] = TtlCache(60, 10, Clock())
    for key in (b"a", b"b", b"c"):
        cache.put(key, True)
    cache.discard(b"b")
    cache.discard(b"never-there")  # forgetting what is not held is no error
    assert cache.keys() == [b"a", b"c"]
    assert cache.get(b"b") is None
