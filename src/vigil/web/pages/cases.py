"""The case screen: every flagged item of one account, protected, with classification,
decisions and the one audited way to see an item unblurred."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from vigil.http.dependencies import Deciding
from vigil.http.errors import ApiError
from vigil.http.row_ids import MAX_ROW_ID, RowId
from vigil.http.state import service_state
from vigil.review.decisions import (
    DecisionResult,
    FalsePositiveFeedback,
    add_to_platform_list,
    classify_item,
    confirm_known,
    decide,
    set_incident_type,
)
from vigil.review.errors import DecisionRefused, InvalidReviewInput, UnknownCase, UnknownItem
from vigil.review.exposure import exposure_today
from vigil.review.lookup import get_case, get_item, records_of
from vigil.review.queue import next_case
from vigil.review.selection import MAX_SELECTION, classify_selection
from vigil.store.models import CaseStatus, DecisionKind
from vigil.web.case_view import (
    CONFIRM_KNOWN_KEY,
    NEXT_CASE_KEY,
    VOCABULARY,
    case_view,
    hits_feedback,
    item_view,
    record_of,
    shortcut_rows,
)
from vigil.web.notices import done_then_go_to, notify, notify_after_redirect
from vigil.web.protection import (
    CHOICES,
    protection_choice,
    remember_choice,
)
from vigil.web.templating import templates

router = APIRouter(prefix="/review", include_in_schema=False)
SHORTCUTS_COOKIE = "vigil_shortcuts"  # "off": single-key shortcuts switched off (keyboard.js)
DONE = {
    DecisionKind.CONFIRM: "Item {item} confirmed.",
    DecisionKind.FALSE_POSITIVE: "Item {item} recorded as a false positive.",
    DecisionKind.SECOND_OPINION: "Second opinion requested: the case is back in the queue.",
    DecisionKind.ESCALATE: "Case escalated as urgent; your reason goes into the report.",
    DecisionKind.DE_ESCALATE: "Escalation undone: the case is no longer urgent.",
}
# A label for a selection: Space (on the current card) selects it; Shift+letters below.
SELECT_ALL_KEY = "A"
LABEL_SELECTION_KEY = "L"
SELECTION_SHORTCUTS = [
    (["Space"], "select or unselect the current item (a label for several items)"),
    ([f"Shift+{SELECT_ALL_KEY}"], "select all pending items"),
    ([f"Shift+{LABEL_SELECTION_KEY}"], "choose the classification of the selected items"),
]
SELECTION_KEYS = {"select_all_key": SELECT_ALL_KEY, "label_selection_key": LABEL_SELECTION_KEY}
# A selected item's id, as bounded as an id in a URL (vigil.http.row_ids).
SelectedId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, principal: Deciding) -> Response:
    state = service_state(request)
    with state.database.transaction() as session:
        view = case_view(session, _case(session, case_id))
        exposure = exposure_today(session, principal.id, settings=state.settings.review)
    protection = protection_choice(request)
    response = templates.TemplateResponse(
        request,
        "case.html",
        {
            "case": view,
            "exposure": exposure,
            "protection": protection,
            "protection_labels": CHOICES,
            "principal": principal,
            "current_id": view.first_pending_id,
            "shortcuts_on": request.cookies.get(SHORTCUTS_COOKIE) != "off",
            "shortcut_rows": [*shortcut_rows(), *SELECTION_SHORTCUTS],
            "confirm_known_key": CONFIRM_KNOWN_KEY,
            "next_case_key": NEXT_CASE_KEY,
            "incident": _incident(view.public_id, view.incident_type),
            **SELECTION_KEYS,
        },
    )
    remember_choice(response, protection)
    return response


@router.get("/cases/{case_id}/next")
def go_to_next_case(request: Request, case_id: str, principal: Deciding) -> Response:
    """The next case in the queue this reviewer may take (unassigned or theirs)."""
    with service_state(request).database.transaction() as session:
        following = next_case(session, principal.id, after=_case(session, case_id).public_id)
    if following is None:
        return done_then_go_to(request, "/review", "No other case is waiting for you.")
    return RedirectResponse(f"/review/cases/{following}", status_code=303)


@router.post("/items/{item_id}/classify", response_class=HTMLResponse)
def classify(
    request: Request,
    item_id: RowId,
    *,
    classification: str = Form(""),
    annotations: list[str] = Form([]),
    principal: Deciding,
) -> Response:
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        item = _changed(
            lambda: classify_item(
                session, item_id, classification or None, annotations, actor=principal.actor
            )
        )
        record = record_of(session, item)
        view = item_view(item, record, hits_feedback(session, [record]))
        case = case_view(session, item.case)
    return templates.TemplateResponse(
        request,
        "_item.html",
        {"item": view, "case": case, "protection": protection_choice(request), "current": True},
    )


@router.post("/cases/{case_id}/confirm-known")
def confirm_known_items(request: Request, case_id: str, principal: Deciding) -> Response:
    """Every pending item a known list entry classified, confirmed after one confirmation."""
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        confirmed = _changed(
            lambda: confirm_known(
                session,
                case_id,
                reviewer=principal,
                settings=state.settings.review,
                vault=state.vault,
            )
        )
    count = len(confirmed)
    return _back_to_case(
        request, case_id, f"Confirmed {count} known item{'s' if count != 1 else ''}."
    )


@router.post("/items/{item_id}/platform-list", response_class=HTMLResponse)
def to_platform_list(request: Request, item_id: RowId, principal: Deciding) -> str:
    """A confirmed item's hashes join the platform's own list: re-uploads match at once."""
    state = service_state(request)
    with state.database.transaction(write=True) as session:
        added = _changed(
            lambda: add_to_platform_list(
                session, item_id, actor=principal.actor, settings=state.settings.review
            )
        )
    return (
        f"<p role='status'>Added to {escape(added.list_name)}: {len(added.added)} new, "
        f"{len(added.existing)} already there.</p>"
    )


@router.post("/cases/{case_id}/incident-type", response_class=HTMLResponse)
def incident_type(
    request: Request, case_id: str, *, value: str = Form(""), principal: Deciding
) -> Response:
    with service_state(request).database.transaction(write=True) as session:
        case = _changed(
            lambda: set_incident_type(session, case_id, value or None, actor=principal.actor)
        )
        public_id, chosen = case.public_id, case.incident_type
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/review/cases/{case_id}", status_code=303)
    # Only the form changes: the rest of the screen, and the current item, stay as they are.
    response = templates.TemplateResponse(
        request, "_case_incident.html", {"incident": _incident(public_id, chosen)}
    )
    return notify(response, f"Incident type: {chosen}." if chosen else "Incident type cleared.")


@router.post("/cases/{case_id}/classify-selected", response_class=HTMLResponse)
def classify_selected(
    request: Request,
    case_id: str,
    *,
    item_ids: list[SelectedId] = Form([], max_length=MAX_SELECTION),
    classification: str = Form("", max_length=16),
    principal: Deciding,
) -> Response:
    """A label for a selection: one classification for every selected item of the case."""
    with service_state(request).database.transaction(write=True) as session:
        items = _changed(
            lambda: classify_selection(
                session, case_id, item_ids, classification or None, actor=principal.actor
            )
        )
        records = records_of(session, items)
        feedback = hits_feedback(session, records.values())
        labelled = [item_view(item, records[item.record_id], feedback) for item in items]
        case = case_view(session, items[0].case)
    count = len(labelled)
    done = f"{count} item{'s' if count != 1 else ''} labelled {classification}."
    if not request.headers.get("hx-request"):
        return done_then_go_to(request, f"/review/cases/{case_id}", done)
    response = templates.TemplateResponse(
        request,
        "_selection_labelled.html",
        {
            "case": case,
            "labelled": labelled,
            "protection": protection_choice(request),
            **SELECTION_KEYS,
        },
    )
    return notify(response, done)


def _incident(case_id: str, value: str | None) -> dict[str, Any]:
    """The incident-type form's values (_case_incident.html)."""
    return {"case_id": case_id, "value": value, "choices": VOCABULARY["all_incident_types"]}


