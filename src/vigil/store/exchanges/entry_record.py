"""One list entry as a person asks about it: where it came from (the exchange that shared it,
its entry id there, member, classification, tags, or the file or person that added it) and
what became of reviewers' verdicts on it (its feedback lines), so feedback is seen on the
entry itself and not only on the case that matched it.

Read by the API (GET /v1/lists/{list}/entries/{entry}) and `vigil lists show NAME --entry`.
The entry's hash is not part of it: lists are shared under their owners' terms and are not
served (an entry is asked for by its id or by a hash the asker already holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.store.exchanges.entry_feedback import FeedbackLine, feedback_lines
from vigil.store.exchanges.provenance import EntryProvenance, entry_provenance
from vigil.store.lists.catalogue import get_list
from vigil.store.lists.entry_status import get_entry, resolve_entry_id
from vigil.store.lists.errors import UnknownEntry

# What names an entry: its id, or its hash, of which the longest (SHA-256, PDQ, a video's
# frame-set signal) has 64 hex digits; anything longer names no entry.
MAX_ENTRY_REFERENCE_CHARS = 64
# Entry ids are BIGINT; a longer number is no entry, and asking the database for it would
# fail (out of range) rather than find nothing.
_LARGEST_ENTRY_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class EntryRecord:
    list_name: str
    entry_id: int
    signal_type: str
    status: str  # active, disabled, quarantined, deleted
    status_reason: str | None
    added_at: datetime
    provenance: EntryProvenance
    feedback: tuple[FeedbackLine, ...]  # oldest first


def entry_record(session: Session, list_name: str, reference: str) -> EntryRecord:
    """The entry of ``list_name`` that ``reference`` names (its id, or its hash within the
    list, as `vigil lists disable --entry` takes it). Raises UnknownList or UnknownEntry."""
    hash_list = get_list(session, list_name)  # UnknownList names the lists that exist
    if len(reference.strip()) > MAX_ENTRY_REFERENCE_CHARS:
        raise UnknownEntry(
            f"an entry is named by its id or its hash (at most {MAX_ENTRY_REFERENCE_CHARS} "
            "characters)"
        )
    entry_id = resolve_entry_id(session, hash_list.name, reference)
    if entry_id > _LARGEST_ENTRY_ID:
        raise UnknownEntry(f"no entry {entry_id} in list {hash_list.name!r}")
    entry = get_entry(session, entry_id, hash_list.name)
    return EntryRecord(
        list_name=hash_list.name,
        entry_id=entry.id,
        signal_type=str(entry.signal_type),
        status=str(entry.status),
        status_reason=entry.status_reason,
        added_at=entry.added_at,
        provenance=entry_provenance(session, [entry.id])[entry.id],
        feedback=tuple(feedback_lines(session, [entry.id]).get(entry.id, [])),
    )
