"""Finding a case or an item by the ids the console shows, locked for a change when asked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.review.errors import UnknownCase, UnknownItem
from vigil.store.models import Case, CaseItem

MAX_PUBLIC_ID = 32  # Case.public_id


def get_case(session: Session, public_id: str, *, lock: bool = False) -> Case:
    """The case; ``lock`` holds its row until commit (decisions, assignment), so a record
    attached meanwhile waits and then sees whether the case is still open."""
    if not isinstance(public_id, str) or not 0 < len(public_id) <= MAX_PUBLIC_ID:
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