@router.post("/cases/{case_id}/decide")
def decide_case(
    request: Request,
    case_id: str,
    *,
    kind: str = Form(max_length=32),
    item_id: int | None = Form(None),
    reason: str = Form("", max_length=2000),
    disable_entries: bool = Form(False),
    allow_list: bool = Form(False),
    imminent_danger: bool = Form(False),
    confirmed: bool = Form(False),
    principal: Deciding,
) -> Response:
    state = service_state(request)
    if kind == DecisionKind.ESCALATE and not confirmed:
        raise ApiError(
            422,
            "tick 'I confirm' to escalate: the case becomes urgent and the report says why",
            code="refused",
        )
    feedback = FalsePositiveFeedback(disable_entries=disable_entries, allow_list=allow_list)
    with state.database.transaction(write=True) as session:
        result: DecisionResult = _changed(
            lambda: decide(
                session,
                case_id,
                kind,
                reviewer=principal,
                settings=state.settings.review,
                item_id=item_id,
                reason=reason,
                feedback=feedback,
                imminent_danger=imminent_danger,
                vault=state.vault,
            )
        )
        done = DONE[result.kind].format(item=result.item_id)
        if _swaps_the_card(request, result):
            return _decided_card(request, session, result, done)
    return _back_to_case(request, case_id, done)


def _swaps_the_card(request: Request, result: DecisionResult) -> bool:
    """An item decided on an open case: only its card (and the counters) change."""
    return (
        bool(request.headers.get("hx-request"))
        and result.item_id is not None
        and result.case_status is CaseStatus.OPEN
    )


def _decided_card(request: Request, session: Any, result: DecisionResult, done: str) -> Response:
    assert result.item_id is not None  # _swaps_the_card: an item decision
    item = get_item(session, result.item_id)
    record = record_of(session, item)
    response = templates.TemplateResponse(
        request,
        "_item_decided.html",
        {
            "item": item_view(item, record, hits_feedback(session, [record])),
            "case": case_view(session, item.case),
            "protection": protection_choice(request),
            "current": False,
            "decided": True,
        },
    )
    return notify(response, done)


def _back_to_case(request: Request, case_id: str, done: str) -> Response:
    """The whole case screen again (the case changed, or closed), with what was done."""
    target = f"/review/cases/{case_id}"
    if not request.headers.get("hx-request"):
        return done_then_go_to(request, target, done)
    response = Response(status_code=204, headers={"HX-Redirect": target})
    secure = service_state(request).settings.api.secure_cookies
    return notify_after_redirect(response, done, secure=secure)


def _case(session: Any, case_id: str) -> Any:
    try:
        return get_case(session, case_id)
    except UnknownCase:
        raise ApiError(404, "no such case") from None


def _changed(change: Any) -> Any:
    try:
        return change()
    except (UnknownCase, UnknownItem):
        raise ApiError(404, "no such case or item") from None
    except (InvalidReviewInput, DecisionRefused) as exc:
        raise ApiError(422, str(exc), code="refused") from None
