"""The statistics of a period, read from the store with aggregate SQL that runs the same on
SQLite and PostgreSQL.

A report belongs to the period in which it was finished (``finished_at``); its files, its
country, its incident type and its triage go with it. Referrals count where they were routed,
outcomes where they were recorded, information requests where they were made. Months are
bucketed with a CASE over boundaries computed here, so no date function of either dialect is
needed. Durations are read as (start, end) pairs and ranked in Python, exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from vigil.reporting.cybertipline.received import INCIDENT_TYPE_PATH
from vigil.stats.figures import (
    AgencyRow,
    CompanyAnswers,
    CompanyRow,
    Count,
    Durations,
    MonthRow,
    Statistics,
    Verdicts,
)
from vigil.stats.period import Period
from vigil.store.models import (
    Agency,
    FileVerdict,
    InfoRequest,
    InfoRequestState,
    IntakeFile,
    IntakeReport,
    IntakeState,
    OutcomeKind,
    Referral,
    ReferralOutcome,
    ReferralState,
    ReportingCompany,
    ReportLocation,
    ReportTriage,
    utcnow,
)
from vigil.store.shared.vocabulary import INCIDENT_TYPES as SCHEMA_INCIDENT_TYPES

# Anything other than the schema's incident types is counted as OTHER rather than printed: a
# label in a published report must not be text a reporter chose.
INCIDENT_TYPES = frozenset(SCHEMA_INCIDENT_TYPES)
OTHER = "Other or not stated"
UNKNOWN_COUNTRY = "Unknown"
_BATCH = 10_000  # duration rows fetched at a time


def statistics(session: Session, period: Period, *, now: datetime | None = None) -> Statistics:
    """Every figure of the period."""
    now = now or utcnow()
    months = months_of(session, period)
    triage, untriaged = time_to_triage(session, period)
    action, _ = time_to_action(session, period)
    return Statistics(
        period=period,
        generated_at=now,
        reports=sum(row.reports for row in months),
        files=sum(row.files for row in months),
        months=months,
        companies=by_company(session, period),
        incident_types=by_incident_type(session, period),
        countries=by_country(session, period),
        agencies=by_agency(session, period),
        verdicts=verdicts(session, period),
        time_to_triage=triage,
        untriaged=untriaged,
        time_to_action=action,
        unrouted=unrouted(session),
        info_requests=info_requests(session, period, now=now),
        outcomes=outcomes(session, period),
    )


# --- reports and files ---------------------------------------------------------------------


def _in_period(column: Any, period: Period) -> ColumnElement[bool]:
    return (column >= period.start) & (column < period.end)


def _finished_in(period: Period) -> ColumnElement[bool]:
    return (IntakeReport.state == IntakeState.FINISHED) & _in_period(
        IntakeReport.finished_at, period
    )


def _grouped(session: Session, inner: Select[Any]) -> dict[Any, int]:
    """COUNT(*) by the first column of ``inner``. Grouping on a subquery's column: PostgreSQL
    refuses GROUP BY on an expression whose bound parameters render differently."""
    rows = inner.subquery()
    key = next(iter(rows.c))
    query = select(key, func.count()).group_by(key)
    return {value: int(count) for value, count in session.execute(query)}


def months_of(session: Session, period: Period) -> list[MonthRow]:
    """Reports finished, and files they carried, in each month of the period."""
    months = period.months()
    bucket = case(
        *[
            (IntakeReport.finished_at < month.end, literal(index))
            for index, month in enumerate(months)
        ],
        else_=literal(-1),
    )
    reports = _grouped(session, select(bucket.label("bucket")).where(_finished_in(period)))
    files = _grouped(
        session,
        select(bucket.label("bucket"))
        .join(IntakeFile, IntakeFile.report_id == IntakeReport.id)
        .where(_finished_in(period)),
    )
    return [
        MonthRow(month.label, reports.get(index, 0), files.get(index, 0))
        for index, month in enumerate(months)
    ]


def by_company(session: Session, period: Period) -> list[CompanyRow]:
    def counted(query: Select[int, str, int]) -> dict[tuple[int, str], int]:
        grouped = query.where(_finished_in(period)).group_by(
            ReportingCompany.id, ReportingCompany.name
        )
        return {(company, name): int(count) for company, name, count in session.execute(grouped)}

    columns = (ReportingCompany.id, ReportingCompany.name, func.count())
    reports = counted(
        select(*columns).join(IntakeReport, IntakeReport.company_id == ReportingCompany.id)
    )
    files = counted(
        select(*columns)
        .join(IntakeReport, IntakeReport.company_id == ReportingCompany.id)
        .join(IntakeFile, IntakeFile.report_id == IntakeReport.id)
    )
    rows = [CompanyRow(key[1], count, files.get(key, 0)) for key, count in reports.items()]
    return sorted(rows, key=lambda row: (-row.reports, row.company))


def by_incident_type(session: Session, period: Period) -> list[Count]:
    kind = IntakeReport.parsed[INCIDENT_TYPE_PATH].as_string()
    counts: dict[str, int] = defaultdict(int)
    for value, count in _grouped(
        session, select(kind.label("kind")).where(_finished_in(period))
    ).items():
        counts[value if value in INCIDENT_TYPES else OTHER] += count
    return _ranked(counts)


def by_country(session: Session, period: Period) -> list[Count]:
    found = _grouped(
        session,
        select(ReportLocation.country.label("country"))
        .select_from(IntakeReport)
        .outerjoin(ReportLocation, ReportLocation.report_id == IntakeReport.id)
        .where(_finished_in(period)),
    )
    counts: dict[str, int] = defaultdict(int)
    for country, count in found.items():
        counts[country.upper() if country else UNKNOWN_COUNTRY] += count
    return _ranked(counts)


def verdicts(session: Session, period: Period) -> Verdicts:
    found = _grouped(
        session,
        select(IntakeFile.verdict.label("verdict"))
        .join(IntakeReport, IntakeReport.id == IntakeFile.report_id)
        .where(_finished_in(period)),
    )
    return Verdicts(
        known=found.get(FileVerdict.KNOWN, 0),
        seen=found.get(FileVerdict.SEEN, 0),
        new=found.get(FileVerdict.NEW, 0),
        unclassified=found.get(None, 0),
    )


def _ranked(counts: dict[str, int]) -> list[Count]:
    return [
        Count(label, count)
        for label, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


# --- triage, routing, agencies -------------------------------------------------------------


def _durations(session: Session, query: Select[*tuple[Any, ...]]) -> Durations:
    pairs = session.execute(query.execution_options(yield_per=_BATCH))
    return Durations.of((end - start).total_seconds() for start, end in pairs)


def time_to_triage(session: Session, period: Period) -> tuple[Durations, int]:
    """From the report's finish to its first priority; and how many still have none."""
    measured = _durations(
        session,
        select(IntakeReport.finished_at, ReportTriage.first_computed_at)
        .join(ReportTriage, ReportTriage.report_id == IntakeReport.id)
        .where(_finished_in(period)),
    )
    untriaged = (
        session.scalar(
            select(func.count())
            .select_from(IntakeReport)
            .outerjoin(ReportTriage, ReportTriage.report_id == IntakeReport.id)
            .where(_finished_in(period), ReportTriage.report_id.is_(None))
        )
        or 0
    )
    return measured, int(untriaged)


