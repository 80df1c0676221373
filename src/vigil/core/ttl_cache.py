"""Values remembered for a while per process: what was verified a moment ago (an API
key, a company's password) need not be verified again on every request. Thread-safe; at most
``max_entries`` are kept, the oldest going first, so a flood of distinct keys costs bounded
memory. Callers key entries by a digest, never by a secret itself."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self._loaders: dict[K, threading.Lock] = {}

    def get(self, key: K, valid: Callable[[V], bool] | None = None) -> V | None:
        """The value put under ``key`` at most ``ttl`` seconds ago, unless ``valid`` says it
        no longer holds (e.g. the key it stands for has expired); None otherwise."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, cached_at = entry
            if self._clock() - cached_at > self.ttl or (valid is not None and not valid(value)):
                del self._entries[key]
                return None
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._entries[key] = (value, self._clock())
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_load(self, key: K, load: Callable[[], V | None]) -> V | None:
        """The cached value, or ``load()`` run by ONE caller per key while the others wait
        for its answer: when an entry expires under load, a burst of requests costs one
        (expensive) check, not one each. A None answer is not kept."""
        cached = self.get(key)
        if cached is not None:
            return cached
        with self._loader(key):
            cached = self.get(key)
            if cached is not None:
                return cached
            value = load()
            if value is not None:
                self.put(key, value)
            return value

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def keys(self) -> list[K]:
        """The keys held now, oldest first (expired ones included until next read)."""
        with self._lock:
            return list(self._entries)

    def discard_where(self, matches: Callable[[V], bool]) -> None:
        """Forget every value ``matches`` picks (e.g. a key revoked in this process)."""
        with self._lock:
            for key in [k for k, (value, _) in self._entries.items() if matches(value)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _loader(self, key: K) -> threading.Lock:
        with self._lock:
            lock = self._loaders.setdefault(key, threading.Lock())
            if len(self._loaders) > self.max_entries:  # idle locks are cheap to forget
                self._loaders.pop(next(iter(self._loaders)))
            return lock
