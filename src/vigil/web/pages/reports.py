"""Reports to the clearinghouse: confirmed cases waiting to be filed (with their urgency),
a preview of a case's report before it is filed (its fields and the XML filing would send,
from the same builder), every report's state in the send queue (with the destination's last
answer), and the XML of a report and of its files for a manual upload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vigil.http.dependencies import ReportsSubmitting
from vigil.http.errors import ApiError
from vigil.http.row_ids import NarrowRowId
from vigil.http.state import ServiceState, service_state
from vigil.reporting.cybertipline import ReportRefused
from vigil.reporting.filing import destinations, file_case_report, send_now
from vigil.reporting.preview import filed_case, preview_case_report, urgency_of
from vigil.reporting.report_queue import (
    case_ids_of,
    cases_awaiting_report,
    exchanges_of,
    latest_reports,
    report_by_public_id,
)
from vigil.reporting.sending import ReportSender, ReportStateError
from vigil.reporting.viral_filing import file_viral_report, viral_candidates
from vigil.reporting.xml_downloads import (
    NoSuchDocument,
    XmlDocument,
    download_file_details,
    download_report_xml,
)
from vigil.store.models import FileState, Report, ReportState
from vigil.store.shared.vocabulary import INCIDENT_TYPES
from vigil.web.navigation import go_to
from vigil.web.notices import notify_after_redirect
from vigil.web.templating import templates

router = APIRouter(prefix="/reports", include_in_schema=False)
QUEUE_LIMIT = 200
CHOOSE_TYPE = (
    "Choose the incident type: the report says what happened, and no type is assumed for you."
)
# A file's state in words, by whether the destination is a person's manual upload.
FILE_STATES = {
    (False, FileState.PENDING): "waiting to be uploaded",
    (False, FileState.UPLOADED): "uploaded; its details not yet sent",
    (False, FileState.DESCRIBED): "uploaded and described",
    (True, FileState.PENDING): "waiting to be written",
    (True, FileState.UPLOADED): "written",
    (True, FileState.DESCRIBED): "details written for the manual upload",
}


@router.get("", response_class=HTMLResponse)
def reports_page(request: Request, principal: ReportsSubmitting) -> Response:
    with service_state(request).database.transaction() as session:
        waiting = [
            {"case": case, "urgency": urgency_of(case)} for case in cases_awaiting_report(session)
        ]
        reports = latest_reports(session, QUEUE_LIMIT)
        cases = case_ids_of(session, reports)
        rows = [_row(report, cases) for report in reports]
        viral = viral_candidates(session)
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "waiting": waiting,
            "viral": viral,
            "reports": rows,
            "incident_types": INCIDENT_TYPES,
            "principal": principal,
        },
    )


def _row(report: Report, cases: dict[int, str]) -> dict[str, Any]:
    return {
        "public_id": report.public_id,
        "destination": report.destination,
        "kind": report.kind.value,
        "state": report.state.value,
        "case": cases.get(report.case_id or 0),
        "remote_id": report.remote_report_id,
        "attempts": report.attempts,
        "error": report.last_error,
        "updated_at": report.updated_at,
        "files": len(report.files),
        "preserved": report.package_sha256 is not None,
        "failed": report.state is ReportState.FAILED,
    }


@router.post("/file")
async def file_report(
    request: Request,
    *,
    case_id: str = Form(max_length=32),
    incident_type: str = Form("", max_length=100),
    supplemental: bool = Form(False),
    principal: ReportsSubmitting,
) -> Response:
    """Build, validate and queue the case's report, then try to send it at once. The
    incident type is the person's choice: none is refused, never assumed."""
    state = service_state(request)
    chosen = _chosen_type(incident_type)
    filed = await _file_and_send(
        state,
        lambda session: file_case_report(
            session,
            case_id,
            settings=state.settings,
            actor=principal.actor,
            incident_type=chosen,
            supplemental=supplemental,
        ),
    )
    response = go_to(request, f"/reports/{filed[0]}" if filed else "/reports")
    return notify_after_redirect(
        response,
        f"Report filed ({chosen}).",
        secure=state.settings.api.secure_cookies,
    )


def _chosen_type(incident_type: str) -> str:
    chosen = incident_type.strip()
    if not chosen:
        raise ApiError(422, CHOOSE_TYPE, code="report_refused")
    return chosen


@router.get("/preview", response_class=HTMLResponse)
def preview_report(
    request: Request,
    principal: ReportsSubmitting,
    case_id: str = Query(max_length=32),
    incident_type: str = Query("", max_length=100),
) -> Response:
    """The report as filing would build it (fields and XML), and the button that files it."""
    state = service_state(request)
    chosen = _chosen_type(incident_type)
    with state.database.transaction() as session:
        try:
            preview = preview_case_report(
                session, case_id, settings=state.settings, incident_type=chosen
            )
        except ReportRefused as exc:
            raise ApiError(
                422, f"The report cannot be filed: {exc}", code="report_refused"
            ) from None
    return templates.TemplateResponse(
        request, "report_preview.html", {"preview": preview, "principal": principal}
    )