def time_to_action(session: Session, period: Period) -> tuple[Durations, int]:
    """From routing to the agency's accept or decline, for referrals routed in the period;
    and how many of those still wait."""
    routed = _in_period(Referral.routed_at, period)
    measured = _durations(
        session,
        select(Referral.routed_at, Referral.acted_at).where(routed, Referral.acted_at.is_not(None)),
    )
    waiting = (
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(routed, Referral.state == ReferralState.ROUTED)
        )
        or 0
    )
    return measured, int(waiting)


def by_agency(session: Session, period: Period) -> list[AgencyRow]:
    counts: dict[str, dict[ReferralState, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        select(Agency.name, Referral.state, func.count())
        .join(Agency, Agency.id == Referral.agency_id)
        .where(_in_period(Referral.routed_at, period))
        .group_by(Agency.name, Referral.state)
    )
    for name, state, count in rows:
        counts[name][state] += int(count)
    result = [
        AgencyRow(
            name,
            sum(states.values()),
            states[ReferralState.ACCEPTED],
            states[ReferralState.DECLINED],
            states[ReferralState.ROUTED],
        )
        for name, states in counts.items()
    ]
    return sorted(result, key=lambda row: (-row.referred, row.agency))


def unrouted(session: Session) -> int:
    """Reports waiting for a person to route them now (a queue, not a period's figure)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(Referral.state == ReferralState.UNROUTED)
        )
        or 0
    )


def first_finished_at(session: Session) -> datetime | None:
    """When the first report was finished (None before any): the earliest year there can be
    figures for."""
    first: datetime | None = session.scalar(select(func.min(IntakeReport.finished_at)))
    return first


def outcomes(session: Session, period: Period) -> list[Count]:
    """Every kind, zero included, in the order investigations progress."""
    found = _grouped(
        session,
        select(ReferralOutcome.kind.label("kind")).where(
            _in_period(ReferralOutcome.recorded_at, period)
        ),
    )
    return [Count(kind.value, found.get(kind, 0)) for kind in OutcomeKind]


def info_requests(session: Session, period: Period, *, now: datetime) -> list[CompanyAnswers]:
    made = _in_period(InfoRequest.requested_at, period)
    rows = session.execute(
        select(
            ReportingCompany.name,
            InfoRequest.state,
            InfoRequest.requested_at,
            InfoRequest.due_at,
            InfoRequest.answered_at,
        )
        .join(ReportingCompany, ReportingCompany.id == InfoRequest.company_id)
        .where(made)
        .execution_options(yield_per=_BATCH)
    )
    by_company: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for name, *request in rows:
        by_company[name].append(tuple(request))
    answers = [_answers(name, requests, now) for name, requests in by_company.items()]
    return sorted(answers, key=lambda row: (-row.requests, row.company))


def _answers(company: str, requests: Iterable[tuple[Any, ...]], now: datetime) -> CompanyAnswers:
    requests = list(requests)
    answered = [
        (asked, due, at)
        for state, asked, due, at in requests
        if state is InfoRequestState.ANSWERED and at is not None
    ]
    still_open = [due for state, _, due, _ in requests if state is InfoRequestState.OPEN]
    return CompanyAnswers(
        company=company,
        requests=len(requests),
        answered=len(answered),
        open=len(still_open),
        overdue=sum(1 for due in still_open if due < now),
        late=sum(1 for _, due, at in answered if at > due),
        time_to_answer=Durations.of((at - asked).total_seconds() for asked, _, at in answered),
    )
