"""API: an agency's own work. Every route needs the agency permission and reaches data only
through vigil.agency.scope: another agency's referral is "not found", never "forbidden"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vigil.agency import actions, info_requests
from vigil.agency.exports import record_export
from vigil.agency.package import build_referral_package
from vigil.agency.queue import ReferralPage, agency_queue, referral_page
from vigil.agency.scope import NoAgency, OutOfScope, agency_of, referral_for_agency
from vigil.agency.signing import default_signing_key_path, load_or_create_signing_key
from vigil.agency.vics import vics_export
from vigil.api.answers.agency import (
    AgencyInfoRequest,
    AgencyQueue,
    InfoRequests,
    ReferralDetail,
    ReferralOutcome,
    ReferralState,
)
from vigil.api.answers.vics import VicsDocument
from vigil.http.dependencies import AgencyWorking
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import ServiceState, service_state
from vigil.store.accounts import Principal
from vigil.store.models import InfoRequest, Referral
from vigil.store.models.agencies import Agency, OutcomeKind

router = APIRouter(prefix="/v1/agency", tags=["agency"], responses=RESOURCES)
T = TypeVar("T")
# The signed package is a zip file, not JSON: no model; the document names its media type.
PACKAGE_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"description": "the signed referral archive", "content": {"application/zip": {}}}
}


class DeclineBody(BaseModel):
    reason: str = Field(min_length=1, max_length=actions.MAX_REASON_CHARS)


class OutcomeBody(BaseModel):
    kind: OutcomeKind
    note: str = Field("", max_length=actions.MAX_NOTE_CHARS)


class QuestionBody(BaseModel):
    question: str = Field(min_length=1, max_length=info_requests.MAX_QUESTION_CHARS)
    due_days: int | None = Field(
        None,
        ge=1,
        le=info_requests.MAX_DUE_DAYS,
        description="empty: [agency] info_request_due_days",
    )


# --- reading -------------------------------------------------------------------------------


@router.get("/referrals", response_model=AgencyQueue)
def referrals(request: Request, principal: AgencyWorking) -> dict[str, Any]:
    """The agency's live referrals, most urgent first, each with the reasons for it."""

    def read(session: Session, agency: Agency) -> dict[str, Any]:
        return {
            "agency": agency.code,
            "referrals": [
                {
                    "id": entry.referral_id,
                    "report_id": entry.report_id,
                    "state": entry.state.value,
                    "priority": entry.priority,
                    "score": entry.score,
                    "priority_overridden": entry.overridden,
                    "reasons": entry.reasons,
                    "company": entry.company,
                    "incident_type": entry.incident_type,
                    "routed_at": _time(entry.routed_at),
                }
                for entry in agency_queue(session, agency.id)
            ],
        }

    return _scoped(request, principal, read)


@router.get("/referrals/{referral_id}", response_model=ReferralDetail)
def referral(request: Request, referral_id: RowId, principal: AgencyWorking) -> dict[str, Any]:
    def read(session: Session, agency: Agency) -> dict[str, Any]:
        found = referral_for_agency(session, agency.id, referral_id)
        return page_document(referral_page(session, agency, found))

    return _scoped(request, principal, read)


@router.get("/info-requests", response_model=InfoRequests)
def open_info_requests(request: Request, principal: AgencyWorking) -> dict[str, Any]:
    """Open requests to reporting companies, the soonest due first; overdue ones flagged."""

    def read(session: Session, agency: Agency) -> dict[str, Any]:
        return {
            "info_requests": [
                info_request_document(item)
                for item in info_requests.agency_requests(session, agency.id)
            ]
        }

    return _scoped(request, principal, read)


# --- acting --------------------------------------------------------------------------------


@router.post("/referrals/{referral_id}/accept", response_model=ReferralState)
def accept(request: Request, referral_id: RowId, principal: AgencyWorking) -> dict[str, Any]:
    return _scoped(
        request,
        principal,
        lambda session, agency: referral_document(
            actions.accept(session, agency.id, referral_id, actor=principal.actor)
        ),
        write=True,
    )


@router.post("/referrals/{referral_id}/decline", response_model=ReferralState)
def decline(
    request: Request, body: DeclineBody, referral_id: RowId, principal: AgencyWorking
) -> dict[str, Any]:
    """Sends the report back: it will be routed again, never to this agency."""
    return _scoped(
        request,
        principal,
        lambda session, agency: referral_document(
            actions.decline(session, agency.id, referral_id, body.reason, actor=principal.actor)
        ),
        write=True,
    )


@router.post("/referrals/{referral_id}/outcomes", status_code=201, response_model=ReferralOutcome)
def outcome(
    request: Request, body: OutcomeBody, referral_id: RowId, principal: AgencyWorking
) -> dict[str, Any]:
    def act(session: Session, agency: Agency) -> dict[str, Any]:
        made = actions.record_outcome(
            session, agency.id, referral_id, body.kind, note=body.note, actor=principal.actor
        )
        return {
            "id": made.id,
            "kind": made.kind.value,
            "note": made.note,
            "recorded_by": made.recorded_by,
            "recorded_at": _time(made.recorded_at),
        }

    return _scoped(request, principal, act, write=True)


@router.post(
    "/referrals/{referral_id}/info-requests", status_code=201, response_model=AgencyInfoRequest
)
def ask(
    request: Request, body: QuestionBody, referral_id: RowId, principal: AgencyWorking
) -> dict[str, Any]:
    """A question to the company that reported it; it answers through the intake."""
    days = body.due_days or service_state(request).settings.agency.info_request_due_days
    return _scoped(
        request,
        principal,
        lambda session, agency: info_request_document(
            info_requests.ask(
                session, agency.id, referral_id, body.question, actor=principal.actor, due_days=days
            )
        ),
        write=True,
    )


