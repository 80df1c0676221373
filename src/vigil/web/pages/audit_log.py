"""The audit log for auditors and administrators: every recorded act, newest first, narrowed
by actor, action, subject and dates, a page at a time. Same permission (audit:read) and the
same records as GET /v1/audit; reading it changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import AuditReading
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.audit.search import AuditQuery, search_audit
from vigil.web.templating import templates

router = APIRouter(prefix="/audit", include_in_schema=False)
PAGE_SIZE = 50
MAX_SEQ = 2**63 - 1


@router.get("", response_class=HTMLResponse)
def audit_page(
    request: Request,
    *,
    actor: str = Query("", max_length=200),
    action: str = Query("", max_length=40),
    subject: str = Query("", max_length=200),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    before: int | None = Query(None, ge=1, le=MAX_SEQ),
    principal: AuditReading,
) -> Response:
    query = AuditQuery(
        actor=actor.strip(),
        action=_action(action),
        subject=subject.strip(),
        since=_day(since, "since"),
        until=_day_after(until),
    )
    with service_state(request).database.transaction() as session:
        page = search_audit(session, query, before=before, limit=PAGE_SIZE)
        rows = [shown(record) for record in page.records]
    filters = {"actor": actor, "action": action, "subject": subject}
    filters |= {"since": since, "until": until}
    kept = {name: value for name, value in filters.items() if value}
    older = f"/audit?{urlencode({**kept, 'before': page.older})}" if page.older else None
    return templates.TemplateResponse(
        request,
        "audit_log.html",
        {
            "principal": principal,
            "records": rows,
            "filters": filters,
            "actions": [item.value for item in AuditAction],
            "older": older,
            "newest": f"/audit?{urlencode(kept)}" if before else None,
        },
    )


def shown(record: AuditRecord) -> dict[str, str | int]:
    """A record as the page (and the start page's recent list) shows it."""
    subject = ":".join(part for part in (record.subject_type, record.subject_id) if part)
    return {
        "seq": record.seq,
        "at": record.at.strftime("%Y-%m-%d %H:%M:%S"),
        "actor": record.actor,
        "action": record.action.value,
        "subject": subject,
        "details": json.dumps(record.details, ensure_ascii=False, sort_keys=True),
    }


def _action(value: str) -> AuditAction | None:
    if not value:
        return None
    try:
        return AuditAction(value)
    except ValueError:
        raise ApiError(422, f"there is no audit action {value[:40]!r}") from None


def _day(value: str, name: str) -> datetime | None:
    """The start (UTC) of a day written YYYY-MM-DD, as a date field sends it."""
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        raise ApiError(422, f"{name} is a day written YYYY-MM-DD") from None


def _day_after(value: str) -> datetime | None:
    """``until`` includes its whole day."""
    day = _day(value, "until")
    if day is None or day.date() == date.max:  # the last day there is: no end needed
        return None
    return day + timedelta(days=1)
