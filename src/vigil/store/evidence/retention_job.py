"""The scheduled retention job: purge expired evidence, sweep orphan blobs, audit each
destruction.

Declared in vigil.jobs.registry; every process may run it. Two runs racing for the same item
are serialised by the item's row lock (SQLite: the write lock): the loser finds the item
shredded and skips it, so each destruction is done, and audited, exactly once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from vigil.store.audit import AuditAction, AuditLog
from vigil.store.database import Database
from vigil.store.evidence.retention import PURGE_ACTOR, active_holds, purge_expired
from vigil.store.evidence.vault import EvidenceVault, sweep_orphans
from vigil.store.models import EvidenceItem, EvidencePurge, utcnow

SUBJECT_TYPE = "evidence_item"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionRun:
    purged: tuple[str, ...]  # ids of the items destroyed by this run
    orphans: int  # blobs removed that no live item referenced


@dataclass(frozen=True)
class DueItem:
    item_id: str
    retain_until: datetime
    retention_policy: str


class RetentionJob:
    """One run: :func:`purge_expired`, then :func:`sweep_orphans`."""

    def __init__(self, database: Database, vault: EvidenceVault) -> None:
        self.database = database
        self.vault = vault

    def run_once(self, now: datetime | None = None) -> RetentionRun:
        now = now or utcnow()
        with self.database.session(write=True) as session, audited_purges(session):
            # Read inside the session: skipping an item rolls back, which expires the rows.
            purged = tuple(purge.item_id for purge in purge_expired(session, self.vault, now=now))
        with self.database.session() as session:
            orphans = sweep_orphans(session, self.vault, now=now)
        run = RetentionRun(purged, len(orphans))
        log.info(
            "retention run: %d evidence items purged, %d orphan blobs removed",
            len(run.purged),
            run.orphans,
        )
        return run


def items_due(session: Session, now: datetime | None = None) -> list[DueItem]:
    """What a purge at ``now`` would destroy (for a dry run); changes nothing."""
    now = now or utcnow()
    candidates = session.execute(
        select(EvidenceItem.id, EvidenceItem.retain_until, EvidenceItem.retention_policy)
        .where(EvidenceItem.shredded_at.is_(None), EvidenceItem.retain_until <= now)
        .order_by(EvidenceItem.retain_until)
    ).all()
    # The same rule purge_expired applies, through the same public hold check.
    return [
        DueItem(item_id, retain_until, policy)
        for item_id, retain_until, policy in candidates
        if not active_holds(session, item_id, now)
    ]


@contextlib.contextmanager
def audited_purges(session: Session) -> Iterator[None]:
    """Append an AuditAction.DELETION record for every retention purge inside the very
    transaction that commits it, so the destruction and its audit record commit, or roll
    back, together (the vault commits each shred itself)."""
    pending: list[EvidencePurge] = []

    def collect(flushing: Session, _context: Any, _instances: Any) -> None:
        pending.extend(
            obj
            for obj in flushing.new
            if isinstance(obj, EvidencePurge) and obj.actor == PURGE_ACTOR
        )

    def append(committing: Session) -> None:
        committing.flush()  # collects purges not flushed yet
        for purge in list(pending):
            _append_deletion(committing, purge)
        pending.clear()

    def forget(_rolled_back: Session) -> None:
        pending.clear()

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_flush", collect),
        ("before_commit", append),
        ("after_rollback", forget),
    ]
    for name, listener in listeners:
        event.listen(session, name, listener)
    try:
        yield
    finally:
        for name, listener in listeners:
            event.remove(session, name, listener)


def _append_deletion(session: Session, purge: EvidencePurge) -> None:
    AuditLog(session).append(
        AuditAction.DELETION,
        actor=PURGE_ACTOR,
        subject_type=SUBJECT_TYPE,
        subject_id=purge.item_id,
        details={
            "item_id": purge.item_id,
            "retain_until": purge.retain_until.isoformat(),
            "purged_at": purge.purged_at.isoformat(),
            "reason": purge.reason,
        },
    )
