"""Reports to the clearinghouse: confirmed cases waiting to be filed, and every report's
state in the send queue (with the destination's last answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vigil.http.dependencies import ReportsSubmitting
from vigil.http.errors import ApiError
from vigil.http.state import ServiceState, service_state
from vigil.reporting.cybertipline import ReportRefused
from vigil.reporting.filing import destinations, file_case_report, send_now
from vigil.reporting.report_queue import (
    case_ids_of,
    cases_awaiting_report,
    exchanges_of,
    latest_reports,
    report_by_public_id,
)
from vigil.reporting.sending import ReportSender, ReportStateError
from vigil.reporting.viral_filing import file_viral_report, viral_candidates
from vigil.store.models import Report, ReportState
from vigil.store.shared.vocabulary import INCIDENT_TYPES
from vigil.web.templating import templates

router = APIRouter(prefix="/reports", include_in_schema=False)
QUEUE_LIMIT = 200


@router.get("", response_class=HTMLResponse)
def reports_page(request: Request, principal: ReportsSubmitting) -> Response:
    with service_state(request).database.transaction() as session:
        waiting = cases_awaiting_report(session)
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
    """Build, validate and queue the case's report, then try to send it at once."""
    state = service_state(request)
    await _file_and_send(
        state,
        lambda session: file_case_report(
            session,
            case_id,
            settings=state.settings,
            actor=principal.actor,
            incident_type=incident_type or None,
            supplemental=supplemental,
        ),
    )
    return RedirectResponse("/reports", status_code=303)


@router.post("/viral")
async def file_viral(
    request: Request,
    *,
    sha256: str = Form(pattern="^[0-9a-f]{64}$"),
    incident_type: str = Form(max_length=100),
    principal: ReportsSubmitting,
) -> Response:
    """One batched report for a viral or meme file shared by many accounts."""
    state = service_state(request)
    await _file_and_send(
        state,
        lambda session: file_viral_report(
            session,
            sha256,
            settings=state.settings,
            actor=principal.actor,
            incident_type=incident_type,
        ),
    )
    return RedirectResponse("/reports", status_code=303)


async def _file_and_send(state: ServiceState, file: Callable[[Session], list[Report]]) -> None:
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

    for public_id in await run_in_threadpool(queue):
        if state.vault is not None:
            await run_in_threadpool(
                send_now, state.database, state.settings, state.vault, public_id
            )


@router.get("/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: str, principal: ReportsSubmitting) -> Response:
    """One report: its state, files and every exchange with the destination."""
    with service_state(request).database.transaction() as session:
        report = report_by_public_id(session, report_id)
        if report is None:
            raise ApiError(404, "no such report")
        exchanges = exchanges_of(session, report)
        files = [
            {
                "name": f.file_name,
                "state": f.state.value,
                "remote_id": f.remote_file_id,
                "viewed": f.viewed_by_esp,
            }
            for f in report.files
        ]
        row = _row(report, {})
    return templates.TemplateResponse(
        request,
        "report.html",
        {"report": row, "files": files, "exchanges": exchanges, "principal": principal},
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
