"""The audit log for auditors: recent records and a verification of the whole chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from vigil.api.answers.audit import AuditEntries, ChainVerification
from vigil.http.dependencies import AuditReading
from vigil.http.error_answers import AUTHENTICATED
from vigil.http.state import service_state
from vigil.store.audit import AuditLog, verify_chain
from vigil.store.models import AuditRecord

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=AUTHENTICATED)


@router.get("", response_model=AuditEntries)
def recent(
    request: Request, *, limit: int = Query(50, ge=1, le=1000), _principal: AuditReading
) -> dict[str, Any]:
    with service_state(request).database.transaction() as session:
        return {"records": [_record(row) for row in AuditLog(session).recent(limit)]}


@router.get("/verify", response_model=ChainVerification)
def verify(request: Request, _principal: AuditReading) -> dict[str, Any]:
    """Recompute every hash and link; the first broken record, if any."""
    with service_state(request).database.transaction() as session:
        report = verify_chain(session)
    broken = report.broken
    return {
        "intact": report.intact,
        "records": report.records,
        "last_seq": report.last_seq,
        "first_break": None if broken is None else {"seq": broken.seq, "reason": broken.reason},
    }


def _record(row: AuditRecord) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action.value,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "details": row.details,
        "hash": row.hash,
    }
