"""Per-client request rates: a token bucket per API key or user, in this process.

Each service worker keeps its own buckets, so with N workers a client can reach up to N times
its limit; the limit exists to stop a runaway client from starving others, which that still
does. A shared limiter (PostgreSQL or Redis) would add a round trip to every request.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_BUCKETS = 100_000  # oldest idle buckets are forgotten past this (a forgotten one is full)


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def acquire(self, client: str, per_minute: int) -> float | None:
        """Take one token; None if allowed, else the seconds until a token is free."""
        rate = per_minute / 60.0
        burst = max(1.0, per_minute / 6.0)  # ten seconds' worth: absorbs bursty batches
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            allowed = tokens >= 1.0
            tokens = tokens - 1.0 if allowed else tokens
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return None if allowed else math.ceil((1.0 - tokens) / rate * 10) / 10
