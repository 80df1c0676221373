"""The figures a period's statistics are made of: counts, shares and durations, as plain
dataclasses. They carry labels (months, company and agency names, countries, incident types,
outcome kinds) and numbers only: never a report's content, an entity or an address."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from vigil.stats.period import Period


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class MonthRow:
    month: str  # "2026-01"
    reports: int
    files: int


@dataclass(frozen=True)
class CompanyRow:
    company: str
    reports: int
    files: int


@dataclass(frozen=True)
class AgencyRow:
    """Referrals sent to one agency in the period and what became of them so far."""

    agency: str
    referred: int
    accepted: int
    declined: int
    awaiting: int  # routed, not yet accepted or declined


@dataclass(frozen=True)
class Durations:
    """How long something took, over every case that finished in the period."""

    measured: int
    median_hours: float | None
    p90_hours: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        ordered = sorted(max(0.0, value) for value in seconds)
        if not ordered:
            return cls(0, None, None)
        return cls(len(ordered), percentile(ordered, 0.5) / 3600, percentile(ordered, 0.9) / 3600)


def percentile(ordered: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (as numpy's default): the median of
    [1, 2, 3, 4] is 2.5."""
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Verdicts:
    """What the files received in the period turned out to be."""

    known: int
    seen: int
    new: int
    unclassified: int  # not (yet) compared

    @property
    def classified(self) -> int:
        return self.known + self.seen + self.new

    def share(self, count: int) -> float:
        return count / self.classified if self.classified else 0.0

    @property
    def known_or_seen_share(self) -> float:
        return self.share(self.known + self.seen)


@dataclass(frozen=True)
class CompanyAnswers:
    """How one reporting company answered agencies' requests made in the period."""

    company: str
    requests: int
    answered: int
    open: int
    overdue: int  # still open after the due date
    late: int  # answered after the due date
    time_to_answer: Durations


@dataclass(frozen=True)
class Statistics:
    period: Period
    generated_at: datetime
    reports: int
    files: int
    months: list[MonthRow]
    companies: list[CompanyRow]
    incident_types: list[Count]
    countries: list[Count]
    agencies: list[AgencyRow]
    verdicts: Verdicts
    time_to_triage: Durations
    untriaged: int  # finished in the period, not yet triaged
    time_to_action: Durations
    unrouted: int  # waiting in the routing queue for a person
    info_requests: list[CompanyAnswers]
    outcomes: list[Count]

    @property
    def empty(self) -> bool:
        return self.reports == 0
