"""Console screens for triage: the queue of clearinghouse reports, most urgent first with
the top reasons, and one report's triage (every reason, notes, and the audited override).
Only clearinghouse analysts (Permission.TRIAGE); forms post through HTMX with the CSRF
header the console script adds."""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from vigil.http.dependencies import Triaging
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import ServiceState, service_state
from vigil.reporting.cybertipline.received import read_report
from vigil.store.accounts import Principal
from vigil.store.models import IntakeReport
from vigil.triage.facts import UnknownReport
from vigil.triage.levels import LEVELS as TRIAGE_LEVELS
from vigil.triage.levels import level_label
from vigil.triage.scoring import REASON_TITLES
from vigil.triage.service import (
    MAX_NOTE_CHARS,
    MAX_REASON_CHARS,
    NotTriaged,
    TriageRefused,
    add_note,
    clear_override,
    finished_report,
    notes_of,
    override_priority,
    report_under_triage,
    triage_queue,
)
from vigil.web.analyst_lead import lead_of
from vigil.web.notices import notify
from vigil.web.templating import templates

router = APIRouter(prefix="/clearinghouse", include_in_schema=False)
PAGE_SIZE = 100
LEVELS = {level: level_label(level) for level in TRIAGE_LEVELS}


@router.get("/triage", response_class=HTMLResponse)
def queue_page(
    request: Request, *, page: int = Query(1, ge=1, le=10_000), principal: Triaging
) -> Response:
    state = _enabled(request)
    with state.database.transaction() as session:
        entries = triage_queue(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return templates.TemplateResponse(
        request,
        "triage_queue.html",
        {
            "entries": entries,
            "page": page,
            "page_size": PAGE_SIZE,
            "levels": LEVELS,
            "titles": REASON_TITLES,
            "principal": principal,
            "clearinghouse_enabled": True,
        },
    )


@router.get("/reports/{report_id}/triage", response_class=HTMLResponse)
def report_page(request: Request, report_id: RowId, principal: Triaging) -> Response:
    return _report_page(request, _enabled(request), report_id, principal)


@router.post("/reports/{report_id}/triage/override", response_class=HTMLResponse)
def override(
    request: Request,
    report_id: RowId,
    *,
    priority: int = Form(..., ge=1, le=4),
    reason: str = Form("", max_length=MAX_REASON_CHARS + 100),
    principal: Triaging,
) -> Response:
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        _finished(session, report_id)
        try:
            override_priority(session, report_id, priority, reason, principal.actor)
        except NotTriaged:
            raise ApiError(409, "this report has not been scored yet", code="not_triaged") from None
        except TriageRefused as exc:
            raise ApiError(422, str(exc), code="refused") from None
    return _report_page(request, state, report_id, principal, "Priority overridden.")


@router.post("/reports/{report_id}/triage/override/clear", response_class=HTMLResponse)
def clear(request: Request, report_id: RowId, principal: Triaging) -> Response:
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        _finished(session, report_id)
        try:
            clear_override(session, report_id, principal.actor)
        except NotTriaged:
            raise ApiError(409, "this report has not been scored yet", code="not_triaged") from None
    return _report_page(request, state, report_id, principal, "Back to the computed priority.")


@router.post("/reports/{report_id}/triage/notes", response_class=HTMLResponse)
def note(
    request: Request,
    report_id: RowId,
    *,
    text: str = Form("", max_length=MAX_NOTE_CHARS + 100),
    principal: Triaging,
) -> Response:
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        try:
            add_note(session, report_id, text, principal.actor)
        except UnknownReport:
            raise ApiError(404, "no such report") from None
        except TriageRefused as exc:
            raise ApiError(422, str(exc), code="refused") from None
    return _report_page(
        request,
        state,
        report_id,
        principal,
        "Note added: the report will be re-scored within a second.",
    )


def _enabled(request: Request) -> ServiceState:
    state = service_state(request)
    if not state.settings.clearinghouse.enabled:
        raise ApiError(404, "this installation is not a clearinghouse")
    return state


def _finished(session: Session, report_id: int) -> IntakeReport:
    report = finished_report(session, report_id)
    if report is None:
        raise ApiError(404, "no such report")
    return report


def _report_page(
    request: Request, state: ServiceState, report_id: int, principal: Principal, said: str = ""
) -> Response:
    """The report's triage; ``said``, what an action just did, goes to the live region."""
    with state.database.transaction() as session:
        shown = report_under_triage(session, report_id)
        if shown is None:
            raise ApiError(404, "no such report")
        triage = shown.triage
        notes = notes_of(session, report_id)
        context = {
            "report": shown.report,
            "company": shown.company,
            "lead": lead_of(read_report(shown.report.parsed, shown.report.raw_xml), triage),
            "triage": triage,
            "reasons": list(triage.reasons or []) if triage else [],
            "notes": notes,
        }
    page = templates.TemplateResponse(
        request,
        "triage_report.html",
        {
            **context,
            "levels": LEVELS,
            "level_names": LEVELS,
            "on_triage_page": True,
            "titles": REASON_TITLES,
            "message": "",
            "max_note": MAX_NOTE_CHARS,
            "max_reason": MAX_REASON_CHARS,
            "principal": principal,
            "clearinghouse_enabled": True,
        },
    )
    return notify(page, said) if said else page
