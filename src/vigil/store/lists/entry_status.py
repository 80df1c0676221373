"""Switching single entries off and on: disable, enable, quarantine, each with who and why.

Every change appends an EntryEvent (the entry's history) and a security audit record
(vigil.store.lists.audit_trail) in the same transaction, and reaches the match index through the
change feed. Entries are never removed: only their source deletes them, by import,
and a deleted entry keeps its row and history. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from vigil.store.audit import checked_actor
from vigil.store.lists.audit_trail import record_entry_change
from vigil.store.lists.errors import StatusChangeRefused, UnknownEntry
from vigil.store.models import EntryStatus, HashList, ListEntry

_SHORTEST_HASH = 32  # md5; entry ids are shorter, so the two never mix up


@dataclass(frozen=True, slots=True)
class StatusChange:
    entry_id: int
    list_name: str
    old_status: EntryStatus
    new_status: EntryStatus

    @property
    def changed(self) -> bool:
        return self.old_status != self.new_status


def get_entry(session: Session, entry_id: int, list_name: str | None = None) -> ListEntry:
    """The entry with that id; with ``list_name``, only if it belongs to that list (so a
    mistyped id cannot switch off an entry of another list)."""
    query = select(ListEntry).where(ListEntry.id == entry_id)
    if list_name is not None:
        query = query.join(HashList).where(HashList.name == list_name.strip())
    entry = session.scalar(query)
    if entry is None:
        where = f" in list {list_name.strip()!r}" if list_name is not None else ""
        raise UnknownEntry(f"no entry {entry_id}{where}")
    return entry


def resolve_entry_id(session: Session, list_name: str, reference: str) -> int:
    """An entry id from what an operator types: the id itself, or the entry's hash (hex;
    for a video entry, its frame-set signal) within the list."""
    text = reference.strip().lower()
    if text.isdigit() and len(text) < _SHORTEST_HASH:
        return int(text)
    ids = session.scalars(
        select(ListEntry.id)
        .join(HashList)
        .where(HashList.name == list_name.strip(), ListEntry.signal == text)
    ).all()
    if not ids:
        raise UnknownEntry(f"no entry with hash {text[:64]!r} in list {list_name.strip()!r}")
    if len(ids) > 1:
        found = ", ".join(str(entry_id) for entry_id in ids)
        raise UnknownEntry(f"the hash is in several entries ({found}): give the entry id")
    return ids[0]


def disable_entry(
    session: Session, entry_id: int, *, actor: str, reason: str, list_name: str | None = None
) -> StatusChange:
    """Stop matching an entry, e.g. after false positives; ``reason`` is required."""
    entry = get_entry(session, entry_id, list_name)
    return change_status(entry, EntryStatus.DISABLED, actor=actor, reason=reason)


def quarantine_entry(
    session: Session, entry_id: int, *, actor: str, reason: str, list_name: str | None = None
) -> StatusChange:
    """Hold an entry back pending review; ``reason`` is required."""
    entry = get_entry(session, entry_id, list_name)
    return change_status(entry, EntryStatus.QUARANTINED, actor=actor, reason=reason)


def enable_entry(
    session: Session,
    entry_id: int,
    *,
    actor: str,
    reason: str | None = None,
    list_name: str | None = None,
) -> StatusChange:
    """Match a disabled or quarantined entry again."""
    entry = get_entry(session, entry_id, list_name)
    return change_status(entry, EntryStatus.ACTIVE, actor=actor, reason=reason)


def change_status(
    entry: ListEntry, status: EntryStatus, *, actor: str, reason: str | None
) -> StatusChange:
    """Apply a local status decision to an entry loaded in a session; no event and no
    audit record if nothing changes."""
    session = object_session(entry)
    if session is None:  # the audit record could not join the change's transaction
        raise StatusChangeRefused(f"entry {entry.id} is not loaded in a session")
    actor = checked_actor(actor, refusal=StatusChangeRefused)
    old, reason = entry.status, _clean(reason)
    _check_transition(entry, status, reason)
    change = StatusChange(entry.id, entry.hash_list.name, old, status)
    if entry.set_status(status, actor=actor, reason=reason) is not None:
        record_entry_change(
            session,
            entry.id,
            actor=actor,
            list_name=change.list_name,
            old_status=old,
            new_status=status,
            reason=reason,
        )
    return change


def _check_transition(entry: ListEntry, status: EntryStatus, reason: str | None) -> None:
    if status is EntryStatus.DELETED:
        raise StatusChangeRefused(
            "entries are deleted only by their source (an import); disable it instead"
        )
    if entry.status is EntryStatus.DELETED and status is not EntryStatus.DELETED:
        raise StatusChangeRefused(
            f"entry {entry.id} was deleted by its source; it comes back only if the source "
            "lists it again"
        )
    if status is not EntryStatus.ACTIVE and not _clean(reason):
        raise StatusChangeRefused(f"give a reason to make entry {entry.id} {status}")


def _clean(reason: str | None) -> str | None:
    return reason.strip() or None if reason is not None else None
