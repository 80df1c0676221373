"""The statistics of a period on SQLite and PostgreSQL, checked against what the known dataset
says they must be (computed here from its specs, independently of the queries)."""

from __future__ import annotations

import statistics as pystats
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from tests.stats.dataset import (
    AGENCIES,
    HOSTILE_TYPE,
    REPORTS,
    SECRET_EMAIL,
    SECRET_IP,
    ReferralSpec,
    ReportSpec,
    at,
    insert,
)
from vigil.stats.figures import Durations, Statistics, percentile
from vigil.stats.period import InvalidPeriod, Period
from vigil.stats.queries import INCIDENT_TYPES, OTHER, UNKNOWN_COUNTRY, statistics
from vigil.store import Database
from vigil.store.models import FileVerdict, IntakeState, ReferralState

NOW = at(2026, 6, 1)
YEAR = Period.year(2026)


@pytest.fixture
def loaded(database: Database) -> Iterator[Database]:
    with database.transaction(write=True) as session:
        insert(session)
    yield database


def _stats(database: Database, period: Period) -> Statistics:
    with database.transaction() as session:
        return statistics(session, period, now=NOW)


def _counted(period: Period) -> list[ReportSpec]:
    return [
        spec
        for spec in REPORTS
        if spec.state is IntakeState.FINISHED
        and spec.finished_at is not None
        and period.start <= spec.finished_at < period.end
    ]


def _referrals(period: Period) -> list[ReferralSpec]:
    return [
        ref
        for spec in REPORTS
        for ref in spec.referrals
        if ref.routed_at is not None and period.start <= ref.routed_at < period.end
    ]


def _hours(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p90 = pystats.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]
    return pystats.median(values), p90


def test_reports_files_and_months(loaded: Database) -> None:
    result = _stats(loaded, YEAR)
    counted = _counted(YEAR)
    assert result.reports == len(counted) > 0
    assert result.files == sum(len(spec.verdicts) for spec in counted)
    expected = Counter(f"{s.finished_at:%Y-%m}" for s in counted if s.finished_at)
    assert [row.month for row in result.months] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert {row.month: row.reports for row in result.months if row.reports} == expected
    files = Counter()
    for spec in counted:
        files[f"{spec.finished_at:%Y-%m}"] += len(spec.verdicts)
    assert {row.month: row.files for row in result.months if row.files} == +files


def test_month_bucketing_across_a_year_boundary(loaded: Database) -> None:
    period = Period.between(date(2025, 12, 1), date(2026, 1, 31))
    result = _stats(loaded, period)
    counted = _counted(period)
    assert [row.month for row in result.months] == ["2025-12", "2026-01"]
    by_month = {row.month: row.reports for row in result.months}
    assert by_month == {
        "2025-12": sum(1 for s in counted if s.finished_at.year == 2025),
        "2026-01": sum(1 for s in counted if s.finished_at.year == 2026),
    }
    assert by_month["2025-12"] >= 1 and by_month["2026-01"] >= 1  # the dataset's edge cases
    # 2026-12-31 23:00 is in 2026; 2027-01-01 00:00 is not.
    year = _stats(loaded, YEAR)
    assert year.months[-1].reports == sum(1 for s in _counted(YEAR) if s.finished_at.month == 12)
    assert all(s.finished_at.year == 2026 for s in _counted(YEAR))


def test_by_company_incident_type_and_country(loaded: Database) -> None:
    result = _stats(loaded, YEAR)
    counted = _counted(YEAR)
    assert {row.company: (row.reports, row.files) for row in result.companies} == {
        name: (
            sum(1 for s in counted if s.company == name),
            sum(len(s.verdicts) for s in counted if s.company == name),
        )
        for name in {s.company for s in counted}
    }
    types = Counter(s.incident if s.incident in INCIDENT_TYPES else OTHER for s in counted)
    assert {c.label: c.count for c in result.incident_types} == types
    assert HOSTILE_TYPE not in {c.label for c in result.incident_types}
    countries = Counter(s.country.upper() if s.country else UNKNOWN_COUNTRY for s in counted)
    assert {c.label: c.count for c in result.countries} == countries
    assert [c.count for c in result.countries] == sorted(countries.values(), reverse=True)


def test_known_seen_new_shares(loaded: Database) -> None:
    result = _stats(loaded, YEAR)
    verdicts = Counter(v for s in _counted(YEAR) for v in s.verdicts)
    figures = result.verdicts
    assert (figures.known, figures.seen, figures.new, figures.unclassified) == (
        verdicts[FileVerdict.KNOWN],
        verdicts[FileVerdict.SEEN],
        verdicts[FileVerdict.NEW],
        verdicts[None],
    )
    classified = figures.known + figures.seen + figures.new
    assert figures.known_or_seen_share == pytest.approx(
        (verdicts[FileVerdict.KNOWN] + verdicts[FileVerdict.SEEN]) / classified
    )


