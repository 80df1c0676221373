"""The clearinghouse analyst screens: finished intake reports with new material first, one
report with its files (protected), the reports it links to and their cluster, the one audited
way to see a received file unblurred, and labelling that makes the next copy known."""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal

from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vigil.clearinghouse.analyst_queue import headline, queued_reports
from vigil.clearinghouse.assignment import AssignmentRefused, assign, deconflict, handler_of
from vigil.clearinghouse.entities import Cluster, cluster, linked_reports
from vigil.clearinghouse.labelling import InvalidClassification, UnknownIntakeFile, label_file
from vigil.clearinghouse.received_files import (
    SUBJECT,
    open_report,
    received_file,
    reveal_counts,
)
from vigil.http.dependencies import Deciding, MediaViewing, Triaging
from vigil.http.errors import ApiError
from vigil.http.row_ids import RowId
from vigil.http.state import ServiceState, service_state
from vigil.reporting.cybertipline.received import ReceivedReport, flag_names, leaves, read_report
from vigil.reporting.cybertipline.xml_writer import xml_value
from vigil.review.exposure import exposure_today, record_received_file_reveal
from vigil.review.media_views import MAX_CHECK_CHARS, ViewRefused, record_view, release
from vigil.review.rendering import RenderError, RenderOptions, render_for
from vigil.store.accounts import Principal
from vigil.store.models import FileVerdict, IntakeFile
from vigil.store.shared.vocabulary import CLASSIFICATION_MEANINGS, INDUSTRY_CLASSIFICATIONS
from vigil.triage.levels import level_label
from vigil.triage.outlook import levels_of, lowering_labels
from vigil.triage.scoring import REASON_TITLES
from vigil.triage.service import report_under_triage
from vigil.web.analyst_lead import lead_of
from vigil.web.media_hand_out import handed_out_headers, viewed_answer
from vigil.web.notices import notify
from vigil.web.pages.triage import LEVELS
from vigil.web.protection import CHOICES, protection_choice, remember_choice, render_options
from vigil.web.templating import templates

router = APIRouter(prefix="/clearinghouse", include_in_schema=False)
QUEUE_LIMIT = 200
MAX_FIELDS = 200  # report fields listed on the report page
MAX_SHOWN_CHARS = 1000  # of one report field
CLASSIFICATIONS = [(value, CLASSIFICATION_MEANINGS[value]) for value in INDUSTRY_CLASSIFICATIONS]
VerdictFilter = Literal["all", "new", "seen", "known"]


