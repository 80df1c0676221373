"""The hash lists for whoever may read them: each list's state and entry counts, a list's
entries a page at a time, and, for list curators, disabling an entry (with the reason) or
enabling it again; the flood guard's suspects are their own page (/lists/suspects).

Reading needs lists:read as GET /v1/lists; switching an entry needs lists:manage and calls
the store functions `vigil lists disable/enable --entry` calls, which record the change in
the entry's history and the audit log."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import ListsManaging, ListsReading
from vigil.http.errors import ApiError
from vigil.http.row_ids import MAX_ROW_ID, RowId
from vigil.http.state import service_state
from vigil.store.accounts import Permission, Principal
from vigil.store.lists.catalogue import MAX_NAME_CHARS, list_summaries, list_summary
from vigil.store.lists.entry_pages import entry_page
from vigil.store.lists.entry_status import disable_entry, enable_entry
from vigil.store.lists.errors import StatusChangeRefused, UnknownEntry, UnknownList
from vigil.store.models import EntryStatus
from vigil.web.notices import notify
from vigil.web.templating import templates

router = APIRouter(prefix="/admin/lists", include_in_schema=False)
PAGE_SIZE = 50
MAX_REASON = 2000
STATUS_PATTERN = "^(|" + "|".join(status.value for status in EntryStatus) + ")$"


@router.get("", response_class=HTMLResponse)
def lists_page(request: Request, principal: ListsReading) -> Response:
    with service_state(request).database.transaction() as session:
        found = list_summaries(session)
    return templates.TemplateResponse(
        request,
        "admin_lists.html",
        {"principal": principal, "lists": found, "statuses": list(EntryStatus)},
    )


@router.get("/entries", response_class=HTMLResponse)
def entries_page(
    request: Request,
    *,
    name: str = Query(alias="list", min_length=1, max_length=MAX_NAME_CHARS),
    status: str = Query("", pattern=STATUS_PATTERN),
    after: int = Query(0, ge=0, le=MAX_ROW_ID),
    principal: ListsReading,
) -> Response:
    return _entries(request, principal, name, status, after)


@router.post("/entries/{entry_id}/status", response_class=HTMLResponse)
def switch_entry(
    request: Request,
    entry_id: RowId,
    *,
    name: str = Form(alias="list", min_length=1, max_length=MAX_NAME_CHARS),
    change: str = Form(pattern="^(disable|enable)$"),
    reason: str = Form("", max_length=MAX_REASON),
    status: str = Form("", pattern=STATUS_PATTERN),
    after: int = Form(0, ge=0, le=MAX_ROW_ID),
    principal: ListsManaging,
) -> Response:
    """Only an entry of the list named (a mistyped id cannot reach another list's entry)."""
    with service_state(request).database.transaction(write=True) as session:
        try:
            if change == "disable":
                done = disable_entry(
                    session, entry_id, actor=principal.actor, reason=reason, list_name=name
                )
            else:
                done = enable_entry(
                    session, entry_id, actor=principal.actor, reason=reason, list_name=name
                )
        except UnknownEntry as exc:
            raise ApiError(404, str(exc)) from None
        except StatusChangeRefused as exc:
            raise ApiError(422, str(exc)) from None
    said = (
        f"Entry {entry_id} of {done.list_name} is now {done.new_status}."
        if done.changed
        else f"Entry {entry_id} of {done.list_name} was already {done.new_status}."
    )
    return notify(_entries(request, principal, name, status, after), said)


def _entries(
    request: Request, principal: Principal, name: str, status: str, after: int
) -> Response:
    wanted = EntryStatus(status) if status else None
    with service_state(request).database.transaction() as session:
        try:
            summary = list_summary(session, name)
            page = entry_page(session, name, status=wanted, after=after, limit=PAGE_SIZE)
        except UnknownList as exc:
            raise ApiError(404, str(exc)) from None
        entries = [
            {
                "id": entry.id,
                "signal_type": entry.signal_type.value,
                "signal": entry.signal,
                "status": entry.status.value,
                "status_reason": entry.status_reason or "",
                "status_by": entry.status_by or "",
                "source": entry.source or "",
                "classification": entry.classification or "",
            }
            for entry in page.entries
        ]
    kept = {"list": summary.name, **({"status": status} if status else {})}
    return templates.TemplateResponse(
        request,
        "admin_list_entries.html",
        {
            "principal": principal,
            "summary": summary,
            "entries": entries,
            "status": status,
            "after": after,
            "statuses": list(EntryStatus),
            "can_switch": principal.can(Permission.LISTS_MANAGE),
            "first": f"/admin/lists/entries?{urlencode(kept)}" if after else None,
            "next": (
                f"/admin/lists/entries?{urlencode({**kept, 'after': page.next_after})}"
                if page.next_after
                else None
            ),
        },
    )
