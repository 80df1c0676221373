"""The period a set of statistics covers: [start, end) in UTC, and its calendar months."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

MAX_MONTHS = 240  # twenty years: a longer period is a typo, not a report


class InvalidPeriod(ValueError):
    """The dates do not make a period we can report on; the message says why."""


@dataclass(frozen=True)
class Month:
    label: str  # "2026-01"
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidPeriod("a period needs time-zone aware datetimes")
        if self.end <= self.start:
            raise InvalidPeriod("the period ends before it starts")
        if len(_boundaries(self.start, self.end)) - 1 > MAX_MONTHS:
            raise InvalidPeriod(f"a period may span at most {MAX_MONTHS} months")

    @classmethod
    def year(cls, year: int) -> Period:
        if not 1970 <= year <= 9998:
            raise InvalidPeriod(f"year {year} is out of range")
        return cls(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        """From the first day to the last day, both included."""
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        try:
            end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        except OverflowError:
            raise InvalidPeriod("the period ends after the year 9999") from None
        return cls(start, end)

    @property
    def label(self) -> str:
        year = self.start.year
        if (
            self.start == datetime(year, 1, 1, tzinfo=UTC)
            and year < 9999
            and self.end == datetime(year + 1, 1, 1, tzinfo=UTC)
        ):
            return str(year)
        last = (self.end - timedelta(microseconds=1)).date()
        return f"{self.start.date().isoformat()} to {last.isoformat()}"

    def months(self) -> list[Month]:
        """The calendar months the period touches, clipped to it."""
        edges = _boundaries(self.start, self.end)
        return [
            Month(f"{low.year:04d}-{low.month:02d}", low, high)
            for low, high in itertools.pairwise(edges)
        ]


def _boundaries(start: datetime, end: datetime) -> list[datetime]:
    edges = [start]
    year, month = start.year, start.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if year > 9999:
            break
        edge = datetime(year, month, 1, tzinfo=UTC)
        if edge >= end or len(edges) > MAX_MONTHS + 1:
            break
        edges.append(edge)
    edges.append(end)
    return edges