@router.post("/viral")
async def file_viral(
    request: Request,
    *,
    sha256: str = Form(pattern="^[0-9a-f]{64}$"),
    incident_type: str = Form("", max_length=100),
    principal: ReportsSubmitting,
) -> Response:
    """One batched report for a viral or meme file shared by many accounts."""
    state = service_state(request)
    chosen = _chosen_type(incident_type)
    await _file_and_send(
        state,
        lambda session: file_viral_report(
            session,
            sha256,
            settings=state.settings,
            actor=principal.actor,
            incident_type=chosen,
        ),
    )
    response = go_to(request, "/reports")
    return notify_after_redirect(
        response, f"Batched report filed ({chosen}).", secure=state.settings.api.secure_cookies
    )


async def _file_and_send(state: ServiceState, file: Callable[[Session], list[Report]]) -> list[str]:
    """Queue the reports ``file`` builds (one transaction), then try to send each at once;
    what cannot be sent now stays queued for the background job."""

    def queue() -> list[str]:
        with state.database.transaction(write=True) as session:
            try:
                return [report.public_id for report in file(session)]
            except ReportRefused as exc:
                raise ApiError(
                    422, f"The report cannot be filed: {exc}", code="report_refused"
                ) from None

    filed = await run_in_threadpool(queue)
    for public_id in filed:
        if state.vault is not None:
            await run_in_threadpool(
                send_now, state.database, state.settings, state.vault, public_id
            )
    return filed


@router.get("/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: str, principal: ReportsSubmitting) -> Response:
    """One report: its case and urgency, state, files, downloads and every exchange with
    the destination."""
    state = service_state(request)
    manual = _manual(state, report_id)
    with state.database.transaction() as session:
        report = _report(session, report_id)
        exchanges = exchanges_of(session, report)
        files = [
            {
                "index": index,
                "name": f.file_name,
                "state": FILE_STATES[(manual, f.state)],
                "remote_id": f.remote_file_id,
                "viewed": f.viewed_by_esp,
                "has_details": bool(f.file_details_xml),
            }
            for index, f in enumerate(report.files, start=1)
        ]
        case = filed_case(session, report.case_id)
        row = _row(report, {case.id: case.public_id} if case else {})
        urgency = urgency_of(case) if case else None
    return templates.TemplateResponse(
        request,
        "report.html",
        {
            "report": row,
            "urgency": urgency,
            "manual": manual,
            "files": files,
            "exchanges": exchanges,
            "principal": principal,
        },
    )


def _report(session: Session, report_id: str) -> Report:
    report = report_by_public_id(session, report_id[:32])
    if report is None:
        raise ApiError(404, "no such report")
    return report


def _manual(state: ServiceState, report_id: str) -> bool:
    """Whether the report's destination is a file a person uploads by hand."""
    with state.database.transaction() as session:
        name = _report(session, report_id).destination
    kinds = {d.name: d.kind for d in destinations(state.settings)}
    return kinds.get(name, "cybertipline") != "cybertipline"


@router.get("/{report_id}/report.xml")
def report_xml(request: Request, report_id: str, principal: ReportsSubmitting) -> Response:
    """The report's XML as filed: the document a manual-upload destination writes. Each
    download is audited as handed out to the person."""
    return _download(
        request, lambda session: download_report_xml(session, report_id[:32], actor=principal.actor)
    )


@router.get("/{report_id}/files/{index}/details.xml")
def file_details_xml(
    request: Request, report_id: str, index: NarrowRowId, principal: ReportsSubmitting
) -> Response:
    """One file's <fileDetails> as filed (the ids are filled in at the upload), audited."""
    return _download(
        request,
        lambda session: download_file_details(
            session, report_id[:32], index, actor=principal.actor
        ),
    )


def _download(request: Request, read: Callable[[Session], XmlDocument]) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        try:
            document = read(session)
        except NoSuchDocument as exc:
            raise ApiError(404, str(exc)) from None
    return _xml_download(document.content, document.file_name)


def _xml_download(content: str, name: str) -> Response:
    return Response(
        content.encode(),
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{report_id}/retract")
async def retract(
    request: Request,
    report_id: str,
    *,
    reason: str = Form(min_length=1, max_length=2000),
    principal: ReportsSubmitting,
) -> Response:
    """Cancel a report that is not finished (with the reason, audited)."""
    state = service_state(request)
    sender = _sender(state, report_id)
    try:
        await run_in_threadpool(
            lambda: sender.retract(report_id, actor=principal.actor, reason=reason)
        )
    except ReportStateError as exc:
        raise ApiError(422, str(exc), code="refused") from None
    return RedirectResponse(f"/reports/{report_id}", status_code=303)


def _sender(state: Any, report_id: str) -> ReportSender:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    with state.database.transaction() as session:
        report = report_by_public_id(session, report_id)
        if report is None:
            raise ApiError(404, "no such report")
        name = report.destination
    destination = next((d for d in destinations(state.settings) if d.name == name), None)
    if destination is None:
        raise ApiError(422, "that destination is no longer configured")
    return ReportSender(state.database, destination, state.vault)


@router.post("/{report_id}/retry")
async def retry(request: Request, report_id: str, principal: ReportsSubmitting) -> Response:
    """A failed report, after a person has looked at why: back into the send queue."""
    state = service_state(request)
    sender = _sender(state, report_id)
    try:
        await run_in_threadpool(lambda: sender.retry(report_id, actor=principal.actor))
    except ReportStateError as exc:
        raise ApiError(422, str(exc), code="refused") from None
    await run_in_threadpool(send_now, state.database, state.settings, sender.vault, report_id)
    return RedirectResponse("/reports", status_code=303)
