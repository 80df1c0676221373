"""Finding a case or an item by the ids the console shows, locked for a change when asked,
and what the case screen shows beside them: its records, decisions and assignee."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.review.errors import UnknownCase, UnknownItem
from vigil.store.models import Case, CaseItem, MatchRecord, ReviewDecision, User

MAX_PUBLIC_ID = 32  # Case.public_id


def get_case(session: Session, public_id: str, *, lock: bool = False) -> Case:
    """The case; ``lock`` holds its row until commit (decisions, assignment), so a record
    attached meanwhile waits and then sees whether the case is still open."""
    if not isinstance(public_id, str) or not 0 < len(public_id) <= MAX_PUBLIC_ID:
        raise UnknownCase("no such case")
    if "\x00" in public_id:  # PostgreSQL refuses NUL in text: no case has one
        raise UnknownCase("no such case")
    query = select(Case).where(Case.public_id == public_id)
    if lock:
        query = query.with_for_update()
    case = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if case is None:
        raise UnknownCase("no such case")
    return case


def get_item(session: Session, item_id: int, *, lock: bool = False) -> CaseItem:
    """The item, its case locked with ``lock``."""
    if isinstance(item_id, bool) or not isinstance(item_id, int) or item_id < 1:
        raise UnknownItem("no such item")
    case_id = session.scalar(select(CaseItem.case_id).where(CaseItem.id == item_id))
    if case_id is None:
        raise UnknownItem(f"no item {item_id}")
    query = select(Case).where(Case.id == case_id)
    if lock:
        query = query.with_for_update()
    case = session.scalars(query.execution_options(populate_existing=True)).one()
    return next(item for item in case.items if item.id == item_id)


def records_of(session: Session, items: Iterable[CaseItem]) -> dict[int, MatchRecord]:
    """The match records behind ``items``, by record id, read in one query."""
    ids = [item.record_id for item in items]
    rows = session.scalars(select(MatchRecord).where(MatchRecord.id.in_(ids)))
    return {row.id: row for row in rows}


def decisions_of(session: Session, case: Case) -> list[ReviewDecision]:
    """Every decision taken on ``case``, in the order they were taken."""
    query = select(ReviewDecision).where(ReviewDecision.case_id == case.id)
    return list(session.scalars(query.order_by(ReviewDecision.id)))


def assignee_name(session: Session, case: Case) -> str | None:
    """The username of whoever the case is assigned to; None when nobody is."""
    if case.assigned_to_id is None:
        return None
    user = session.get(User, case.assigned_to_id)
    return user.username if user is not None else None
