"""Applying the flood-guard rule to the recorded match counts: quarantine surging entries.

Only active entries of block lists are judged: allow-list matches raise no reports to
flood reviewers with, and an entry already held back has nothing left to stop. Each
quarantine is an ordinary status change with an audit event whose reason is the verdict's
explanation, so a reviewer can see why and enable the entry again. The caller commits
and reports what this returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.lists.flood_guard import HOUR, FloodGuardRule, FloodVerdict, judge_hour
from vigil.store.config import FloodGuardSettings
from vigil.store.entry_status import change_status
from vigil.store.match_stats import bucket_start
from vigil.store.models import EntryStatus, HashList, ListEntry, MatchStat, SignalType, utcnow

FLOOD_GUARD_ACTOR = "flood-guard"


@dataclass(frozen=True, slots=True)
class FloodQuarantine:
    """An entry the flood guard quarantined, and why."""

    entry_id: int
    list_id: int
    list_name: str
    signal_type: SignalType
    signal: str
    verdict: FloodVerdict


def flood_guard_rule(settings: FloodGuardSettings) -> FloodGuardRule:
    return FloodGuardRule(threshold=settings.threshold, min_matches=settings.min_matches,
                          baseline_hours=settings.baseline_hours)


def enforce_flood_guard(
    session: Session,
    settings: FloodGuardSettings,
    *,
    now: datetime | None = None,
    entry_ids: Collection[int] | None = None,
    actor: str = FLOOD_GUARD_ACTOR,
) -> list[FloodQuarantine]:
    """Judge the current hour of every entry (or of ``entry_ids``, e.g. those a screener
    just matched) and quarantine the surging ones. Does nothing when disabled."""
    if not settings.enabled:
        return []
    rule = flood_guard_rule(settings)
    hour = bucket_start(now or utcnow())
    candidates = _candidates(session, hour, rule, entry_ids)
    if not candidates:
        return []
    histories = _histories(session, list(candidates), hour, rule)
    quarantined = []
    for entry, matches in candidates.values():
        verdict = judge_hour(hour, matches, histories.get(entry.id, []), rule)
        if verdict.quarantine:
            change_status(entry, EntryStatus.QUARANTINED, actor=actor, reason=verdict.explanation)
            quarantined.append(FloodQuarantine(entry.id, entry.list_id, entry.hash_list.name,
                                               entry.signal_type, entry.signal, verdict))
    session.flush()
    return quarantined


def _candidates(
    session: Session, hour: datetime, rule: FloodGuardRule, entry_ids: Collection[int] | None
) -> dict[int, tuple[ListEntry, int]]:
    # The limit is never below min_matches, so quieter hours need no history at all.
    query = (
        select(ListEntry, MatchStat.match_count)
        .join(MatchStat, MatchStat.entry_id == ListEntry.id)
        .join(HashList, HashList.id == ListEntry.list_id)
        .where(MatchStat.bucket_start == hour, MatchStat.match_count > rule.min_matches,
               ListEntry.status == EntryStatus.ACTIVE, HashList.is_allow_list.is_(False))
        .order_by(ListEntry.id)
    )
    if entry_ids is not None:
        query = query.where(ListEntry.id.in_(list(entry_ids)))
    return {entry.id: (entry, matches) for entry, matches in session.execute(query).all()}


def _histories(
    session: Session, entry_ids: list[int], hour: datetime, rule: FloodGuardRule
) -> dict[int, list[tuple[datetime, int]]]:
    rows = session.execute(
        select(MatchStat.entry_id, MatchStat.bucket_start, MatchStat.match_count)
        .where(MatchStat.entry_id.in_(entry_ids),
               MatchStat.bucket_start >= hour - rule.baseline_hours * HOUR,
               MatchStat.bucket_start < hour)
    ).all()
    histories: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for entry_id, start, count in rows:
        histories[entry_id].append((start, count))
    return histories
