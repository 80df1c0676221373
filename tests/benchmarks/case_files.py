"""A triage case file sent through the clearinghouse intake into a fresh SQLite database, and
the checks every case file must pass there: shared by the tests of each case file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from benchmarks.triage_cases.case import Case
from benchmarks.triage_cases.load import load
from vigil.store import Database, open_database
from vigil.store.models import IntakeReport, IntakeState

Loaded = tuple[Database, dict[int, int]]


@contextmanager
def loaded_cases(sqlite_template: Path, folder: Path, cases: Sequence[Case]) -> Iterator[Loaded]:
    """The cases sent through the intake once, into a copy of the migrated template."""
    shutil.copyfile(sqlite_template, folder / "vigil.db")
    database = open_database(f"sqlite:///{folder / 'vigil.db'}")
    try:
        yield database, load(database, folder / "work", cases)
    finally:
        database.dispose()


def reports_of(session: Session, levels: dict[int, int]) -> list[IntakeReport]:
    """The loaded reports with their files, in the case file's order."""
    return list(
        session.scalars(
            select(IntakeReport)
            .options(selectinload(IntakeReport.files))
            .where(IntakeReport.id.in_(list(levels)))
            .order_by(IntakeReport.id)
        ).all()
    )


def assert_one_finished_report_per_case(loaded: Loaded, cases: Sequence[Case]) -> None:
    database, levels = loaded
    assert list(levels.values()) == [case.level for case in cases]
    with database.session() as session:
        reports = reports_of(session, levels)
        assert len(reports) == len(cases)
        for report, case in zip(reports, cases, strict=True):
            assert report.state is IntakeState.FINISHED
            assert report.batched is case.batched
            assert len(report.files) == len(case.files)
            assert all(f.details is not None and f.verdict is not None for f in report.files)
