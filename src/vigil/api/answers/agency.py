"""Answers of an agency's routes: its queue, a referral's page, its acts and questions, and
the referral as VICS JSON (the signed package is a zip file and has no model)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from vigil.api.answers import Answer, Number, Time

# ReferralTriage reasons are stored as JSON and answered as stored (name, weight, value, points,
# detail): a model would reorder what a backend's JSON column keeps in its own order.
REASONS = "the triage reasons as computed: name, weight, value, points, detail"


class QueuedReferral(Answer):
    id: int
    report_id: int
    state: str
    priority: int | None
    score: Number | None
    priority_overridden: bool
    reasons: list[dict[str, Any]] = Field(description=REASONS)
    company: str
    incident_type: str
    routed_at: Time | None


class AgencyQueue(Answer):
    """The agency's live referrals, most urgent first."""

    agency: str
    referrals: list[QueuedReferral]


class ReferralState(Answer):
    id: int
    report_id: int
    state: str
    routed_at: Time | None
    acted_at: Time | None
    acted_by: str | None
    decline_reason: str | None


class AgencyInfoRequest(Answer):
    """A question to the reporting company and, once given, its answer."""

    id: int
    referral_id: int
    report_id: int
    question: str
    state: str
    requested_by: str
    requested_at: Time | None
    due_at: Time | None
    overdue: bool
    answer: str | None
    answered_at: Time | None


class InfoRequests(Answer):
    info_requests: list[AgencyInfoRequest]


class ReferralOutcome(Answer):
    """What became of a referral, as the agency recorded it."""

    id: int
    kind: str
    note: str
    recorded_by: str
    recorded_at: Time | None


class ReferredReport(Answer):
    id: int
    company: str
    incident_type: str
    incident_time: str
    annotations: list[str]
    escalation: str
    received_at: Time | None


class ReferredFile(Answer):
    """A received file's facts and fingerprints, never its content."""

    id: str
    file_name: str | None
    size: int
    media_type: str | None
    verdict: str | None
    classification: str | None
    md5: str
    sha1: str
    sha256: str
    pdq: str | None


class ReportedEntity(Answer):
    kind: str
    value: str
    context: str | None
    seen_at: Time | None


class LinkedReport(Answer):
    report_id: int
    referral_id: int
    state: str


class ReferralTriage(Answer):
    priority: int
    computed_priority: int
    score: Number
    reasons: list[dict[str, Any]] = Field(description=REASONS)
    disposition: str
    override_reason: str | None
    computed_at: Time | None


class ReferralDetail(Answer):
    """Everything the agency may see of one referral; ``linked_elsewhere`` counts linked
    reports routed to other agencies (a count only)."""

    referral: ReferralState
    media_allowed: bool
    report: ReferredReport
    files: list[ReferredFile]
    entities: list[ReportedEntity]
    linked_reports: list[LinkedReport]
    linked_elsewhere: int
    triage: ReferralTriage | None
    outcomes: list[ReferralOutcome]
    info_requests: list[AgencyInfoRequest]
