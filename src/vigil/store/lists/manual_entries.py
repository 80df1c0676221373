"""Adding single hashes to a list by hand, e.g. a reviewer's decision: a confirmed item's
hashes to the platform's own list, a false positive's to an allow-list.

New entries are ORM inserts, so the change feed's flush hook stamps their ``change_seq``
like an import's, and the live match index picks them up at its next poll. A hash the list
already holds is not added twice; one someone disabled or quarantined is switched back on
(with an audit event), since the person adding it now wants it to match. One the source
deleted stays deleted. The act is audited once per call, with counts, never hashes. The
caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.lists.audit_trail import checked_actor, record_list_change
from vigil.store.lists.entry_status import change_status
from vigil.store.models import EntryStatus, HashList, ListEntry, SignalType, normalise_signal

MAX_SIGNALS = 16  # one item's hashes; a bulk load goes through list_import


@dataclass(frozen=True, slots=True)
class NewSignal:
    signal_type: SignalType
    signal: str


@dataclass(slots=True)
class AddedEntries:
    list_name: str
    added: list[int] = field(default_factory=list)  # new entries' ids
    existing: list[int] = field(default_factory=list)  # already there (re-enabled if off)
    skipped: list[int] = field(default_factory=list)  # deleted by the source: left alone

    @property
    def entry_ids(self) -> list[int]:
        return [*self.added, *self.existing]


def add_entries(
    session: Session,
    hash_list: HashList,
    signals: Sequence[NewSignal],
    *,
    actor: str,
    reason: str,
    classification: str | None = None,
    external_id: str | None = None,
) -> AddedEntries:
    """Add ``signals`` to ``hash_list`` (flushed, not committed); ``reason`` is audited."""
    actor = checked_actor(actor)
    if len(signals) > MAX_SIGNALS:
        raise ValueError(f"at most {MAX_SIGNALS} hashes at a time")
    wanted = _normalised(signals)
    result = AddedEntries(hash_list.name)
    for signal in wanted:
        entry = _existing(session, hash_list.id, signal)
        if entry is None:
            entry = ListEntry(
                hash_list=hash_list,
                signal_type=signal.signal_type,
                signal=signal.signal,
                classification=_clip(classification, 64),
                external_id=_clip(external_id, 255),
                source=f"manual:{actor}"[:500],
            )
            session.add(entry)
            session.flush()
            result.added.append(entry.id)
        elif entry.status is EntryStatus.DELETED:
            result.skipped.append(entry.id)
        else:
            if entry.status is not EntryStatus.ACTIVE:
                change_status(entry, EntryStatus.ACTIVE, actor=actor, reason=reason)
            result.existing.append(entry.id)
    session.flush()
    if wanted:
        record_list_change(
            session,
            hash_list.name,
            actor=actor,
            change="entries_added",
            old={},
            new={
                "added": len(result.added),
                "existing": len(result.existing),
                "skipped": len(result.skipped),
                "reason": reason[:500],
            },
        )
    return result


def _normalised(signals: Sequence[NewSignal]) -> list[NewSignal]:
    seen: dict[tuple[SignalType, str], NewSignal] = {}
    for signal in signals:
        kind = SignalType(signal.signal_type)
        if kind is SignalType.VIDEO_PDQ:
            raise ValueError("video entries need their frames: import them instead")
        value = normalise_signal(kind, signal.signal)
        seen.setdefault((kind, value), NewSignal(kind, value))
    return list(seen.values())


def _existing(session: Session, list_id: int, signal: NewSignal) -> ListEntry | None:
    return session.scalar(
        select(ListEntry).where(
            ListEntry.list_id == list_id,
            ListEntry.signal_type == signal.signal_type,
            ListEntry.signal == signal.signal,
        )
    )


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
