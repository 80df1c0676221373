"""Exponential backoff per key (a client address, a user name): after ``free`` attempts without
a success, each further attempt must wait ``base`` seconds after the previous one, doubling
with every attempt, up to ``cap``. A key quiet for a few caps starts over. Not locked: its
owner serialises calls (the intake's sign-in guard checks and records under one lock)."""

from __future__ import annotations

from collections import OrderedDict

MAX_KEYS = 100_000  # the oldest keys are forgotten past this; a forgotten key starts over
FORGET_AFTER_CAPS = 3  # quiet for this many caps: the key's attempts are forgotten
MAX_DOUBLINGS = 40  # 2**40 x any base is past every cap; bounds the arithmetic


class Backoff:
    def __init__(self, free: int, base: float, cap: float) -> None:
        self.free, self.base, self.cap = free, base, cap
        self._attempts: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds before ``key`` may try again; 0 when it may now."""
        attempts, last = self._current(key, now)
        if attempts < self.free:
            return 0.0
        delay = min(self.cap, self.base * 2 ** min(attempts - self.free, MAX_DOUBLINGS))
        return max(0.0, last + delay - now)

    def record(self, key: str, now: float) -> int:
        """Count an attempt; returns the attempts since the last success."""
        attempts = self._current(key, now)[0] + 1
        self._attempts.pop(key, None)
        self._attempts[key] = (attempts, now)
        if len(self._attempts) > MAX_KEYS:
            self._attempts.popitem(last=False)
        return attempts

    def clear(self, key: str) -> None:
        self._attempts.pop(key, None)

    def _current(self, key: str, now: float) -> tuple[int, float]:
        attempts, last = self._attempts.get(key, (0, now))
        if now - last > self.cap * FORGET_AFTER_CAPS:
            return 0, now
        return attempts, last
