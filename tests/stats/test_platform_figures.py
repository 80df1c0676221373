"""A platform's figures for a period match the seeded facts: cases opened and closed, items
decided, reveals from the audit log, reports filed and the time from detection to report,
law-enforcement requests and the time to answer them. Expected values are computed from the
facts in tests/stats/platform_dataset.py, each counted where its event happened."""

from __future__ import annotations

import statistics as stdlib

import pytest

from tests.stats.platform_dataset import CASES, NOW, REQUESTS, YEAR, hours, in_year, insert
from vigil.stats.figures import Durations
from vigil.stats.period import Period
from vigil.stats.platform import (
    PlatformFigures,
    installation_figures,
    platform_figures,
)
from vigil.store import Database
from vigil.store.models.reports import LegalRequestStatus, ReportState
from vigil.store.models.review import CaseStatus, ItemStatus


@pytest.fixture
def figures(database: Database) -> PlatformFigures:
    with database.transaction(write=True) as session:
        insert(session)
    with database.transaction() as session:
        return platform_figures(session, Period.year(YEAR), now=NOW)


def _assert_durations(measured: Durations, values: list[float]) -> None:
    assert measured.measured == len(values)
    assert measured.median_hours == pytest.approx(stdlib.median(values))
    p90 = stdlib.quantiles(values, n=10, method="inclusive")[-1]
    assert measured.p90_hours == pytest.approx(p90)


def test_cases_decisions_and_reveals(figures: PlatformFigures) -> None:
    items = [item for case in CASES for item in case.items]
    assert figures.cases_opened == sum(in_year(case.opened_at) for case in CASES)
    for status, counted in (
        (CaseStatus.CONFIRMED, figures.cases_confirmed),
        (CaseStatus.DISMISSED, figures.cases_dismissed),
    ):
        assert counted == sum(c.status is status and in_year(c.closed_at) for c in CASES)
    for item_status, counted in (
        (ItemStatus.CONFIRMED, figures.items_confirmed),
        (ItemStatus.FALSE_POSITIVE, figures.items_false_positive),
    ):
        assert counted == sum(i.status is item_status and in_year(i.decided_at) for i in items)
    assert figures.reveals == sum(in_year(when) for item in items for when in item.reveals_at)
    assert figures.api_media_fetches == 0
    assert figures.cases_opened and figures.items_confirmed and figures.reveals  # not vacuous


def test_reports_filed_and_time_from_detection(figures: PlatformFigures) -> None:
    filed = [
        (case, report)
        for case in CASES
        for report in case.reports
        if report.state is ReportState.FINISHED and in_year(report.finished_at)
    ]
    assert figures.reports_filed == len(filed) >= 2
    assert figures.reports_failed == sum(
        r.state is ReportState.FAILED and in_year(r.created_at) for c in CASES for r in c.reports
    )
    _assert_durations(
        figures.detection_to_report,
        [
            hours(report.finished_at - case.opened_at)
            for case, report in filed
            if report.finished_at
        ],
    )


def test_law_enforcement_requests(figures: PlatformFigures) -> None:
    received = [r for r in REQUESTS if in_year(r.received_at)]
    answered = [r for r in received if r.answered_at is not None]
    still_open = [
        r for r in received if r.answered_at is None and r.status is LegalRequestStatus.OPEN
    ]
    asked = figures.requests
    assert asked.received == len(received)
    assert asked.answered == len(answered)
    assert asked.open == len(still_open)
    assert asked.overdue == sum(r.due_at < NOW for r in still_open) >= 1
    assert asked.late == sum(r.answered_at > r.due_at for r in answered if r.answered_at) >= 1
    _assert_durations(
        asked.time_to_answer,
        [hours(r.answered_at - r.received_at) for r in answered if r.answered_at],
    )


def test_a_platform_install_reports_its_own_work(database: Database) -> None:
    with database.transaction(write=True) as session:
        insert(session)
    with database.transaction() as session:
        platform = installation_figures(session, Period.year(YEAR), clearinghouse=False)
        both = installation_figures(session, Period.year(YEAR), clearinghouse=True)
    assert platform.platform is not None and not platform.clearinghouse
    assert both.platform is not None and both.clearinghouse  # a clearinghouse that reviews too


def test_a_clearinghouse_without_review_work_shows_only_its_figures(database: Database) -> None:
    with database.transaction() as session:
        only = installation_figures(session, Period.year(YEAR), clearinghouse=True)
        platform = installation_figures(session, Period.year(YEAR), clearinghouse=False)
    assert only.platform is None and only.clearinghouse
    assert platform.platform is not None and platform.platform.empty
