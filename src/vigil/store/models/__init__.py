"""All tables, split by domain. Importing this package registers every table on
``Base.metadata`` (Alembic's env.py relies on it)."""

from vigil.store.models.accounts import ApiKey, Role, User, UserRole, UserSession
from vigil.store.models.audit import AuditAction, AuditChainHead, AuditRecord
from vigil.store.models.base import Base, UTCDateTime, utcnow
from vigil.store.models.evidence import EvidenceItem, EvidencePurge, HoldKind, LegalHold
from vigil.store.models.feed import COUNTER_ROW_ID, ChangeCounter
from vigil.store.models.imports import ImportJob, ImportStatus
from vigil.store.models.lists import (
    SIGNAL_HEX_LENGTH,
    EntryEvent,
    EntryFrame,
    EntryStatus,
    HashList,
    ListEntry,
    SignalType,
    frame_set_signal,
    normalise_signal,
)
from vigil.store.models.matches import MatchStat
from vigil.store.models.records import MatchHit, MatchRecord, RecordSource, Verdict
from vigil.store.models.review import (
    Case,
    CaseItem,
    CasePriority,
    CaseStatus,
    DecisionKind,
    EntryDisableRequest,
    ExposureEvent,
    ExposureKind,
    ItemStatus,
    RequestStatus,
    ReviewDecision,
)
from vigil.store.models.scans import ScanItem, ScanItemStatus, ScanRun, ScanStatus
from vigil.store.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "COUNTER_ROW_ID",
    "SIGNAL_HEX_LENGTH",
    "ApiKey",
    "AuditAction",
    "AuditChainHead",
    "AuditRecord",
    "Base",
    "Case",
    "CaseItem",
    "CasePriority",
    "CaseStatus",
    "ChangeCounter",
    "DecisionKind",
    "DeliveryStatus",
    "EntryDisableRequest",
    "EntryEvent",
    "EntryFrame",
    "EntryStatus",
    "EvidenceItem",
    "EvidencePurge",
    "ExposureEvent",
    "ExposureKind",
    "HashList",
    "HoldKind",
    "ImportJob",
    "ImportStatus",
    "ItemStatus",
    "LegalHold",
    "ListEntry",
    "MatchHit",
    "MatchRecord",
    "MatchStat",
    "RecordSource",
    "RequestStatus",
    "ReviewDecision",
    "Role",
    "ScanItem",
    "ScanItemStatus",
    "ScanRun",
    "ScanStatus",
    "SignalType",
    "UTCDateTime",
    "User",
    "UserRole",
    "UserSession",
    "Verdict",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "frame_set_signal",
    "normalise_signal",
    "utcnow",
]
