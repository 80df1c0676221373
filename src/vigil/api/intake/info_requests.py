"""Requests from agencies, served to the reporting company that sent the report, beside the
intake and authenticated exactly like it (HTTP basic per company, api/intake/routes.py):
``GET /ispws/requests`` lists the company's open requests and ``POST
/ispws/requests/{id}/answer`` answers one. JSON both ways (these are not CyberTipline
endpoints); a missing or wrong credential gets the intake's own 401 document. A company only
ever reaches its own requests: another company's is "not found"."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from vigil.agency import info_requests
from vigil.agency.actions import ActionRefused, InvalidText
from vigil.api.answers.intake import CompanyInfoRequest, CompanyInfoRequests
from vigil.api.intake.routes import INTAKE_PREFIX, _Answer, _authenticate
from vigil.http.state import ServiceState
from vigil.store.models import InfoRequest, ReportingCompany

router = APIRouter(prefix=INTAKE_PREFIX, include_in_schema=False)
MAX_ANSWER_BYTES = 128 * 1024  # an answer is text: a few pages at most
MAX_ID = 2**63 - 1


@router.get("/requests", response_model=CompanyInfoRequests)
async def open_requests(request: Request) -> Response:
    state: ServiceState = request.app.state.vigil
    try:
        company = await run_in_threadpool(_authenticate, state, request)
    except _Answer as answer:
        return answer.response
    return JSONResponse(await run_in_threadpool(_list, state, company))


@router.post("/requests/{request_id}/answer", response_model=CompanyInfoRequest)
async def answer_request(request: Request, request_id: str) -> Response:
    state: ServiceState = request.app.state.vigil
    try:
        company = await run_in_threadpool(_authenticate, state, request)
    except _Answer as answer:
        return answer.response
    number = _id(request_id)
    if number is None:
        return _error(404, "not_found", "no such request")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return _error(415, "unsupported_media_type", "send application/json")
    body = await _bounded_body(request)
    if body is None:
        return _error(
            413, "payload_too_large", f"the answer must be at most {MAX_ANSWER_BYTES} bytes"
        )
    text = _answer_text(body)
    if text is None:
        return _error(400, "bad_request", 'send {"answer": "<text>"}')
    return await run_in_threadpool(_answer, state, company, number, text)


def _list(state: ServiceState, company: ReportingCompany) -> dict[str, Any]:
    with state.database.transaction() as session:
        listed = [_document(item) for item in info_requests.company_requests(session, company.id)]
        return _declared(CompanyInfoRequests, {"requests": listed})


def _answer(state: ServiceState, company: ReportingCompany, request_id: int, text: str) -> Response:
    try:
        with state.database.transaction(write=True) as session:
            item = info_requests.answer(
                session, company.id, request_id, text, actor=f"company:{company.username}"
            )
            return JSONResponse(_declared(CompanyInfoRequest, _document(item)))
    except info_requests.RequestNotFound:
        return _error(404, "not_found", "no such request")
    except InvalidText as exc:
        return _error(422, "invalid_request", str(exc))
    except ActionRefused as exc:
        return _error(409, "conflict", str(exc))


def _document(item: InfoRequest) -> dict[str, Any]:
    """What the company sees: its own report id, the question and the dates; not which
    agency asked (that is the clearinghouse's to share)."""
    return {
        "id": item.id,
        "report_id": item.report_id,
        "question": item.question,
        "state": item.state.value,
        "requested_at": item.requested_at.isoformat(),
        "due_at": item.due_at.isoformat(),
        "answer": item.answer,
        "answered_at": item.answered_at.isoformat() if item.answered_at else None,
    }


def _declared(answer: type[BaseModel], document: dict[str, Any]) -> dict[str, Any]:
    """The document as its model declares it: the same keys and values, or an error for a key
    the model does not declare (these routes answer a Response, which FastAPI does not pass
    through ``response_model``)."""
    return answer.model_validate(document).model_dump(mode="json")


def _id(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > 19:  # BIGINT range below
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None as soon as it passes the limit (the gate's limit is far larger)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer_text(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    value = document.get("answer") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
