"""The catalogue of hash lists ("banks"): create, find, change settings, switch on and off,
and count entries by status.

Functions take a session and leave the transaction to the caller, so several changes can
commit together: ``with database.transaction(write=True) as session: create_list(...)``.
List changes reach the match index through the change feed (ORM flushes stamp them), and
each change appends a security audit record (vigil.store.lists.audit_trail) to the same
transaction, naming the ``actor``. Lists are never deleted: disable them instead, so the
audit trail stays whole.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.settings import MatchingSettings
from vigil.store.lists.audit_trail import checked_actor, record_list_change
from vigil.store.lists.errors import DuplicateList, InvalidListSetting, UnknownList
from vigil.store.models import EntryStatus, HashList, ListEntry

MAX_NAME_CHARS = 200
PDQ_DISTANCE_RANGE = range(0, 257)
MIN_QUALITY_RANGE = range(0, 101)


@dataclass(frozen=True, slots=True)
class ListSummary:
    """A list's settings and how many entries it holds in each status."""

    id: int
    name: str
    description: str
    enabled: bool
    pdq_distance: int
    min_quality: int
    is_allow_list: bool
    version: str | None
    created_at: datetime
    updated_at: datetime
    counts: Mapping[EntryStatus, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, status: EntryStatus) -> int:
        return self.counts.get(status, 0)


def create_list(
    session: Session,
    name: str,
    *,
    actor: str,
    description: str = "",
    pdq_distance: int | None = None,
    min_quality: int | None = None,
    is_allow_list: bool = False,
    defaults: MatchingSettings | None = None,
) -> HashList:
    """A new, enabled list; unset thresholds come from ``defaults`` (the ``[matching]``
    settings). Raises DuplicateList or InvalidListSetting."""
    name, actor = checked_name(name), checked_actor(actor)
    if session.scalar(select(HashList.id).where(HashList.name == name)) is not None:
        raise DuplicateList(f"a hash list named {name!r} already exists")
    matching = defaults or MatchingSettings()
    hash_list = HashList(
        name=name,
        description=description.strip(),
        pdq_distance=_checked(
            "distance",
            matching.pdq_distance if pdq_distance is None else pdq_distance,
            PDQ_DISTANCE_RANGE,
        ),
        min_quality=_checked(
            "minimum quality",
            matching.min_quality if min_quality is None else min_quality,
            MIN_QUALITY_RANGE,
        ),
        is_allow_list=is_allow_list,
    )
    session.add(hash_list)
    session.flush()
    record_list_change(
        session,
        name,
        actor=actor,
        change="created",
        old={},
        new={"enabled": hash_list.enabled, **_settings(hash_list)},
    )
    return hash_list


def list_exists(session: Session, name: str) -> bool:
    """Whether a list called ``name`` exists, enabled or not."""
    return session.scalar(select(HashList.id).where(HashList.name == name.strip())) is not None


def get_list(session: Session, name: str) -> HashList:
    """The list called ``name``; raises UnknownList naming the lists that do exist."""
    hash_list = session.scalar(select(HashList).where(HashList.name == name.strip()))
    if hash_list is None:
        known = session.scalars(select(HashList.name).order_by(HashList.name).limit(10)).all()
        hint = f" (lists: {', '.join(known)})" if known else " (there are no lists yet)"
        raise UnknownList(f"no hash list named {name.strip()!r}{hint}")
    return hash_list


def update_list_settings(
    session: Session,
    name: str,
    *,
    actor: str,
    description: str | None = None,
    pdq_distance: int | None = None,
    min_quality: int | None = None,
    is_allow_list: bool | None = None,
) -> HashList:
    """Change the settings given (None: leave as is); the index follows through the feed.
    Audited only when a value actually changes."""
    actor = checked_actor(actor)
    hash_list = get_list(session, name)
    before = _settings(hash_list)
    if description is not None:
        hash_list.description = description.strip()
    if pdq_distance is not None:
        hash_list.pdq_distance = _checked("distance", pdq_distance, PDQ_DISTANCE_RANGE)
    if min_quality is not None:
        hash_list.min_quality = _checked("minimum quality", min_quality, MIN_QUALITY_RANGE)
    if is_allow_list is not None:
        hash_list.is_allow_list = is_allow_list
    session.flush()
    after = _settings(hash_list)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        record_list_change(
            session,
            hash_list.name,
            actor=actor,
            change="settings",
            old={key: before[key] for key in changed},
            new={key: after[key] for key in changed},
        )
    return hash_list


def set_list_enabled(session: Session, name: str, enabled: bool, *, actor: str) -> bool:
    """Switch a whole list on or off; True (and audited) if that changed anything. Entries
    keep their own status, so enabling a list again restores exactly what it matched."""
    actor = checked_actor(actor)
    hash_list = get_list(session, name)
    if hash_list.enabled == enabled:
        return False
    hash_list.enabled = enabled
    session.flush()
    record_list_change(
        session,
        hash_list.name,
        actor=actor,
        change="enabled" if enabled else "disabled",
        old={"enabled": not enabled},
        new={"enabled": enabled},
    )
    return True


def list_summaries(session: Session) -> list[ListSummary]:
    """Every list, by name, with its entry counts."""
    lists = session.scalars(select(HashList).order_by(HashList.name)).all()
    counts = status_counts(session, [hash_list.id for hash_list in lists])
    return [_summary(hash_list, counts.get(hash_list.id, {})) for hash_list in lists]


def list_summary(session: Session, name: str) -> ListSummary:
    hash_list = get_list(session, name)
    return _summary(hash_list, status_counts(session, [hash_list.id]).get(hash_list.id, {}))


def status_counts(session: Session, list_ids: Collection[int]) -> dict[int, dict[EntryStatus, int]]:
    """Entries per status for each list id (statuses without entries are absent)."""
    if not list_ids:
        return {}
    rows = session.execute(
        select(ListEntry.list_id, ListEntry.status, func.count())
        .where(ListEntry.list_id.in_(list(list_ids)))
        .group_by(ListEntry.list_id, ListEntry.status)
    ).all()
    counts: dict[int, dict[EntryStatus, int]] = {}
    for list_id, status, count in rows:
        counts.setdefault(list_id, {})[EntryStatus(status)] = count
    return counts


def checked_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidListSetting("a list name cannot be empty")
    if len(cleaned) > MAX_NAME_CHARS:
        raise InvalidListSetting(f"a list name is at most {MAX_NAME_CHARS} characters")
    if not cleaned.isprintable():
        raise InvalidListSetting("a list name cannot hold control characters")
    return cleaned


def _checked(label: str, value: int, allowed: range) -> int:
    if value not in allowed:
        raise InvalidListSetting(
            f"{label} must be between {allowed.start} and {allowed.stop - 1}, got {value}"
        )
    return value


def _settings(hash_list: HashList) -> dict[str, str | int | bool]:
    """The settings an audit record shows before and after a change."""
    return {
        "description": hash_list.description,
        "pdq_distance": hash_list.pdq_distance,
        "min_quality": hash_list.min_quality,
        "is_allow_list": hash_list.is_allow_list,
    }


def _summary(hash_list: HashList, counts: Mapping[EntryStatus, int]) -> ListSummary:
    return ListSummary(
        id=hash_list.id,
        name=hash_list.name,
        description=hash_list.description,
        enabled=hash_list.enabled,
        pdq_distance=hash_list.pdq_distance,
        min_quality=hash_list.min_quality,
        is_allow_list=hash_list.is_allow_list,
        version=hash_list.version,
        created_at=hash_list.created_at,
        updated_at=hash_list.updated_at,
        counts=dict(counts),
    )
