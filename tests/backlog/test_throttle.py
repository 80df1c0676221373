"""The token-bucket throttle, on a fake clock: rates honoured over time, bursts bounded,
oversized requests delayed but never stuck, bad ceilings refused."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pytest

from vigil.screening.backlog.objects import ObjectRef
from vigil.screening.backlog.s3_source import S3Source
from vigil.screening.backlog.throttle import Throttle


class FakeTime:
    """A clock that moves only when the throttle sleeps (or the test lets time pass)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def _throttle(
    time: FakeTime, requests_per_second: float | None = None, bytes_per_second: float | None = None
) -> Throttle:
    return Throttle(requests_per_second, bytes_per_second, clock=time.clock, sleep=time.sleep)


def test_a_burst_of_one_seconds_worth_passes_then_requests_are_spaced() -> None:
    time = FakeTime()
    throttle = _throttle(time, requests_per_second=10)
    for _ in range(10):
        throttle.acquire()
    assert time.sleeps == []  # the bucket starts full: one second's worth at once
    throttle.acquire()
    assert time.sleeps == [pytest.approx(0.1)]


@pytest.mark.parametrize("rate", [0.5, 3.0, 10.0, 250.0])
def test_the_request_rate_is_honoured_over_time(rate: float) -> None:
    time = FakeTime()
    throttle = _throttle(time, requests_per_second=rate)
    start = time.now
    burst = max(rate, 1.0)
    for count in range(1, 1001):
        throttle.acquire()
        # Whenever a request is let through, everything granted fits burst + rate x elapsed.
        assert count <= burst + rate * (time.now - start) + 1e-6
    assert time.now - start == pytest.approx((1000 - burst) / rate)


def test_idle_time_does_not_save_up_more_than_the_burst() -> None:
    time = FakeTime()
    throttle = _throttle(time, requests_per_second=5)
    time.now += 3600  # an hour idle
    for _ in range(5):
        throttle.acquire()
    assert time.sleeps == []
    throttle.acquire()
    assert time.sleeps == [pytest.approx(0.2)]


def test_bytes_are_limited_separately_and_a_chunk_bigger_than_the_bucket_still_passes() -> None:
    time = FakeTime()
    throttle = _throttle(time, bytes_per_second=1000)
    throttle.acquire(request=0, nbytes=1000)
    assert time.sleeps == []
    throttle.acquire(request=0, nbytes=5000)  # five seconds' worth: paid for, not refused
    assert time.sleeps == [pytest.approx(5.0)]
    throttle.acquire(request=0, nbytes=500)
    assert time.sleeps[-1] == pytest.approx(0.5)


def test_both_ceilings_apply_and_the_longer_wait_wins() -> None:
    time = FakeTime()
    throttle = _throttle(time, requests_per_second=100, bytes_per_second=10)
    throttle.acquire(request=1, nbytes=10)
    throttle.acquire(request=1, nbytes=30)
    assert time.sleeps == [pytest.approx(3.0)]


def test_no_ceiling_never_sleeps() -> None:
    time = FakeTime()
    throttle = _throttle(time)
    for _ in range(10_000):
        throttle.acquire(request=1, nbytes=1 << 30)
    assert time.sleeps == []


def test_a_slow_rate_still_lets_one_request_through_at_once() -> None:
    time = FakeTime()
    throttle = _throttle(time, requests_per_second=0.1)
    throttle.acquire()
    assert time.sleeps == []
    throttle.acquire()
    assert time.sleeps == [pytest.approx(10.0)]


@pytest.mark.parametrize("rate", [0, -1, math.nan, math.inf])
def test_a_ceiling_must_be_a_positive_number(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Throttle(requests_per_second=rate)
    with pytest.raises(ValueError, match="positive"):
        Throttle(bytes_per_second=rate)


def test_negative_amounts_and_bursts_are_refused() -> None:
    with pytest.raises(ValueError):
        Throttle(requests_per_second=1).acquire(request=-1)
    with pytest.raises(ValueError):
        Throttle(bytes_per_second=1).acquire(nbytes=-5)
    with pytest.raises(ValueError):
        Throttle(requests_per_second=1, burst_seconds=0)


def test_threads_share_one_budget() -> None:
    # The clock stands still: each grant's wait is then exactly the debt when it was reserved,
    # whatever order the threads ran in; no two threads may be handed the same token.
    waits: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    throttle = Throttle(requests_per_second=10, clock=lambda: 0.0, sleep=sleep)

    def work() -> None:
        for _ in range(25):
            throttle.acquire()

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    expected = [(n - 10) / 10 for n in range(11, 101)]  # the 10-request burst, then debt
    assert sorted(waits) == pytest.approx(expected)


def test_a_throttled_source_keeps_to_its_rate_over_a_real_socket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a.bin", Body=b"x" * 100)
    rate = 5.0
    source = S3Source(bucket, throttle=Throttle(requests_per_second=rate))
    [ref] = [item for item in source.objects() if isinstance(item, ObjectRef)]
    time.sleep(1.0)  # let the bucket refill after the listing's requests
    start = time.monotonic()
    reads = 0
    while time.monotonic() - start < 1.0:
        source.read(ref, 100)
        reads += 1
    elapsed = time.monotonic() - start
    # Unthrottled, moto answers dozens of reads a second on this machine.
    assert rate <= reads <= rate + rate * elapsed + 1
