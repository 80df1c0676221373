"""A label for a selection: several pending items of one case given one classification at
once, each through the single classify (vigil.review.decisions.classify_item), so the
vocabulary, the refusals and the audit record of each item are those of classifying it alone.

All or none: every refusal is raised before any item changes, and names what to change in
the selection (the items of another case, the decided items). No HTTP here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from vigil.review.decisions import classify_item, require_pending
from vigil.review.errors import InvalidReviewInput
from vigil.review.lookup import get_case
from vigil.store.models import CaseItem

# More than a case's screen shows at once; a longer list is hostile, not a selection.
MAX_SELECTION = 500
SHOWN_IDS = 10  # ids named in a refusal: enough to find them, not a wall of numbers


def classify_selection(
    session: Session,
    case_id: str,
    item_ids: Iterable[int],
    classification: str | None,
    *,
    actor: str,
    now: datetime | None = None,
) -> list[CaseItem]:
    """Give every selected item of case ``case_id`` the same classification, keeping each
    item's file annotations; the items, in the order selected. Raises InvalidReviewInput
    (no classification, an empty or oversized selection, items of another case, a value
    outside the vocabulary), DecisionRefused (decided items, a closed case), UnknownCase."""
    if not classification:
        raise InvalidReviewInput("choose the classification to give the selected items")
    wanted = _checked_selection(item_ids)
    case = get_case(session, case_id, lock=True)
    items = _items_of(case.items, wanted, case.public_id)
    require_pending(*items)
    return [
        classify_item(
            session, item.id, classification, list(item.annotations or []), actor=actor, now=now
        )
        for item in items
    ]


def _checked_selection(item_ids: Iterable[int]) -> list[int]:
    """The selected ids, each once, in the order given."""
    if isinstance(item_ids, (str, bytes)):
        raise InvalidReviewInput("the selection must be a list of item ids")
    ids = list(item_ids)
    if not ids:
        raise InvalidReviewInput("select at least one item to label")
    if len(ids) > MAX_SELECTION:
        raise InvalidReviewInput(f"select at most {MAX_SELECTION} items at once")
    if any(isinstance(i, bool) or not isinstance(i, int) or i < 1 for i in ids):
        raise InvalidReviewInput("the selection must be a list of item ids")
    return list(dict.fromkeys(ids))


def _items_of(items: Iterable[CaseItem], wanted: list[int], case_public_id: str) -> list[CaseItem]:
    by_id = {item.id: item for item in items}
    foreign = [str(item_id) for item_id in wanted if item_id not in by_id]
    if foreign:
        shown = ", ".join(foreign[:SHOWN_IDS]) + (" and more" if len(foreign) > SHOWN_IDS else "")
        many = len(foreign) > 1
        raise InvalidReviewInput(
            f"{'items' if many else 'item'} {shown} {'are' if many else 'is'} not in case "
            f"{case_public_id}"
        )
    return [by_id[item_id] for item_id in wanted]