def test_time_to_triage(loaded: Database) -> None:
    result = _stats(loaded, YEAR)
    counted = _counted(YEAR)
    hours = [s.triage_after.total_seconds() / 3600 for s in counted if s.triage_after]
    median, p90 = _hours(hours)
    assert result.time_to_triage.measured == len(hours)
    assert result.time_to_triage.median_hours == pytest.approx(median)
    assert result.time_to_triage.p90_hours == pytest.approx(p90)
    assert result.untriaged == sum(1 for s in counted if s.triage_after is None)


def test_routing_agencies_and_outcomes(loaded: Database) -> None:
    result = _stats(loaded, YEAR)
    referrals = _referrals(YEAR)
    hours = [r.acted_after.total_seconds() / 3600 for r in referrals if r.acted_after]
    median, p90 = _hours(hours)
    assert result.time_to_action.measured == len(hours)
    assert result.time_to_action.median_hours == pytest.approx(median)
    assert result.time_to_action.p90_hours == pytest.approx(p90)
    expected = {}
    for code in {r.agency for r in referrals if r.agency}:
        mine = [r for r in referrals if r.agency == code]
        expected[AGENCIES[code]] = (
            len(mine),
            *(
                sum(1 for r in mine if r.state is state)
                for state in (ReferralState.ACCEPTED, ReferralState.DECLINED, ReferralState.ROUTED)
            ),
        )
    assert {
        row.agency: (row.referred, row.accepted, row.declined, row.awaiting)
        for row in result.agencies
    } == expected
    assert result.unrouted == sum(
        1 for s in REPORTS for r in s.referrals if r.state is ReferralState.UNROUTED
    )
    outcomes = Counter(
        kind.value
        for s in REPORTS
        for r in s.referrals
        for kind, when in r.outcomes
        if YEAR.start <= when < YEAR.end
    )
    assert {c.label: c.count for c in result.outcomes if c.count} == outcomes
    assert len(result.outcomes) == 5  # every kind listed, zeros too


def test_companies_answering_requests(loaded: Database) -> None:
    result = _stats(loaded, YEAR)
    rows = {row.company: row for row in result.info_requests}
    for company in {s.company for s in REPORTS}:
        asked = [
            i
            for s in REPORTS
            if s.company == company
            for r in s.referrals
            for i in r.info
            if YEAR.start <= i.requested_at < YEAR.end
        ]
        if not asked:
            assert company not in rows
            continue
        row = rows[company]
        answered = [i for i in asked if i.answered_after]
        still_open = [i for i in asked if not i.answered_after and not i.withdrawn]
        assert (row.requests, row.answered, row.open) == (
            len(asked),
            len(answered),
            len(still_open),
        )
        assert row.overdue == sum(
            1 for i in still_open if (i.requested_at - NOW).days + i.due_days < 0
        )
        assert row.late == sum(1 for i in answered if i.answered_after.days > i.due_days)
        median, p90 = _hours([i.answered_after.total_seconds() / 3600 for i in answered])
        assert row.time_to_answer.median_hours == pytest.approx(median)
        assert row.time_to_answer.p90_hours == pytest.approx(p90)
    assert sum(r.overdue for r in rows.values()) >= 1 and sum(r.late for r in rows.values()) >= 1


def test_nothing_personal_in_the_figures(loaded: Database) -> None:
    text = repr(_stats(loaded, YEAR))
    for secret in (
        SECRET_EMAIL,
        SECRET_IP,
        "Springfield",
        "secret question",
        "secret answer",
        "private note",
        HOSTILE_TYPE,
    ):
        assert secret not in text


def test_an_empty_period(database: Database) -> None:
    result = _stats(database, YEAR)
    assert result.empty and result.reports == result.files == 0
    assert len(result.months) == 12 and all(row.reports == 0 for row in result.months)
    assert result.time_to_triage == Durations(0, None, None)
    assert result.verdicts.known_or_seen_share == 0.0


def test_percentile_interpolates() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([5.0], 0.9) == 5.0
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.9) == pytest.approx(
        pystats.quantiles(values, n=10, method="inclusive")[8]
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1), datetime(2026, 2, 1)),
        (datetime(1990, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_bad_periods_are_refused(start: datetime, end: datetime) -> None:
    with pytest.raises(InvalidPeriod):
        Period(start, end)


def test_period_labels_and_months() -> None:
    assert YEAR.label == "2026"
    period = Period.between(date(2025, 11, 15), date(2026, 2, 10))
    assert period.label == "2025-11-15 to 2026-02-10"
    months = period.months()
    assert [m.label for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months[0].start == period.start and months[-1].end == period.end
    with pytest.raises(InvalidPeriod):
        Period.year(10_000)
