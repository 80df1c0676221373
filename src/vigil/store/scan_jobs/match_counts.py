"""How many of each job's matches wait for review and how many were released to it, for the
scan-jobs page and API: one grouped count for a whole page of jobs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.models import ScanJobMatch, ScanMatchState


@dataclass(frozen=True, slots=True)
class MatchCounts:
    queued: int = 0
    released: int = 0


def match_counts(session: Session, job_ids: Collection[int]) -> dict[int, MatchCounts]:
    """Every job of ``job_ids`` (a job without matches counts zeros)."""
    if not job_ids:
        return {}
    rows = session.execute(
        select(ScanJobMatch.job_id, ScanJobMatch.state, func.count())
        .where(ScanJobMatch.job_id.in_(set(job_ids)))
        .group_by(ScanJobMatch.job_id, ScanJobMatch.state)
    ).all()
    counted: dict[int, dict[ScanMatchState, int]] = {job_id: {} for job_id in job_ids}
    for job_id, state, count in rows:
        counted[job_id][ScanMatchState(state)] = int(count)
    return {
        job_id: MatchCounts(
            queued=states.get(ScanMatchState.QUEUED, 0),
            released=states.get(ScanMatchState.RELEASED, 0),
        )
        for job_id, states in counted.items()
    }
