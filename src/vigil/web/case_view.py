"""What the case screen shows, gathered from the store: plain data for the templates, and
nothing of the media itself (images are fetched separately, protected)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vigil.review.lookup import assignee_name, decisions_of, records_of
from vigil.store.exchanges.entry_feedback import FeedbackLine, feedback_lines
from vigil.store.models import Case, CaseItem, ItemStatus, MatchHit, MatchRecord
from vigil.store.shared.vocabulary import (
    ANNOTATION_KEYS,
    CLASSIFICATION_KEYS,
    CLASSIFICATION_MEANINGS,
    DECISION_KEYS,
    FILE_ANNOTATIONS,
    INCIDENT_TYPE_KEYS,
    INCIDENT_TYPES,
)

PRIORITY_NAMES = {0: "urgent", 1: "likely new", 2: "known"}


@dataclass(frozen=True)
class ItemView:
    id: int
    status: str
    pending: bool
    source: str
    verdict: str
    reasons: list[str]
    media_type: str
    received_at: datetime
    content_id: str
    context: dict[str, Any]
    hits: list[dict[str, Any]]
    classification: str | None
    inherited_classification: str | None
    inherited_from: str | None
    annotations: list[str]
    reveals: int
    has_media: bool
    note: str | None

    @property
    def needs_viewing(self) -> bool:
        """Known material: the inherited classification lets a reviewer confirm unseen."""
        return self.inherited_classification is None


@dataclass(frozen=True)
class DecisionView:
    at: datetime
    kind: str
    reviewer: str
    item_id: int | None
    reveals_needed: int
    reason: str


@dataclass(frozen=True)
class CaseView:
    public_id: str
    account: str
    status: str
    priority: int
    priority_name: str
    priority_reason: str
    incident_type: str | None
    assigned_to: str | None
    opened_at: datetime
    second_opinion: bool
    escalated: bool
    imminent_danger: bool
    escalation_reason: str | None
    items: list[ItemView]
    decisions: list[DecisionView] = field(default_factory=list)
    vocabulary: dict[str, Any] = field(default_factory=dict)

    @property
    def reveals(self) -> int:
        return sum(item.reveals for item in self.items)

    @property
    def pending_count(self) -> int:
        return sum(1 for item in self.items if item.pending)

    @property
    def decided_count(self) -> int:
        return len(self.items) - self.pending_count

    @property
    def known_pending_count(self) -> int:
        """Pending items a known list entry classified: "confirm all known" takes them."""
        return sum(1 for item in self.items if item.pending and not item.needs_viewing)

    @property
    def first_pending_id(self) -> int | None:
        """The item current when the case opens."""
        return next((item.id for item in self.items if item.pending), None)


def case_view(session: Session, case: Case) -> CaseView:
    records = records_of(session, case.items)
    feedback = hits_feedback(session, records.values())
    return CaseView(
        public_id=case.public_id,
        account=case.platform_account_id or case.account_key,
        status=case.status.value,
        priority=case.priority,
        priority_name=PRIORITY_NAMES.get(case.priority, str(case.priority)),
        priority_reason=case.priority_reason,
        incident_type=case.incident_type,
        assigned_to=assignee_name(session, case),
        opened_at=case.opened_at,
        second_opinion=case.second_opinion,
        escalated=case.escalated,
        imminent_danger=case.imminent_danger,
        escalation_reason=case.escalation_reason,
        items=[item_view(item, records[item.record_id], feedback) for item in case.items],
        decisions=_decisions(session, case),
        vocabulary=VOCABULARY,
    )


def hits_feedback(
    session: Session, records: Iterable[MatchRecord]
) -> Mapping[int, list[FeedbackLine]]:
    """What became of the feedback sent on the entries these records matched, by entry."""
    return feedback_lines(session, {hit.entry_id for record in records for hit in record.hits})


def item_view(
    item: CaseItem,
    record: MatchRecord,
    feedback: Mapping[int, list[FeedbackLine]] | None = None,
) -> ItemView:
    """``feedback``: hits_feedback of the record (none shown without it)."""
    return ItemView(
        id=item.id,
        status=item.status.value,
        pending=item.status is ItemStatus.PENDING,
        source=record.source.value,
        verdict=record.verdict.value,
        reasons=list(record.reasons),
        media_type=record.media_type or "photo",
        received_at=record.received_at,
        content_id=record.platform_content_id,
        context=dict(record.context or {}),
        hits=[_hit(hit, (feedback or {}).get(hit.entry_id, [])) for hit in record.hits],
        classification=item.classification,
        inherited_classification=item.inherited_classification,
        inherited_from=item.inherited_from,
        annotations=list(item.annotations or []),
        reveals=item.reveals,
        has_media=record.evidence_item_id is not None,
        note=record.note,
    )


def _hit(hit: MatchHit, feedback: list[FeedbackLine]) -> dict[str, Any]:
    """One matched entry and where it came from: the exchange that shared it (its member
    and tags), or the file it was imported from; with the feedback sent on it."""
    return {
        "list": hit.list_name,
        "version": hit.list_version,
        "entry": hit.external_id or hit.entry_id,
        "distance": hit.distance,
        "classification": hit.classification,
        "exchange": hit.exchange,
        "exchange_kind": hit.exchange_kind,
        "member": hit.member,
        "tags": list(hit.tags or []),
        "source": hit.entry_source,
        "feedback": [line.text for line in feedback],
    }


def _decisions(session: Session, case: Case) -> list[DecisionView]:
    return [
        DecisionView(
            row.at, row.kind.value, row.reviewer, row.item_id, row.reveals_needed, row.reason
        )
        for row in decisions_of(session, case)
    ]


def record_of(session: Session, item: CaseItem) -> MatchRecord:
    return records_of(session, [item])[item.record_id]


VOCABULARY: dict[str, Any] = {
    "classifications": [
        (key, value, CLASSIFICATION_MEANINGS[value]) for key, value in CLASSIFICATION_KEYS.items()
    ],
    "annotations": [
        (key, value, FILE_ANNOTATIONS[value]) for key, value in ANNOTATION_KEYS.items()
    ],
    "incident_types": [(key, value) for key, value in INCIDENT_TYPE_KEYS.items()],
    "all_incident_types": list(INCIDENT_TYPES),
    "decisions": DECISION_KEYS,
}

# Shift+letter keys of the case screen: the lower-case letters are all taken.
CONFIRM_KNOWN_KEY = "C"
NEXT_CASE_KEY = "N"


def shortcut_rows() -> list[tuple[list[str], str]]:
    """The shortcut reference: (keys, what they do), in the order a reviewer works."""
    return [
        (["j", "↓"], "next item"),
        (["k", "↑"], "previous item"),
        (["r"], "reveal the current item (audited)"),
        (["r"], "on a revealed video: show it clearly (a recorded view), or protect it again"),
        (["Esc"], "blur again, close a form"),
        *(
            ([key], f"classify as {value}: {meaning}")
            for key, value, meaning in VOCABULARY["classifications"]
        ),
        (["c"], "confirm the current item (then the next pending item is current)"),
        (["f"], "false positive: opens the form with the reason focused"),
        *(([key], f"file annotation {value}") for key, value, _ in VOCABULARY["annotations"]),
        ([f"Shift+{CONFIRM_KNOWN_KEY}"], "confirm all known items (one confirmation)"),
        (["o"], "ask for a second opinion"),
        (["u"], "escalate (reason and confirmation), or de-escalate"),
        *(([key], f"incident type: {value}") for key, value in VOCABULARY["incident_types"]),
        ([f"Shift+{NEXT_CASE_KEY}"], "next case in the queue you may take"),
        (["?"], "this reference"),
    ]