# --- packages ------------------------------------------------------------------------------


@router.get("/referrals/{referral_id}/package", response_class=Response, responses=PACKAGE_ANSWER)
async def package(request: Request, referral_id: RowId, principal: AgencyWorking) -> Response:
    """The signed referral archive; the files themselves only if the agency may receive
    media. Every download is in the audit log before a byte is sent."""
    state = service_state(request)
    archive = await run_in_threadpool(
        _scoped,
        request,
        principal,
        lambda session, agency: _package(state, session, agency, referral_id, principal),
        write=True,
    )
    return Response(
        archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="vigil-referral-{referral_id}.zip"',
            "Cache-Control": "no-store",
        },
    )


# Unknown optional fields are absent from a VICS document, not null.
@router.get(
    "/referrals/{referral_id}/vics",
    response_model=VicsDocument,
    response_model_exclude_unset=True,
)
def vics(request: Request, referral_id: RowId, principal: AgencyWorking) -> dict[str, Any]:
    """The referral as Project VIC VICS JSON (hashes and labels; never media)."""

    def export(session: Session, agency: Agency) -> dict[str, Any]:
        found = referral_for_agency(session, agency.id, referral_id)
        record_export(session, found, actor=principal.actor, export_format="vics", media=False)
        return vics_export(session, found.id)

    return _scoped(request, principal, export, write=True)


def _package(
    state: ServiceState, session: Session, agency: Agency, referral_id: int, principal: Principal
) -> bytes:
    found = referral_for_agency(session, agency.id, referral_id)
    media = agency.media_allowed
    if media and state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    key = load_or_create_signing_key(default_signing_key_path(state.settings))
    record_export(session, found, actor=principal.actor, export_format="package", media=media)
    # With media, the package also audits each file it decrypts (MEDIA_VIEWED).
    return build_referral_package(
        session, state.vault, found.id, include_media=media, signing_key=key, actor=principal.actor
    )


# --- plumbing ------------------------------------------------------------------------------


def _scoped(
    request: Request,
    principal: Principal,
    work: Callable[[Session, Agency], T],
    *,
    write: bool = False,
) -> T:
    """``work`` with the caller's agency, in one transaction; whatever is out of the
    caller's scope is 404, refused acts 409, bad input 422."""
    with service_state(request).database.transaction(write=write) as session:
        try:
            return work(session, agency_of(session, principal))
        except NoAgency as exc:
            raise ApiError(404, str(exc), code="no_agency") from None
        except OutOfScope:
            raise ApiError(404, "no such referral") from None
        except actions.InvalidText as exc:
            raise ApiError(422, str(exc)) from None
        except actions.ActionRefused as exc:
            raise ApiError(409, str(exc), code="refused") from None


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def referral_document(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "report_id": referral.report_id,
        "state": referral.state.value,
        "routed_at": _time(referral.routed_at),
        "acted_at": _time(referral.acted_at),
        "acted_by": referral.acted_by,
        "decline_reason": referral.decline_reason,
    }


def info_request_document(item: InfoRequest) -> dict[str, Any]:
    return {
        "id": item.id,
        "referral_id": item.referral_id,
        "report_id": item.report_id,
        "question": item.question,
        "state": item.state.value,
        "requested_by": item.requested_by,
        "requested_at": _time(item.requested_at),
        "due_at": _time(item.due_at),
        "overdue": info_requests.is_overdue(item),
        "answer": item.answer,
        "answered_at": _time(item.answered_at),
    }


def page_document(page: ReferralPage) -> dict[str, Any]:
    summary, triage = page.summary, page.triage
    return {
        "referral": referral_document(page.referral),
        "media_allowed": page.agency.media_allowed,
        "report": {
            "id": summary.report_id,
            "company": summary.company,
            "incident_type": summary.incident_type,
            "incident_time": summary.incident_time,
            "annotations": summary.annotations,
            "escalation": summary.escalation,
            "received_at": _time(summary.finished_at),
        },
        "files": [
            {
                "id": file.public_id,
                "file_name": file.file_name,
                "size": file.size,
                "media_type": file.media_type,
                "verdict": file.verdict,
                "classification": file.classification,
                "md5": file.md5,
                "sha1": file.sha1,
                "sha256": file.sha256,
                "pdq": file.pdq,
            }
            for file in page.files
        ],
        "entities": [
            {
                "kind": item.kind,
                "value": item.value,
                "context": item.context,
                "seen_at": _time(item.seen_at),
            }
            for item in page.entities
        ],
        "linked_reports": [
            {
                "report_id": item.report_id,
                "referral_id": item.referral_id,
                "state": item.state.value,
            }
            for item in page.linked_here
        ],
        "linked_elsewhere": page.linked_elsewhere,
        "triage": None
        if triage is None
        else {
            "priority": triage.priority,
            "computed_priority": triage.computed_priority,
            "score": triage.score,
            "reasons": triage.reasons,
            "disposition": triage.disposition,
            "override_reason": triage.override_reason,
            "computed_at": _time(triage.computed_at),
        },
        "outcomes": [
            {
                "id": item.id,
                "kind": item.kind.value,
                "note": item.note,
                "recorded_by": item.recorded_by,
                "recorded_at": _time(item.recorded_at),
            }
            for item in page.outcomes
        ],
        "info_requests": [info_request_document(item) for item in page.info_requests],
    }
