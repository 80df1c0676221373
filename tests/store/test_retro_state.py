"""The retroactive matching state (vigil.store.scan_jobs.retro_state) on SQLite and
PostgreSQL: one row, created by the first round; the checkpoint never moves back; a failure
keeps the checkpoint and says what went wrong, bounded."""

from __future__ import annotations

from sqlalchemy import func, select

from vigil.store import Database
from vigil.store.models import ScanRetroState
from vigil.store.scan_jobs.retro_state import (
    MAX_ERROR_CHARS,
    move_checkpoint,
    record_failure,
    retro_checkpoint,
    retro_summary,
)


def test_the_checkpoint_moves_forward_only_and_a_failure_keeps_it(database: Database) -> None:
    with database.session() as session:
        assert retro_checkpoint(session) == 0 and retro_summary(session).last_at is None
    with database.transaction(write=True) as session:
        assert move_checkpoint(session, 40, matches=3, by="vigil scan-jobs retro") == 40
    with database.transaction(write=True) as session:
        assert move_checkpoint(session, 12, matches=0, by="after fetching x") == 40
    with database.transaction(write=True) as session:
        record_failure(session, "OSError: " + "x" * 5000, by="after fetching \x00 y")
    with database.session() as session:
        summary = retro_summary(session)
        rows = session.scalar(select(func.count()).select_from(ScanRetroState))
    assert rows == 1 and summary.checkpoint == 40 and summary.last_matches is None
    assert summary.last_by == "after fetching ? y"
    assert summary.last_error is not None and len(summary.last_error) == MAX_ERROR_CHARS
    with database.transaction(write=True) as session:
        move_checkpoint(session, 41, matches=2, by="vigil scan-jobs retro")
    with database.session() as session:
        summary = retro_summary(session)
    assert (summary.checkpoint, summary.last_matches, summary.last_error) == (41, 2, None)
