"""A list's entries a page at a time, for a person looking through them: by id, optionally of
one status, keyed on the last id shown (stable while entries are added)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.lists.catalogue import get_list
from vigil.store.models import EntryStatus, ListEntry

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: list[ListEntry]
    next_after: int | None  # the ``after`` of the next page; None on the last one


def entry_page(
    session: Session,
    list_name: str,
    *,
    status: EntryStatus | None = None,
    after: int = 0,
    limit: int = 50,
) -> EntryPage:
    """Entries of the list with ids above ``after``, lowest first; UnknownList if none."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(ListEntry).where(
        ListEntry.list_id == get_list(session, list_name).id, ListEntry.id > after
    )
    if status is not None:
        query = query.where(ListEntry.status == status)
    rows = list(session.scalars(query.order_by(ListEntry.id).limit(limit + 1)))
    return EntryPage(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)
