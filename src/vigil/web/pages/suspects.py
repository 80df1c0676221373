"""Entries the flood guard holds as suspect, with the surge that made them so, and a list
curator's decision on each: confirm (normal again) or quarantine (stops matching)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.http.dependencies import ListsManaging, ListsReading
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import service_state
from vigil.store.accounts import Permission
from vigil.store.lists.errors import StatusChangeRefused, UnknownEntry
from vigil.store.lists.suspicions import confirm_suspect, open_suspicions, quarantine_suspect
from vigil.web.templating import templates

router = APIRouter(prefix="/lists/suspects", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def suspects_page(request: Request, principal: ListsReading) -> Response:
    with service_state(request).database.transaction() as session:
        found = open_suspicions(session)
    return templates.TemplateResponse(
        request,
        "suspects.html",
        {
            "suspects": found,
            "principal": principal,
            "can_decide": principal.can(Permission.LISTS_MANAGE),
        },
    )


@router.post("/{entry_id}")
def decide(
    request: Request,
    entry_id: RowId,
    *,
    decision: str = Form(pattern="^(confirm|quarantine)$"),
    reason: str = Form(max_length=2000),
    principal: ListsManaging,
) -> Response:
    decide_one = confirm_suspect if decision == "confirm" else quarantine_suspect
    with service_state(request).database.transaction(write=True) as session:
        try:
            decide_one(session, entry_id, actor=principal.actor, reason=reason)
        except UnknownEntry:
            raise ApiError(404, "no such entry") from None
        except StatusChangeRefused as exc:
            raise ApiError(422, str(exc), code="refused") from None
    return RedirectResponse("/lists/suspects", status_code=303)
