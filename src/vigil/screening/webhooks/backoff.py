"""When to try a failed webhook delivery again: exponential backoff with jitter."""

from __future__ import annotations

from datetime import datetime, timedelta

from vigil.core.settings import WebhookSettings

# The delay is shortened by up to this fraction, at random, so deliveries that failed together
# (an endpoint down for a while) spread out instead of hitting it again all at once.
JITTER_FRACTION = 0.5
_MAX_EXPONENT = 62  # beyond this every real setting is capped anyway; keeps floats finite


def retry_delay(attempts_made: int, settings: WebhookSettings, *, jitter: float) -> float:
    """Seconds to wait after ``attempts_made`` failed attempts (before jitter: the first
    retry after ``backoff_seconds``, doubling each time, at most ``max_backoff_seconds``)."""
    if attempts_made < 1:
        raise ValueError("attempts_made counts the attempt just made, so it is at least 1")
    if not 0.0 <= jitter < 1.0:
        raise ValueError("jitter must be in [0, 1)")
    exponent = min(attempts_made - 1, _MAX_EXPONENT)
    nominal = min(settings.backoff_seconds * 2.0**exponent, settings.max_backoff_seconds)
    return nominal * (1.0 - JITTER_FRACTION * jitter)


def next_attempt_at(
    attempts_made: int,
    settings: WebhookSettings,
    now: datetime,
    *,
    jitter: float,
) -> datetime | None:
    """When to try again after ``attempts_made`` attempts failed, or None to give up."""
    delay = retry_delay(attempts_made, settings, jitter=jitter)
    if attempts_made >= settings.max_attempts:
        return None
    return now + timedelta(seconds=delay)
