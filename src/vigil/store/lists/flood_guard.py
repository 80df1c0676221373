"""Applying the flood-guard rule to the recorded match counts: surging entries become suspect.

Only active entries of block lists that are not already suspect are judged: allow-list
matches raise no reports, and an entry held back matches nothing. A surge never changes the
entry's status (it keeps matching); it opens a suspicion (vigil.store.models.suspicions)
with the verdict's explanation and an audit record, and from then on its matches go to
review until a person decides (vigil.store.lists.suspicions). The caller commits and
reports what this returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.core.settings import FloodGuardSettings
from vigil.lists.flood_guard import HOUR, FloodGuardRule, FloodVerdict, judge_hour
from vigil.store.lists.audit_trail import record_suspicion_change
from vigil.store.lists.match_counts import bucket_start
from vigil.store.models import (
    EntryStatus,
    FloodSuspicion,
    HashList,
    ListEntry,
    MatchStat,
    SignalType,
    SuspicionState,
    utcnow,
)

FLOOD_GUARD_ACTOR = "flood-guard"


@dataclass(frozen=True, slots=True)
class RaisedSuspicion:
    """An entry the flood guard made suspect, and why."""

    entry_id: int
    list_id: int
    list_name: str
    signal_type: SignalType
    signal: str
    verdict: FloodVerdict


def flood_guard_rule(settings: FloodGuardSettings) -> FloodGuardRule:
    return FloodGuardRule(
        threshold=settings.threshold,
        min_matches=settings.min_matches,
        baseline_hours=settings.baseline_hours,
        min_history_hours=settings.min_history_hours,
    )


def enforce_flood_guard(
    session: Session,
    settings: FloodGuardSettings,
    *,
    now: datetime | None = None,
    entry_ids: Collection[int] | None = None,
    actor: str = FLOOD_GUARD_ACTOR,
) -> list[RaisedSuspicion]:
    """Judge the current hour of every entry (or of ``entry_ids``, e.g. those a screener
    just matched) and make the surging ones suspect. Does nothing when disabled."""
    if not settings.enabled:
        return []
    rule = flood_guard_rule(settings)
    hour = bucket_start(now or utcnow())
    candidates = _candidates(session, hour, rule, entry_ids)
    if not candidates:
        return []
    since = counting_since(session)
    histories = _histories(session, list(candidates), hour, rule)
    accepted = accepted_rates(session, list(candidates))
    raised = []
    for entry, matches in candidates.values():
        verdict = judge_hour(
            hour,
            matches,
            histories.get(entry.id, []),
            rule,
            counting_since=since,
            accepted_rate=accepted.get(entry.id, 0),
        )
        if verdict.surge and raise_suspicion(session, entry, hour, verdict, actor):
            raised.append(
                RaisedSuspicion(
                    entry.id,
                    entry.list_id,
                    entry.hash_list.name,
                    entry.signal_type,
                    entry.signal,
                    verdict,
                )
            )
    session.flush()
    return raised


def counting_since(session: Session) -> datetime | None:
    """The oldest hour with a counted live match of any entry: how long the guard has
    watched this install (None: never)."""
    return session.scalar(select(func.min(MatchStat.bucket_start)))


def accepted_rates(session: Session, entry_ids: list[int]) -> dict[int, int]:
    """Per entry, the highest hourly count a person confirmed."""
    rows = session.execute(
        select(FloodSuspicion.entry_id, func.max(FloodSuspicion.accepted_rate))
        .where(
            FloodSuspicion.entry_id.in_(entry_ids), FloodSuspicion.state == SuspicionState.CONFIRMED
        )
        .group_by(FloodSuspicion.entry_id)
    ).all()
    return {entry_id: int(rate or 0) for entry_id, rate in rows}


def raise_suspicion(
    session: Session, entry: ListEntry, hour: datetime, verdict: FloodVerdict, actor: str
) -> bool:
    """Open a suspicion unless one is open already, e.g. another screener's a moment ago
    (one open per entry; the conflict is skipped, never an error that fails an upload).
    True if this call opened it, with its audit record."""
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if on_postgresql else sqlite.insert
    statement = (
        insert(FloodSuspicion)
        .values(
            entry_id=entry.id,
            state=SuspicionState.OPEN,
            hour=hour,
            matches=verdict.matches,
            baseline_rate=verdict.baseline_rate,
            limit=verdict.limit,
            explanation=verdict.explanation,
            raised_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[FloodSuspicion.entry_id],
            index_where=FloodSuspicion.state == SuspicionState.OPEN,
        )
        .returning(FloodSuspicion.id)
    )
    if session.execute(statement).scalar_one_or_none() is None:  # already open
        return False
    record_suspicion_change(
        session,
        entry.id,
        actor=actor,
        list_name=entry.hash_list.name,
        change="suspect",
        reason=verdict.explanation,
    )
    return True


def _candidates(
    session: Session, hour: datetime, rule: FloodGuardRule, entry_ids: Collection[int] | None
) -> dict[int, tuple[ListEntry, int]]:
    # The limit is never below min_matches, so quieter hours need no history at all.
    already_suspect = exists().where(
        FloodSuspicion.entry_id == ListEntry.id, FloodSuspicion.state == SuspicionState.OPEN
    )
    query = (
        select(ListEntry, MatchStat.match_count)
        .join(MatchStat, MatchStat.entry_id == ListEntry.id)
        .join(HashList, HashList.id == ListEntry.list_id)
        .where(
            MatchStat.bucket_start == hour,
            MatchStat.match_count > rule.min_matches,
            ListEntry.status == EntryStatus.ACTIVE,
            HashList.is_allow_list.is_(False),
            ~already_suspect,
        )
        .order_by(ListEntry.id)
    )
    if entry_ids is not None:
        query = query.where(ListEntry.id.in_(list(entry_ids)))
    return {entry.id: (entry, matches) for entry, matches in session.execute(query).all()}


def _histories(
    session: Session, entry_ids: list[int], hour: datetime, rule: FloodGuardRule
) -> dict[int, list[tuple[datetime, int]]]:
    rows = session.execute(
        select(MatchStat.entry_id, MatchStat.bucket_start, MatchStat.match_count).where(
            MatchStat.entry_id.in_(entry_ids),
            MatchStat.bucket_start >= hour - rule.baseline_hours * HOUR,
            MatchStat.bucket_start < hour,
        )
    ).all()
    histories: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for entry_id, start, count in rows:
        histories[entry_id].append((start, count))
    return histories
