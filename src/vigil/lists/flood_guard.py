"""The flood-guard rule: does an entry match far more often this hour than it usually does?

An entry that suddenly matches hundreds of uploads an hour may be a colliding or poisoned
hash (a harmless image listed by mistake) rather than a real surge of known material. The
guard never stops such an entry from matching: that would let anyone with an upload key
switch detection of a known picture off by uploading it often enough. It makes the entry
*suspect* instead, so its matches go to a person, who confirms or quarantines it. Pure: the
store feeds it match counts and applies the verdict.
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
    min_history_hours: int = 24  # judge nothing until live matches were counted this long

    def __post_init__(self) -> None:
        if not self.threshold > 1:
            raise ValueError("threshold must be greater than 1")
        if self.min_matches < 1:
            raise ValueError("min_matches must be at least 1")
        if self.baseline_hours < 1:
            raise ValueError("baseline_hours must be at least 1")
        if self.min_history_hours < 0:
            raise ValueError("min_history_hours cannot be negative")


@dataclass(frozen=True, slots=True)
class FloodVerdict:
    surge: bool  # the entry becomes suspect
    matches: int  # in the hour judged
    baseline_rate: float  # usual matches per hour
    limit: float  # more matches than this is a surge
    explanation: str  # one sentence for the audit trail and the operator
    judged: bool = True  # False: too little history yet, nothing was compared


def judge_hour(
    hour: datetime,
    matches: int,
    history: Iterable[tuple[datetime, int]],
    rule: FloodGuardRule,
    *,
    counting_since: datetime | None = None,
    accepted_rate: int = 0,
) -> FloodVerdict:
    """Judge ``matches`` in the hour starting at ``hour`` against the entry's history.

    ``history`` is (hour start, matches) per past hour, as ``match_history`` returns it;
    buckets outside the ``baseline_hours`` before ``hour`` are ignored, and hours without a
    bucket count as zero. The window is fixed rather than shortened for young entries: a
    newly listed entry that floods at once is exactly the mistake this rule is for, and
    ``min_matches`` still protects entries that merely match a few times.

    ``counting_since``: the start of the oldest hour in which any live match was counted
    (None: never). Until that lies ``min_history_hours`` before ``hour``, every usual rate
    is unknown (a new install), so nothing is judged. ``accepted_rate``: the highest hourly
    count a person confirmed for this entry; the limit is never below it, so a confirmed
    surge is not flagged again at the same rate.
    """
    if matches < 0:
        raise ValueError("matches cannot be negative")
    if accepted_rate < 0:
        raise ValueError("accepted_rate cannot be negative")
    baseline_rate = _baseline_total(hour, history, rule.baseline_hours) / rule.baseline_hours
    limit = max(float(rule.min_matches), rule.threshold * baseline_rate, float(accepted_rate))
    watched = _hours_watched(hour, counting_since)
    if watched < rule.min_history_hours:
        return FloodVerdict(
            False,
            matches,
            baseline_rate,
            limit,
            judged=False,
            explanation=(
                f"flood guard: not judged, live matches were counted for {watched} of the "
                f"{rule.min_history_hours} hours needed"
            ),
        )
    surge = matches > limit
    return FloodVerdict(
        surge=surge,
        matches=matches,
        baseline_rate=baseline_rate,
        limit=limit,
        explanation=_explain(hour, matches, baseline_rate, limit, surge, rule, accepted_rate),
    )


def _hours_watched(hour: datetime, counting_since: datetime | None) -> int:
    if counting_since is None:
        return 0
    return max(0, int((hour - counting_since) / HOUR))


def _baseline_total(hour: datetime, history: Iterable[tuple[datetime, int]], hours: int) -> int:
    start = hour - hours * HOUR
    return sum(count for bucket, count in history if start <= bucket < hour)


def _explain(
    hour: datetime,
    matches: int,
    rate: float,
    limit: float,
    surge: bool,
    rule: FloodGuardRule,
    accepted_rate: int,
) -> str:
    verdict = "more than" if surge else "within"
    accepted = f", and the confirmed {accepted_rate} per hour" if accepted_rate else ""
    return (
        f"flood guard: {matches} matches in the hour from {hour.isoformat(timespec='minutes')}, "
        f"{verdict} the limit of {limit:g} (the larger of {rule.min_matches} and "
        f"{rule.threshold:g} x the usual {rate:.2f} per hour over the previous "
        f"{rule.baseline_hours} hours{accepted})"
    )
