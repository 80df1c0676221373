"""Backlog scan jobs over HTTP, for administrators (issue 17): every job's progress with its
rate and ETA, one job, and cancelling one, as `vigil scan-jobs list|status|cancel` do.

Administrators only (users:manage, which no API key can hold), as the exchanges: a job's
source names the platform's buckets and its matches lead to review. Starting and resuming
a job stay on the command line: a scan is a long process of its own, not a request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from vigil.api.answers.scan_jobs import ScanJobStatus, ScanJobStatuses
from vigil.http.dependencies import UsersManaging
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.row_ids import NarrowRowId
from vigil.http.state import service_state
from vigil.screening.backlog.job_overview import JobOverview, job_overview, job_overviews
from vigil.store.scan_jobs.jobs import MAX_PAGE, ScanJobEnded, ScanJobNotFound, cancel_job

router = APIRouter(prefix="/v1/admin/scan-jobs", tags=["scan jobs"], responses=RESOURCES)


@router.get("", response_model=ScanJobStatuses)
def scan_jobs(
    request: Request,
    _principal: UsersManaging,
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="At most this many, newest first."),
) -> dict[str, Any]:
    found = job_overviews(service_state(request).database, limit=limit)
    return {"jobs": [answer(job) for job in found]}


@router.get("/{job_id}", response_model=ScanJobStatus)
def scan_job(job_id: NarrowRowId, request: Request, _principal: UsersManaging) -> dict[str, Any]:
    try:
        return answer(job_overview(service_state(request).database, job_id))
    except ScanJobNotFound as exc:
        raise ApiError(404, str(exc), code="unknown_scan_job") from None


@router.post("/{job_id}/cancel", response_model=ScanJobStatus)
def cancel(job_id: NarrowRowId, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Stop a job for good (a running process stops before its next chunk); its results
    stay. A completed or cancelled job: 409."""
    database = service_state(request).database
    try:
        with database.transaction(write=True) as session:
            cancel_job(session, job_id, actor=principal.actor)
    except ScanJobNotFound as exc:
        raise ApiError(404, str(exc), code="unknown_scan_job") from None
    except ScanJobEnded as exc:
        raise ApiError(409, str(exc), code="scan_job_ended") from None
    return answer(job_overview(database, job_id))


def answer(job: JobOverview) -> dict[str, Any]:
    return {
        "id": job.id,
        "source": job.source,
        "engine": job.engine,
        "status": job.shown_status,
        "stored_status": job.status.value,
        "process_gone": job.process_gone,
        "objects": job.objects,
        "total": job.total,
        "percent": _rounded(job.percent),
        "bytes": job.bytes,
        "errors": job.errors,
        "matches": {"found": job.matches, "queued": job.queued, "released": job.released},
        "chunks": job.chunks,
        "checkpoint": job.checkpoint,
        "last_error": job.last_error,
        "rate": _rounded(job.rate),
        "eta_seconds": _rounded(job.eta_seconds),
        "started_at": job.started_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "finished_at": None if job.finished_at is None else job.finished_at.isoformat(),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