# --- pages ---------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def intake_queue(
    request: Request, *, verdict: VerdictFilter = "all", principal: Deciding
) -> Response:
    state = _enabled(request)
    with state.database.transaction() as session:
        counts = headline(session)
        rows = queued_reports(
            session, None if verdict == "all" else FileVerdict(verdict), limit=QUEUE_LIMIT
        )
        levels = levels_of(session, [row.report_id for row in rows])
    return templates.TemplateResponse(
        request,
        "intake_queue.html",
        {
            "headline": counts,
            "rows": rows,
            "levels": levels,
            "level_names": LEVELS,
            "verdict": verdict,
            "limit": QUEUE_LIMIT,
            "principal": principal,
            "clearinghouse_enabled": True,
        },
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def intake_report(request: Request, report_id: RowId, principal: Deciding) -> Response:
    state = _enabled(request)
    with state.database.transaction() as session:
        opened = open_report(session, report_id)
        if opened is None:
            raise ApiError(404, "no such report")
        report = opened.report
        document = read_report(report.parsed, report.raw_xml)
        under_triage = report_under_triage(session, report.id)
        lead = lead_of(document, under_triage.triage if under_triage else None)
        context: dict[str, Any] = {
            "report": report,
            "company": opened.company,
            "incident": opened.incident,
            "summary": _summary(document),
            "lead": lead,
            "current_level": lead.level,
            "lowering": lowering_labels(session, report.id),
            "files": list(report.files),
            "linked": linked_reports(session, report.id),
            "deconflictions": deconflict(session, report.id),
            "handler": handler_of(session, report.id),
            "cluster": cluster(session, report.id),
            "reveals": reveal_counts(session, report.files),
        }
        context["drawing"] = _drawing(context["cluster"])
        exposure = (
            exposure_today(session, principal.id, settings=state.settings.review)
            if principal.kind == "user"
            else None
        )
    protection = protection_choice(request)
    response = templates.TemplateResponse(
        request,
        "intake_report.html",
        {
            **context,
            "exposure": exposure,
            "protection": protection,
            "protection_labels": CHOICES,
            "classifications": CLASSIFICATIONS,
            "level_names": LEVELS,
            "reason_titles": REASON_TITLES,
            "principal": principal,
            "clearinghouse_enabled": True,
        },
    )
    remember_choice(response, protection)
    return response


@router.get("/files/{file_id}/preview")
async def preview(request: Request, file_id: RowId, principal: MediaViewing) -> Response:
    """The protected rendering, made here: the original bytes do not leave the server."""
    state = _enabled(request)
    options = render_options(request, state.settings.review)
    rendered = await run_in_threadpool(_render, state, file_id, options)
    return Response(
        rendered.content, media_type=rendered.content_type, headers={"Cache-Control": "no-store"}
    )


@router.post("/files/{file_id}/reveal")
async def reveal(request: Request, file_id: RowId, principal: MediaViewing) -> Response:
    """The original file, on an explicit request: the hand-out is audited; the view is
    recorded when the browser confirms it showed it (``viewed``)."""
    state = _enabled(request)
    content, media_type, check = await run_in_threadpool(_release, state, file_id, principal)
    return Response(
        content,
        media_type="application/octet-stream",
        headers=handed_out_headers(media_type, check, state.settings.review),
    )


@router.post("/files/{file_id}/viewed")
def viewed(
    request: Request,
    file_id: RowId,
    *,
    check: str = Body(embed=True, min_length=1, max_length=MAX_CHECK_CHARS),
    principal: MediaViewing,
) -> Response:
    """The browser showed the file handed out with ``check``: audit the view (MEDIA_VIEWED)
    and count it towards the person's exposure."""
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        file = received_file(session, file_id)
        if file is None:
            raise ApiError(404, "no such file")
        try:
            record_view(
                session,
                actor=principal.actor,
                subject_type=SUBJECT,
                subject_id=str(file.id),
                check=check,
                details={"report_id": file.report_id},
            )
        except ViewRefused as exc:
            raise ApiError(409, str(exc), code="view_refused") from None
        exposure = None
        if principal.kind == "user":  # exposure is tracked for people
            record_received_file_reveal(session, principal.id)
            exposure = exposure_today(session, principal.id, settings=state.settings.review)
        reveals = reveal_counts(session, [file]).get(file.id, 0)
    return viewed_answer(reveals, exposure)


@router.post("/files/{file_id}/label", response_class=HTMLResponse)
def label(
    request: Request,
    file_id: RowId,
    *,
    classification: str = Form("", max_length=8),
    principal: Deciding,
) -> Response:
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        fall = _fall(session, file_id, classification)
        try:
            label_file(session, file_id, classification, actor=principal.actor, vault=state.vault)
        except UnknownIntakeFile:
            raise ApiError(404, "no such file") from None
        except InvalidClassification as exc:
            raise ApiError(422, str(exc), code="refused") from None
        file = received_file(session, file_id)
        if file is None:
            raise ApiError(404, "no such file")
        reveals = reveal_counts(session, [file])
        opened = open_report(session, file.report_id)
        others = [f for f in opened.report.files if f.id != file.id] if opened else []
        lowering = lowering_labels(session, file.report_id)
        current_level = levels_of(session, [file.report_id]).get(file.report_id)
    fragment = templates.TemplateResponse(
        request,
        "_intake_labelled.html",
        {
            "file": file,
            "others": others,
            "reveals": reveals,
            "lowering": lowering,
            "current_level": current_level,
            "level_names": LEVELS,
            "classifications": CLASSIFICATIONS,
            "protection": protection_choice(request),
            "labelled": True,
        },
    )
    said = f"Labelled {classification}: the next copy of this file is known."
    if fall is not None:  # the person was asked about this fall and went ahead
        said += (
            f" Report {file.report_id} goes from level {level_label(fall[0])}"
            f" to level {level_label(fall[1])} as triage rescores it."
        )
    return notify(fragment, said)


@router.post("/reports/{report_id}/assign", response_class=HTMLResponse)
def assign_report(
    request: Request,
    report_id: RowId,
    *,
    action: Literal["take", "release"] = Form(...),
    principal: Triaging,
) -> Response:
    """An analyst takes a report (later linked reports then come to them) or releases it."""
    state = _enabled(request)
    with state.database.transaction(write=True) as session:
        try:
            assign(
                session,
                report_id,
                principal.id if action == "take" else None,
                actor=principal.actor,
            )
        except AssignmentRefused as exc:
            raise ApiError(404 if "no finished" in str(exc) else 422, str(exc)) from None
        handler = handler_of(session, report_id)
    fragment = templates.TemplateResponse(
        request,
        "_intake_handler.html",
        {"report_id": report_id, "handler": handler, "principal": principal},
    )
    said = {
        "take": f"You took report {report_id}: reports linked to it come to you.",
        "release": f"Released report {report_id}: nobody handles it now.",
    }
    return notify(fragment, said[action])


def _fall(session: Session, file_id: int, classification: str) -> tuple[int, int] | None:
    """(level now, level after) when this label lowers its report's level (outlook.py)."""
    file = received_file(session, file_id)
    if file is None:
        return None
    after = lowering_labels(session, file.report_id).get((file_id, classification))
    now = levels_of(session, [file.report_id]).get(file.report_id)
    return (now, after) if now is not None and after is not None else None


# --- the queue -----------------------------------------------------------------------------


def _enabled(request: Request) -> ServiceState:
    state = service_state(request)
    if not state.settings.clearinghouse.enabled:
        raise ApiError(404, "this installation is not a clearinghouse")
    return state


# --- one report ----------------------------------------------------------------------------


def _summary(document: ReceivedReport) -> dict[str, Any]:
    """What the report says, as the typed reader reads it for triage and the agencies too."""
    incident = document.incident_summary
    when = incident.incident_date_time
    return {
        "incident_type": (incident.incident_type or "")[:MAX_SHOWN_CHARS],
        "incident_time": xml_value(when) if when else "",
        "annotations": sorted(flag_names(incident.report_annotations)),
        "fields": [
            (path, text[:MAX_SHOWN_CHARS]) for path, text in islice(leaves(document), MAX_FIELDS)
        ],
    }


@dataclass(frozen=True)
class Drawing:
    """The cluster laid out on a circle, server-side: positions only, no script."""

    points: dict[int, tuple[float, float]]
    lines: list[tuple[float, float, float, float]]
    size: int = 320


def _drawing(graph: Cluster) -> Drawing | None:
    if len(graph.nodes) < 2 or len(graph.nodes) > 60:
        return None  # nothing to draw, or too many to read: the table says it all
    size, radius = 320, 130
    others = [node for node in graph.nodes if node.depth > 0]
    points = {graph.nodes[0].report_id: (size / 2, size / 2)}
    for index, node in enumerate(others):
        angle = 2 * math.pi * index / len(others)
        scale = radius if node.depth == 1 else radius * 0.6
        points[node.report_id] = (
            round(size / 2 + scale * math.cos(angle), 1),
            round(size / 2 + scale * math.sin(angle), 1),
        )
    lines = [
        (*points[edge.source], *points[edge.target])
        for edge in graph.edges
        if edge.source in points and edge.target in points
    ]
    return Drawing(points, lines, size)


# --- media ---------------------------------------------------------------------------------


def _media(state: ServiceState, session: Session, file_id: int) -> tuple[IntakeFile, bytes]:
    if state.vault is None:
        raise ApiError(503, "the evidence store is not configured (no master key)")
    file = received_file(session, file_id)
    if file is None or file.evidence_item_id is None:
        raise ApiError(404, "no such file")
    return file, state.vault.get(session, file.evidence_item_id)


def _render(state: ServiceState, file_id: int, options: RenderOptions) -> Any:
    with state.database.transaction() as session:
        file, media = _media(state, session, file_id)
        media_type, pdq = file.media_type or "photo", file.pdq
    try:
        return render_for(media, media_type, options, pdq=pdq)
    except (RenderError, ValueError):
        raise ApiError(
            422, "this file cannot be rendered; reveal it to see it", code="not_renderable"
        ) from None


def _release(state: ServiceState, file_id: int, principal: Principal) -> tuple[bytes, str, str]:
    with state.database.transaction(write=True) as session:
        file, content = _media(state, session, file_id)
        # The hand-out is audited in the transaction that reads the media.
        check = release(
            session,
            actor=principal.actor,
            subject_type=SUBJECT,
            subject_id=str(file.id),
            details={"report_id": file.report_id},
        )
        media_type = file.media_type or "photo"
    return content, media_type, check
