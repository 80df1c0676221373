"""The review queue: cases in priority order (urgent, likely new, known), oldest first within
a priority, with filters, assignment to a reviewer and each case's age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, case, func, select
from sqlalchemy.orm import Session

from vigil.review.errors import InvalidReviewInput, UnknownReviewer
from vigil.review.lookup import get_case
from vigil.store.models import Case, CaseItem, CasePriority, CaseStatus, ItemStatus, User, utcnow

MAX_PAGE = 200
MAX_SEARCH = 255  # MatchRecord.platform_account_id
PRIORITIES = (CasePriority.URGENT, CasePriority.LIKELY_NEW, CasePriority.KNOWN)
ANY: Literal["any"] = "any"
_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True, slots=True)
class CaseSummary:
    public_id: str
    account_id: str | None  # the platform's account id; None for a content-only case
    account_key: str
    status: CaseStatus
    priority: int
    priority_reason: str
    item_count: int
    pending_count: int
    opened_at: datetime
    age: timedelta
    assigned_to: str | None  # username
    escalated: bool
    imminent_danger: bool
    second_opinion: bool
    incident_type: str | None


def queue(
    session: Session,
    *,
    status: CaseStatus | str | None = CaseStatus.OPEN,
    assigned_to: int | Literal["any"] | None = ANY,
    priority: int | None = None,
    account: str | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> list[CaseSummary]:
    """Cases by priority, then oldest opened first. ``assigned_to``: a user id, None for
    unassigned cases, "any" for all; ``account``: the exact platform account id or a prefix
    of it; ``status`` None: every status."""
    query = _filtered(_summary_query(), status, assigned_to, priority, account)
    query = query.order_by(Case.priority, Case.opened_at, Case.id)
    query = query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
    when = now or utcnow()
    return [_summary(row, when) for row in session.execute(query)]


def count_cases(
    session: Session,
    *,
    status: CaseStatus | str | None = CaseStatus.OPEN,
    assigned_to: int | Literal["any"] | None = ANY,
    priority: int | None = None,
    account: str | None = None,
) -> int:
    query = _filtered(select(func.count(Case.id)), status, assigned_to, priority, account)
    return int(session.scalar(query) or 0)


def case_summary(session: Session, public_id: str, *, now: datetime | None = None) -> CaseSummary:
    case_row = get_case(session, public_id)
    row = session.execute(_summary_query().where(Case.id == case_row.id)).one()
    return _summary(row, now or utcnow())


def next_case(session: Session, reviewer_id: int, *, after: str) -> str | None:
    """The public id of the first open case in queue order, other than ``after``, that the
    reviewer may take: unassigned or already theirs. None when there is none."""
    query = (
        select(Case.public_id)
        .where(
            Case.status == CaseStatus.OPEN,
            Case.public_id != after,
            (Case.assigned_to_id.is_(None)) | (Case.assigned_to_id == reviewer_id),
        )
        .order_by(Case.priority, Case.opened_at, Case.id)
        .limit(1)
    )
    return session.scalar(query)


def case_age(case_row: Case, now: datetime | None = None) -> timedelta:
    """How long the case has waited (until it closed, for a closed one)."""
    end = case_row.closed_at or now or utcnow()
    return max(timedelta(0), end - case_row.opened_at)


def assign(
    session: Session, case_id: str, user_id: int, *, actor: str, now: datetime | None = None
) -> Case:
    """Give the case to a reviewer (an active user); replaces any earlier assignment."""
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.disabled_at is not None:
        raise UnknownReviewer("no active user with that id")
    case_row = get_case(session, case_id, lock=True)
    case_row.assigned_to_id, case_row.assigned_at = user.id, now or utcnow()
    session.flush()
    return case_row


def unassign(session: Session, case_id: str, *, actor: str) -> Case:
    case_row = get_case(session, case_id, lock=True)
    case_row.assigned_to_id, case_row.assigned_at = None, None
    session.flush()
    return case_row


def _summary_query() -> Select[*tuple[Any, ...]]:
    counts = (
        select(
            CaseItem.case_id.label("case_id"),
            func.count(CaseItem.id).label("item_total"),
            func.sum(case((CaseItem.status == ItemStatus.PENDING, 1), else_=0)).label(
                "pending_total"
            ),
        )
        .group_by(CaseItem.case_id)
        .subquery()
    )
    return (
        select(Case, counts.c.item_total, counts.c.pending_total, User.username)
        .outerjoin(counts, counts.c.case_id == Case.id)
        .outerjoin(User, User.id == Case.assigned_to_id)
    )


def _filtered(
    query: Select[*_Columns],
    status: CaseStatus | str | None,
    assigned_to: int | Literal["any"] | None,
    priority: int | None,
    account: str | None,
) -> Select[*_Columns]:
    if status is not None:
        query = query.where(Case.status == _status(status))
    if assigned_to is None:
        query = query.where(Case.assigned_to_id.is_(None))
    elif assigned_to != ANY:
        if isinstance(assigned_to, bool) or not isinstance(assigned_to, int):
            raise InvalidReviewInput("assigned_to must be a user id, None or 'any'")
        query = query.where(Case.assigned_to_id == assigned_to)
    if priority is not None:
        if priority not in PRIORITIES:
            raise InvalidReviewInput("priority must be 0 (urgent), 1 (likely new) or 2 (known)")
        query = query.where(Case.priority == priority)
    if account:
        query = query.where(_account_prefix(account))
    return query


def _account_prefix(account: str) -> ColumnElement[bool]:
    text = account.strip()[:MAX_SEARCH]
    # LIKE wildcards in the search are literal: escape them so "%" finds only "%".
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Case.platform_account_id.like(f"{escaped}%", escape="\\")


def _status(status: CaseStatus | str) -> CaseStatus:
    try:
        return CaseStatus(status)
    except ValueError:
        raise InvalidReviewInput(
            f"status must be one of {', '.join(s.value for s in CaseStatus)}"
        ) from None


def _summary(row: Row[*tuple[Any, ...]], now: datetime) -> CaseSummary:
    case_row, items, pending, username = row
    return CaseSummary(
        public_id=case_row.public_id,
        account_id=case_row.platform_account_id,
        account_key=case_row.account_key,
        status=case_row.status,
        priority=case_row.priority,
        priority_reason=case_row.priority_reason,
        item_count=int(items or 0),
        pending_count=int(pending or 0),
        opened_at=case_row.opened_at,
        age=case_age(case_row, now),
        assigned_to=username,
        escalated=case_row.escalated,
        imminent_danger=case_row.imminent_danger,
        second_opinion=case_row.second_opinion,
        incident_type=case_row.incident_type,
    )
