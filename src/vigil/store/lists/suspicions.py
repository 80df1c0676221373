"""Suspect entries and a person's decision on each: confirm or quarantine.

The flood guard opens a suspicion when an entry's matches surge (vigil.store.
flood_guard_enforcement); the entry keeps matching, every match going to review. A person
then decides:

- confirm: the entry is right (e.g. known material spreading fast). It is normal again and
  the highest hourly count of the surge becomes its accepted rate: the guard's limit for it
  is never below that again, so the same rate is not flagged twice.
- quarantine: the entry is wrong (a colliding or poisoned hash). It stops matching, as an
  ordinary status change with its entry event, and can be enabled again later.

Both are audited (vigil.store.lists.audit_trail) and need a reason. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from vigil.store.lists.audit_trail import checked_actor, record_suspicion_change
from vigil.store.lists.entry_status import StatusChange, change_status, get_entry
from vigil.store.lists.errors import StatusChangeRefused
from vigil.store.models import (
    EntryStatus,
    FloodSuspicion,
    HashList,
    ListEntry,
    MatchStat,
    SuspicionState,
    utcnow,
)

MAX_REASON_CHARS = 2000


class NotSuspect(StatusChangeRefused):
    """The entry has no open suspicion to decide."""


@dataclass(frozen=True, slots=True)
class SuspectView:
    """One open suspicion, as an operator sees it."""

    entry_id: int
    list_name: str
    signal_type: str
    signal: str
    external_id: str | None
    entry_status: EntryStatus
    hour: datetime  # the hour that surged
    matches: int  # in that hour, when the guard raised it
    limit: float
    explanation: str
    raised_at: datetime
    total_matches: int  # the entry's live matches ever counted


def open_suspicions(session: Session, list_name: str | None = None) -> list[SuspectView]:
    """Open suspicions, oldest first; with ``list_name`` only that list's."""
    # Columns rather than the entry object: an entry already in the session would show
    # its stale match_count (record_matches updates it in SQL).
    query = (
        select(
            FloodSuspicion,
            ListEntry.signal_type,
            ListEntry.signal,
            ListEntry.external_id,
            ListEntry.status,
            ListEntry.match_count,
            HashList.name,
        )
        .join(ListEntry, ListEntry.id == FloodSuspicion.entry_id)
        .join(HashList, HashList.id == ListEntry.list_id)
        .where(FloodSuspicion.state == SuspicionState.OPEN)
        .order_by(FloodSuspicion.raised_at, FloodSuspicion.id)
    )
    if list_name is not None:
        query = query.where(HashList.name == list_name.strip())
    return [_view(row) for row in session.execute(query)]


def suspect_entry_ids(session: Session, entry_ids: list[int]) -> set[int]:
    """Which of ``entry_ids`` are suspect now."""
    if not entry_ids:
        return set()
    return set(
        session.scalars(
            select(FloodSuspicion.entry_id).where(
                FloodSuspicion.entry_id.in_(entry_ids), FloodSuspicion.state == SuspicionState.OPEN
            )
        )
    )


def confirm_suspect(
    session: Session,
    entry_id: int,
    *,
    actor: str,
    reason: str,
    list_name: str | None = None,
) -> FloodSuspicion:
    """The entry is right: back to normal, its surge rate accepted."""
    entry, suspicion = _open_one(session, entry_id, list_name)
    suspicion.accepted_rate = _highest_hour_since(session, entry.id, suspicion)
    _decide(suspicion, SuspicionState.CONFIRMED, actor, reason)
    record_suspicion_change(
        session,
        entry.id,
        actor=actor,
        list_name=entry.hash_list.name,
        change="suspect_confirmed",
        reason=suspicion.decision_reason,
    )
    session.flush()
    return suspicion


def quarantine_suspect(
    session: Session,
    entry_id: int,
    *,
    actor: str,
    reason: str,
    list_name: str | None = None,
) -> StatusChange:
    """The entry is wrong: it stops matching (through the change feed)."""
    entry, suspicion = _open_one(session, entry_id, list_name)
    _decide(suspicion, SuspicionState.QUARANTINED, actor, reason)
    change = change_status(
        entry, EntryStatus.QUARANTINED, actor=actor, reason=suspicion.decision_reason
    )
    record_suspicion_change(
        session,
        entry.id,
        actor=actor,
        list_name=entry.hash_list.name,
        change="suspect_quarantined",
        reason=suspicion.decision_reason,
    )
    session.flush()
    return change


def open_suspicion_of(session: Session, entry_id: int) -> FloodSuspicion | None:
    return session.scalar(
        select(FloodSuspicion).where(
            FloodSuspicion.entry_id == entry_id, FloodSuspicion.state == SuspicionState.OPEN
        )
    )


def _open_one(
    session: Session, entry_id: int, list_name: str | None
) -> tuple[ListEntry, FloodSuspicion]:
    entry = get_entry(session, entry_id, list_name)
    suspicion = open_suspicion_of(session, entry.id)
    if suspicion is None:
        raise NotSuspect(f"entry {entry.id} of {entry.hash_list.name!r} is not suspect")
    return entry, suspicion


def _decide(suspicion: FloodSuspicion, state: SuspicionState, actor: str, reason: str) -> None:
    cleaned = (reason or "").strip()
    if not cleaned:
        raise StatusChangeRefused(f"give a reason to decide on entry {suspicion.entry_id}")
    suspicion.state = state
    suspicion.decided_by = checked_actor(actor)
    suspicion.decided_at = utcnow()
    suspicion.decision_reason = cleaned[:MAX_REASON_CHARS]


def _highest_hour_since(session: Session, entry_id: int, suspicion: FloodSuspicion) -> int:
    """The busiest hour from the surge on, the surge hour's later matches included."""
    highest = session.scalar(
        select(func.max(MatchStat.match_count)).where(
            MatchStat.entry_id == entry_id, MatchStat.bucket_start >= suspicion.hour
        )
    )
    return max(int(highest or 0), suspicion.matches)


def _view(row: Row[*tuple[Any, ...]]) -> SuspectView:
    suspicion: FloodSuspicion = row[0]
    return SuspectView(
        entry_id=suspicion.entry_id,
        list_name=row.name,
        signal_type=str(row.signal_type),
        signal=row.signal,
        external_id=row.external_id,
        entry_status=row.status,
        hour=suspicion.hour,
        matches=suspicion.matches,
        limit=suspicion.limit,
        explanation=suspicion.explanation,
        raised_at=suspicion.raised_at,
        total_matches=row.match_count,
    )
