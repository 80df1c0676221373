"""The administrator's view of the backlog scan jobs (issue 17): each job's status (a job whose
process died says so), progress with its rate and ETA, errors and matches queued against
released to review, refreshed every few seconds; a running or resumable job can be
cancelled, as `vigil scan-jobs cancel` does. Same permission as /v1/admin/scan-jobs."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import UsersManaging
from vigil.http.row_ids import MAX_NARROW_ROW_ID  # scan_jobs.id is an INTEGER
from vigil.http.state import service_state
from vigil.screening.backlog.job_overview import job_overviews
from vigil.store.accounts import Principal
from vigil.store.scan_jobs.jobs import ScanJobEnded, ScanJobNotFound, cancel_job
from vigil.web.templating import templates

router = APIRouter(prefix="/admin/scan-jobs", include_in_schema=False)
SHOWN = 100  # the newest jobs; `vigil scan-jobs list --limit` shows older ones


@router.get("", response_class=HTMLResponse)
def scan_jobs_page(request: Request, principal: UsersManaging) -> Response:
    return _page(request, principal)


@router.get("/table", response_class=HTMLResponse)
def scan_jobs_table(request: Request, _principal: UsersManaging) -> Response:
    """The table alone, which the page asks for every few seconds."""
    return _render(request, "_scan_jobs_table.html", {})


@router.post("/cancel", response_class=HTMLResponse)
def cancel(
    request: Request,
    *,
    job_id: int = Form(ge=1, le=MAX_NARROW_ROW_ID),
    principal: UsersManaging,
) -> Response:
    """The page with a sentence saying what happened, or why nothing did."""
    try:
        with service_state(request).database.transaction(write=True) as session:
            cancel_job(session, job_id, actor=principal.actor)
    except ScanJobNotFound as exc:
        return _page(request, principal, refusal=f"Nothing changed: {exc}.", status=404)
    except ScanJobEnded as exc:
        return _page(request, principal, refusal=f"Nothing changed: {exc}.", status=409)
    notice = (
        f"Scan job {job_id} is cancelled: a process scanning it stops before its next chunk; "
        "what it found so far stays."
    )
    return _page(request, principal, notice=notice)


def _page(
    request: Request,
    principal: Principal,
    *,
    notice: str = "",
    refusal: str = "",
    status: int = 200,
) -> Response:
    context = {"principal": principal, "notice": notice, "refusal": refusal}
    return _render(request, "scan_jobs.html", context, status)


def _render(
    request: Request, template: str, context: dict[str, object], status: int = 200
) -> Response:
    jobs = job_overviews(service_state(request).database, limit=SHOWN)
    return templates.TemplateResponse(
        request, template, {**context, "jobs": jobs}, status_code=status
    )
