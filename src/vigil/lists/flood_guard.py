"""The flood-guard rule: does an entry match far more often this hour than it usually does?

An entry that suddenly matches hundreds of uploads an hour is more likely a common,
harmless image listed by mistake than a real surge of known material; holding it back
(quarantine) stops it flooding reviewers until a person has looked. Pure: the store feeds
it match counts and applies the verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class FloodGuardRule:
    """The rule's parameters, as in the ``[flood_guard]`` settings."""

    threshold: float = 10.0  # a surge is more than this many times the usual hourly rate
    min_matches: int = 50  # an hour with no more matches than this is never a surge
    baseline_hours: int = 168  # the usual rate is the mean over this many past hours

    def __post_init__(self) -> None:
        if not self.threshold > 1:
            raise ValueError("threshold must be greater than 1")
        if self.min_matches < 1:
            raise ValueError("min_matches must be at least 1")
        if self.baseline_hours < 1:
            raise ValueError("baseline_hours must be at least 1")


@dataclass(frozen=True, slots=True)
class FloodVerdict:
    quarantine: bool
    matches: int  # in the hour judged
    baseline_rate: float  # usual matches per hour
    limit: float  # more matches than this is a surge
    explanation: str  # one sentence for the audit trail and the operator


def judge_hour(
    hour: datetime,
    matches: int,
    history: Iterable[tuple[datetime, int]],
    rule: FloodGuardRule,
) -> FloodVerdict:
    """Judge ``matches`` in the hour starting at ``hour`` against the entry's history.

    ``history`` is (hour start, matches) per past hour, as ``match_history`` returns it;
    buckets outside the ``baseline_hours`` before ``hour`` are ignored, and hours without a
    bucket count as zero. The window is fixed rather than shortened for young entries: a
    newly listed entry that floods at once is exactly the mistake this rule is for, and
    ``min_matches`` still protects entries that merely match a few times.
    """
    if matches < 0:
        raise ValueError("matches cannot be negative")
    baseline_rate = _baseline_total(hour, history, rule.baseline_hours) / rule.baseline_hours
    limit = max(float(rule.min_matches), rule.threshold * baseline_rate)
    quarantine = matches > limit
    return FloodVerdict(
        quarantine=quarantine,
        matches=matches,
        baseline_rate=baseline_rate,
        limit=limit,
        explanation=_explain(hour, matches, baseline_rate, limit, quarantine, rule),
    )


def _baseline_total(hour: datetime, history: Iterable[tuple[datetime, int]], hours: int) -> int:
    start = hour - hours * HOUR
    return sum(count for bucket, count in history if start <= bucket < hour)


def _explain(
    hour: datetime, matches: int, rate: float, limit: float, surge: bool, rule: FloodGuardRule
) -> str:
    verdict = "more than" if surge else "within"
    return (
        f"flood guard: {matches} matches in the hour from {hour.isoformat(timespec='minutes')}, "
        f"{verdict} the limit of {limit:g} (the larger of {rule.min_matches} and "
        f"{rule.threshold:g} x the usual {rate:.2f} per hour over the previous "
        f"{rule.baseline_hours} hours)"
    )
