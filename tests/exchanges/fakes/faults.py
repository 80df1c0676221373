"""Scripted misbehaviour for the StopNCII, ThreatExchange and TAT fakes: the next requests to
a path get a canned answer (a 503, a 429, a broken body) or have their real answer spoiled
(cut short), in the order the test queued them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from tests.exchanges.fakes.serving import FakeRequest, FakeResponse

Spoil = Callable[[FakeResponse], FakeResponse]


@dataclass(frozen=True)
class _Fault:
    path_suffix: str
    answer: FakeResponse | Spoil


class Faults:
    """A queue of faults; each is used by one request whose path ends with its suffix."""

    def __init__(self) -> None:
        self._queue: list[_Fault] = []
        self._lock = threading.Lock()

    def add(self, answer: FakeResponse | Spoil, *, path_suffix: str = "", times: int = 1) -> None:
        with self._lock:
            self._queue.extend(_Fault(path_suffix, answer) for _ in range(times))

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def answer(self, request: FakeRequest, real: Callable[[], FakeResponse]) -> FakeResponse:
        """The first queued fault for this path, else the real answer."""
        with self._lock:
            fault = next((f for f in self._queue if request.path.endswith(f.path_suffix)), None)
            if fault is not None:
                self._queue.remove(fault)
        if fault is None:
            return real()
        if isinstance(fault.answer, FakeResponse):
            return fault.answer
        return fault.answer(real())


def server_error(status: int = 503) -> FakeResponse:
    return FakeResponse(status, b'{"error": "try again"}')


def rate_limited(retry_after: str = "0") -> FakeResponse:
    return FakeResponse(429, b'{"error": "slow down"}', headers={"Retry-After": retry_after})


def malformed_json() -> FakeResponse:
    return FakeResponse(200, b'{"hashRecords": [{"signalType": "ImagePDQ", ')


def cut_short(answer: FakeResponse) -> FakeResponse:
    """The real answer, its body cut in half although the length announces all of it."""
    return replace(answer, truncate_to=len(answer.body) // 2)
