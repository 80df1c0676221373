"""The retry schedule: exponential, capped, jittered, and finite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.core.settings import WebhookSettings
from vigil.screening.webhooks.backoff import JITTER_FRACTION, next_attempt_at, retry_delay

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SETTINGS = WebhookSettings(max_attempts=8, backoff_seconds=5, max_backoff_seconds=60)


def _delay(attempts: int, settings: WebhookSettings = SETTINGS, jitter: float = 0.0) -> float:
    retry_at = next_attempt_at(attempts, settings, NOW, jitter=jitter)
    assert retry_at is not None
    return (retry_at - NOW).total_seconds()


def test_doubles_from_backoff_seconds_without_jitter() -> None:
    assert [_delay(n) for n in range(1, 5)] == [5, 10, 20, 40]


def test_capped_at_max_backoff() -> None:
    assert _delay(5) == 60 and _delay(7) == 60


def test_gives_up_at_max_attempts() -> None:
    assert next_attempt_at(7, SETTINGS, NOW, jitter=0.0) is not None
    assert next_attempt_at(8, SETTINGS, NOW, jitter=0.0) is None
    assert next_attempt_at(50, SETTINGS, NOW, jitter=0.0) is None
    one_shot = WebhookSettings(max_attempts=1)
    assert next_attempt_at(1, one_shot, NOW, jitter=0.5) is None


def test_jitter_shortens_within_bounds_and_spreads_retries() -> None:
    delays = {_delay(3, jitter=j / 10) for j in range(10)}
    assert len(delays) == 10  # different jitter, different time: no thundering herd
    assert min(delays) > 20 * (1 - JITTER_FRACTION) and max(delays) == 20


@pytest.mark.parametrize("jitter", [-0.1, 1.0, 2.0, float("nan")])
def test_jitter_outside_unit_interval_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError):
        next_attempt_at(1, SETTINGS, NOW, jitter=jitter)


@pytest.mark.parametrize("attempts", [0, -1])
def test_attempts_made_starts_at_one(attempts: int) -> None:
    with pytest.raises(ValueError):
        next_attempt_at(attempts, SETTINGS, NOW, jitter=0.0)


def test_huge_attempt_counts_stay_finite() -> None:
    many = WebhookSettings(max_attempts=10**6, backoff_seconds=1, max_backoff_seconds=3600)
    assert retry_delay(10**5, many, jitter=0.0) == 3600
    assert _delay(10**5, many) == 3600


@given(
    attempts=st.integers(min_value=1, max_value=200),
    jitter=st.floats(min_value=0, max_value=1, exclude_max=True),
    backoff=st.floats(min_value=0.01, max_value=1000),
    cap=st.floats(min_value=0.01, max_value=10**6),
)
def test_delay_is_positive_and_never_above_the_cap(
    attempts: int, jitter: float, backoff: float, cap: float
) -> None:
    settings = WebhookSettings(max_attempts=1000, backoff_seconds=backoff, max_backoff_seconds=cap)
    retry_at = next_attempt_at(attempts, settings, NOW, jitter=jitter)
    assert retry_at is not None
    assert NOW < retry_at <= NOW + timedelta(seconds=cap)
