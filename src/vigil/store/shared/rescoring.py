"""Marking triaged reports for re-scoring when a new fact arrives.

The clearinghouse (labels, links) and triage (notes) both mark; the triage job re-scores.
Living in the store keeps the domain services from importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from vigil.store.affected_rows import affected_rows
from vigil.store.models.triage import ReportTriage

_CHUNK = 500  # keeps IN lists well under every backend's parameter limit


def mark_for_rescore(session: Session, report_ids: Iterable[int]) -> int:
    """Flag the triaged ones among ``report_ids`` as stale; returns how many were flagged.
    Reports not triaged yet need no flag: the job scores them anyway."""
    ids = sorted(set(report_ids))
    flagged = 0
    for start in range(0, len(ids), _CHUNK):
        flagged += affected_rows(
            session,
            update(ReportTriage)
            .where(
                ReportTriage.report_id.in_(ids[start : start + _CHUNK]),
                ReportTriage.stale.is_(False),
            )
            .values(stale=True),
        )
    return flagged
