"""Retroactive matching's state in the database: where the next round starts (the change-feed
number the last one matched up to) and how the last round went.

The service keeps no state of its own beyond the database and the shared files, so the
checkpoint lives here, not in a file beside the stores: every worker sees the same one. A
round runs under the job lock ``RETRO_LOCK`` (vigil.store.job_locks), one process at a
time; ``move_checkpoint`` is called in the transaction that stores the round's matches, so a
round that dies is done again whole and a stored match never lacks its checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.store.models import RETRO_STATE_ROW_ID, ScanRetroState, utcnow

RETRO_LOCK = "scan-retro"  # the job-lock name of a round (also a lock file's name on SQLite)
MAX_ERROR_CHARS = 2000
MAX_BY_CHARS = 200


@dataclass(frozen=True, slots=True)
class RetroSummary:
    """What an operator sees: the checkpoint and the last round (None: none yet)."""

    checkpoint: int
    last_at: datetime | None
    last_by: str | None
    last_matches: int | None  # matches newly queued for review
    last_error: str | None


def retro_checkpoint(session: Session) -> int:
    """Where the next round starts: 0 before the first round."""
    state = session.get(ScanRetroState, RETRO_STATE_ROW_ID)
    return 0 if state is None else state.checkpoint


def move_checkpoint(
    session: Session, checkpoint: int, *, matches: int, by: str, now: datetime | None = None
) -> int:
    """Record a finished round; the checkpoint never moves back (a round started from an
    earlier ``--since`` matched up to the feed's end, never less than the last round did).
    Returns the checkpoint kept."""
    state = _state(session)
    state.checkpoint = max(state.checkpoint, checkpoint)
    _summarise(state, by, now, matches=matches, error=None)
    session.flush()
    return state.checkpoint


def record_failure(session: Session, error: str, *, by: str, now: datetime | None = None) -> None:
    """A round that failed: the checkpoint stays, so the next round does its changes again."""
    _summarise(_state(session), by, now, matches=None, error=_shown(error, MAX_ERROR_CHARS))
    session.flush()


def retro_summary(session: Session) -> RetroSummary:
    state = session.get(ScanRetroState, RETRO_STATE_ROW_ID)
    if state is None:
        return RetroSummary(0, None, None, None, None)
    return RetroSummary(
        state.checkpoint,
        state.last_retro_at,
        state.last_retro_by,
        state.last_retro_matches,
        state.last_retro_error,
    )


def _state(session: Session) -> ScanRetroState:
    """The row, locked for this transaction; created by the first round (under RETRO_LOCK,
    so two processes never create it at once)."""
    state = session.get(ScanRetroState, RETRO_STATE_ROW_ID, with_for_update=True)
    if state is None:
        state = ScanRetroState(id=RETRO_STATE_ROW_ID, checkpoint=0)
        session.add(state)
    return state


def _summarise(
    state: ScanRetroState, by: str, now: datetime | None, *, matches: int | None, error: str | None
) -> None:
    state.last_retro_at = now or utcnow()
    state.last_retro_by = _shown(by, MAX_BY_CHARS)
    state.last_retro_matches = matches
    state.last_retro_error = error


def _shown(text: str, limit: int) -> str:
    """Printable and bounded: an error may quote a file name or a service's answer, and
    PostgreSQL refuses a NUL in text."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])
