"""A platform's year of work as facts (cases, decisions, reveals, reports, law-enforcement
requests), some inside 2026 and some outside, inserted as rows; tests compute the expected
figures from these facts, never from numbers written down beside them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from vigil.store.audit import AuditLog
from vigil.store.models import (
    AuditAction,
    Case,
    CaseItem,
    LegalRequest,
    MatchRecord,
    Report,
    ReportCase,
)
from vigil.store.models.records import RecordSource, Verdict
from vigil.store.models.reports import (
    LegalRequestKind,
    LegalRequestStatus,
    ReportKind,
    ReportState,
)
from vigil.store.models.review import CaseStatus, ItemStatus

YEAR = 2026
_ids = itertools.count(1)


def at(month: int, day: int = 10, hour: int = 9, year: int = YEAR) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@dataclass(frozen=True)
class ItemSpec:
    status: ItemStatus
    decided_at: datetime | None
    reveals_at: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class ReportSpec:
    state: ReportState
    created_at: datetime
    finished_at: datetime | None = None


@dataclass(frozen=True)
class CaseSpec:
    opened_at: datetime
    status: CaseStatus = CaseStatus.OPEN
    closed_at: datetime | None = None
    items: tuple[ItemSpec, ...] = ()
    reports: tuple[ReportSpec, ...] = ()


@dataclass(frozen=True)
class RequestSpec:
    received_at: datetime
    due_at: datetime
    answered_at: datetime | None = None
    status: LegalRequestStatus = LegalRequestStatus.OPEN


CONFIRMED, FALSE = ItemStatus.CONFIRMED, ItemStatus.FALSE_POSITIVE
FINISHED = ReportState.FINISHED

CASES = (
    # Opened in 2025, closed and reported in January 2026.
    CaseSpec(
        at(12, 20, year=2025),
        CaseStatus.CONFIRMED,
        at(1, 3),
        (ItemSpec(CONFIRMED, at(1, 3), (at(1, 3),)),),
        (ReportSpec(FINISHED, at(1, 3), at(1, 4, 15)),),
    ),
    CaseSpec(
        at(3, 1, 8),
        CaseStatus.CONFIRMED,
        at(3, 1, 12),
        (
            ItemSpec(CONFIRMED, at(3, 1, 10), (at(3, 1, 10), at(3, 1, 11))),
            ItemSpec(FALSE, at(3, 1, 11)),
        ),
        (ReportSpec(FINISHED, at(3, 1, 12), at(3, 1, 20)),),
    ),
    CaseSpec(
        at(5, 5),
        CaseStatus.DISMISSED,
        at(5, 6),
        (ItemSpec(FALSE, at(5, 6), (at(5, 6),)), ItemSpec(FALSE, at(5, 6))),
    ),
    CaseSpec(
        at(7, 7),
        CaseStatus.CONFIRMED,
        at(7, 9),
        (ItemSpec(CONFIRMED, at(7, 8)),),
        (ReportSpec(FINISHED, at(7, 9), at(7, 12)), ReportSpec(ReportState.FAILED, at(7, 9))),
    ),
    CaseSpec(at(11, 30), items=(ItemSpec(ItemStatus.PENDING, None, (at(12, 1),)),)),
    # Opened in December, reported in 2027: opened counts, the report does not.
    CaseSpec(
        at(12, 30),
        CaseStatus.CONFIRMED,
        at(12, 31),
        (ItemSpec(CONFIRMED, at(12, 31)),),
        (ReportSpec(FINISHED, at(12, 31), at(1, 2, year=2027)),),
    ),
)

REQUESTS = (
    RequestSpec(at(2, 1), at(2, 15), at(2, 3), LegalRequestStatus.ANSWERED),
    RequestSpec(at(4, 1), at(4, 2), at(4, 5), LegalRequestStatus.ANSWERED),  # late
    RequestSpec(at(6, 1), at(6, 1, 13), at(6, 1, 11), LegalRequestStatus.CLOSED),
    RequestSpec(at(9, 1), at(9, 15)),  # open, overdue by NOW
    RequestSpec(at(12, 1), at(12, 15, year=2027)),  # open, not due
    RequestSpec(at(12, 1, year=2025), at(12, 5, year=2025), at(12, 2, year=2025)),  # 2025
)
NOW = at(12, 31, 23)


@dataclass
class Seeded:
    cases: tuple[CaseSpec, ...] = CASES
    requests: tuple[RequestSpec, ...] = REQUESTS
    case_ids: list[int] = field(default_factory=list)


def insert(session: Session) -> Seeded:
    seeded = Seeded()
    for spec in CASES:
        seeded.case_ids.append(_case(session, spec))
    for request in REQUESTS:
        session.add(
            LegalRequest(
                public_id=f"lr-{next(_ids)}",
                agency="Example Police",
                agency_case_number="2026-1",
                kind=LegalRequestKind.PRESERVATION,
                status=request.status,
                received_at=request.received_at,
                due_at=request.due_at,
                answered_at=request.answered_at,
                created_by="user:admin",
            )
        )
    session.flush()
    return seeded


def _case(session: Session, spec: CaseSpec) -> int:
    number = next(_ids)
    case = Case(
        public_id=f"case-{number}",
        account_key=f"account:acct-{number}",
        status=spec.status,
        opened_at=spec.opened_at,
        closed_at=spec.closed_at,
    )
    session.add(case)
    session.flush()
    for item_spec in spec.items:
        record = MatchRecord(
            public_id=f"rec-{next(_ids)}",
            source=RecordSource.UPLOAD,
            verdict=Verdict.REVIEW,
            submitted_by="key:test",
            platform_content_id=f"content-{number}",
            received_at=spec.opened_at,
        )
        session.add(record)
        session.flush()
        item = CaseItem(
            case_id=case.id,
            record_id=record.id,
            status=item_spec.status,
            decided_at=item_spec.decided_at,
        )
        session.add(item)
        session.flush()
        for when in item_spec.reveals_at:
            AuditLog(session).append(
                AuditAction.MEDIA_VIEWED,
                actor="user:alice",
                subject_type="review_item",
                subject_id=str(item.id),
                at=when,
            )
    for report_spec in spec.reports:
        report = Report(
            public_id=f"rep-{next(_ids)}",
            kind=ReportKind.CASE,
            destination="cybertipline",
            case_id=case.id,
            state=report_spec.state,
            xml="<report/>",
            created_at=report_spec.created_at,
            created_by="user:alice",
            finished_at=report_spec.finished_at,
        )
        session.add(report)
        session.flush()
        session.add(ReportCase(report_id=report.id, case_id=case.id))
    session.flush()
    return case.id


def in_year(moment: datetime | None) -> bool:
    return moment is not None and moment.year == YEAR


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600
