"""A ceiling on a scan's object-store requests per second and bytes per second.

Two token buckets, one per resource. A bucket holds at most ``burst_seconds`` worth of its
rate (at least one request), so an idle scan cannot save up and then flood the store. A
caller takes what it needs at once and, when that leaves the bucket in debt, sleeps until the
debt is repaid: a chunk larger than the whole bucket still passes, only later, so no request
can wait forever. Over any stretch of time t, what was granted is at most the burst plus
rate x t.

The clock and the sleep are injected, so the arithmetic is tested without waiting; the real
ones are ``time.monotonic`` and ``time.sleep``. One throttle may be shared by the threads of
one process; a job spread over several workers gives each worker its share of the rates.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]
DEFAULT_BURST_SECONDS = 1.0


@dataclass(slots=True)
class _Bucket:
    rate: float  # units per second
    capacity: float
    tokens: float
    updated: float

    def take(self, amount: float, now: float) -> float:
        """Take ``amount`` now; the seconds to wait until the bucket is out of debt."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= amount
        return max(0.0, -self.tokens / self.rate)


class Throttle:
    """``acquire`` before each request and for the bytes read; ``None`` means no ceiling."""

    def __init__(
        self,
        requests_per_second: float | None = None,
        bytes_per_second: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
    ) -> None:
        if burst_seconds <= 0:
            raise ValueError("a throttle's burst must be a positive number of seconds")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._requests = _bucket(requests_per_second, burst_seconds, now, "requests", minimum=1.0)
        self._bytes = _bucket(bytes_per_second, burst_seconds, now, "bytes", minimum=0.0)

    def acquire(self, request: int = 1, nbytes: int = 0) -> None:
        """Account for ``request`` requests and ``nbytes`` bytes; returns when both are allowed."""
        if request < 0 or nbytes < 0:
            raise ValueError("a throttle counts requests and bytes, never negative amounts")
        # Reserve under the lock, sleep outside it: each thread waits out its own debt.
        with self._lock:
            now = self._clock()
            wait = max(_take(self._requests, request, now), _take(self._bytes, nbytes, now))
        if wait > 0:
            self._sleep(wait)


def _take(bucket: _Bucket | None, amount: int, now: float) -> float:
    return bucket.take(amount, now) if bucket is not None and amount else 0.0


def _bucket(
    rate: float | None, burst_seconds: float, now: float, unit: str, minimum: float
) -> _Bucket | None:
    if rate is None:
        return None
    if not (rate > 0 and math.isfinite(rate)):  # NaN fails both
        raise ValueError(f"a ceiling on {unit} per second must be a positive number, not {rate}")
    capacity = max(rate * burst_seconds, minimum)
    return _Bucket(rate=rate, capacity=capacity, tokens=capacity, updated=now)
