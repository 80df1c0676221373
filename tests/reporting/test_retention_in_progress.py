"""Retention never destroys what work in progress needs: media of an open case, and files of
a report that is not through yet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.reporting.filed_report import FiledEnv, filed_env, finished_report, open_case
from vigil.store import Database
from vigil.store.evidence import purge_expired
from vigil.store.models import Case, CaseStatus, Report, ReportState, utcnow

LATER = timedelta(days=400)  # far past the 30-day retention of the test vault


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[FiledEnv]:
    with filed_env(database, tmp_path, corpus_images) as made:
        yield made


def _purge(env: FiledEnv) -> set[str]:
    with env.database.session(write=True) as session:
        return {p.item_id for p in purge_expired(session, env.vault, now=utcnow() + LATER)}


def test_an_open_case_keeps_its_media(env: FiledEnv) -> None:
    case = open_case(env)  # one item confirmed, one pending: the case stays open
    assert _purge(env) == set()
    with env.database.transaction(write=True) as session:
        session.execute(update(Case).values(status=CaseStatus.DISMISSED))
    assert {case.reported_evidence, case.pending_evidence} <= _purge(env)


def test_an_unfinished_report_keeps_its_files(env: FiledEnv) -> None:
    case = open_case(env)
    report_id = finished_report(env, case, state=ReportState.FAILED)
    with env.database.transaction(write=True) as session:
        session.execute(update(Case).values(status=CaseStatus.CONFIRMED))
    assert case.reported_evidence not in _purge(env)  # the failed report still needs it
    with env.database.transaction(write=True) as session:
        session.execute(
            update(Report).where(Report.public_id == report_id).values(state=ReportState.RETRACTED)
        )
    assert case.reported_evidence in _purge(env)
