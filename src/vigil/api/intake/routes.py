"""The CyberTipline Reporting API's endpoints, served to reporting companies.

Authentication is HTTP basic per reporting company (checked here, not by the console's
session/API-key middleware, which skips /ispws/). Bodies are read here, bounded by IntakeGate,
and kept in memory: an upload is sealed into the encrypted vault and never touches the disk
in plaintext. Statuses: 200 with code 0 on success; 400 with the code for a refused request
(the documentation shows 400 + 4100 for a /finish validation failure); 401 + 2000 for missing
or wrong credentials; 413 for a body over the limit; 415 for a wrong content type; 404 + 1210
for an unknown endpoint; 500 + 1000 (or 1110 for an upload) when the server fails. Every
answer to /finish, a refusal too, is a <reportDoneResponse> (section 4); the others answer
with a <reportResponse>.
"""

from __future__ import annotations

import binascii
import logging
import math
from base64 import b64decode
from collections.abc import Callable
from importlib import resources
from typing import TypeVar

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.responses import Response

from vigil.api.intake.documents import (
    error_body,
    refusal_response,
    report_done_response,
    report_response,
    xml_response,
)
from vigil.clearinghouse import intake
from vigil.clearinghouse.codes import IntakeRefused, ResponseCode
from vigil.clearinghouse.companies import attached_company, authenticate_company
from vigil.fingerprint.limits import DecodersBusy
from vigil.http.intake_sign_in import Verdict
from vigil.http.state import ServiceState
from vigil.reporting.cybertipline import schema
from vigil.reporting.cybertipline.expiry import Windows
from vigil.store.evidence import HoldPolicy
from vigil.store.models.intake import ReportingCompany

log = logging.getLogger(__name__)

INTAKE_PREFIX = "/ispws"
XML_TYPES = frozenset({"text/xml", "application/xml"})
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
MAX_FORM_FIELDS = 8
# app.state attribute holding the callable finish() runs (file matching plugs in here)
INTAKE_HOOK = "intake_on_finished"
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="CyberTipline", charset="UTF-8"'}

router = APIRouter(prefix=INTAKE_PREFIX, include_in_schema=False)
T = TypeVar("T")


class _Answer(Exception):
    """Stops a request with a finished response (authentication, content type, form)."""

    def __init__(self, response: Response) -> None:
        self.response = response


# --- endpoints ------------------------------------------------------------------------------


@router.get("/status")
async def status(request: Request) -> Response:
    return await _serve(request, _status, xml=False)


@router.get("/xsd")
async def xsd(request: Request) -> Response:
    return await _serve(request, _xsd, xml=False)


@router.post("/submit")
async def submit(request: Request) -> Response:
    return await _serve(request, _submit, xml=True)


@router.post("/fileinfo")
async def fileinfo(request: Request) -> Response:
    return await _serve(request, _fileinfo, xml=True)


@router.post("/upload")
async def upload(request: Request) -> Response:
    return await _serve(request, _upload, form=True)


@router.post("/finish")
async def finish(request: Request) -> Response:
    return await _serve(request, _finish, form=True, done=True)


@router.post("/retract")
async def retract(request: Request) -> Response:
    return await _serve(request, _retract, form=True)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
async def unknown(request: Request, rest: str) -> Response:
    # GET /finish is still a request to /finish: its answer is a <reportDoneResponse>
    return xml_response(
        error_body(ResponseCode.RESOURCE_NOT_FOUND, done=rest.strip("/") == "finish"), 404
    )


# --- handlers (run in a worker thread with the body already read) ---------------------------

Handler = Callable[["_Call"], Response]


class _Call:
    def __init__(
        self,
        state: ServiceState,
        company: ReportingCompany,
        request_id: str,
        client_ip: str,
        body: bytes,
        form: FormData | None,
        on_finished: intake.FinishedHook | None,
    ) -> None:
        self.state, self.company, self.request_id = state, company, request_id
        self.client_ip, self.body, self.form = client_ip, body, form
        self.on_finished = on_finished

    @property
    def windows(self) -> Windows:
        return Windows.configured(self.state.settings.clearinghouse)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        if value is None or isinstance(value, UploadFile):
            raise IntakeRefused(ResponseCode.INVALID_REQUEST, f"the {name} field is missing")
        return value

    def transaction(self, work: Callable[[Session], T]) -> T:
        with self.state.database.transaction(write=True) as session:
            return work(session)


def _status(call: _Call) -> Response:
    description = f"Remote User : {call.company.username}, Remote Ip : {call.client_ip}"
    return xml_response(report_response(ResponseCode.SUCCESS, description))


def _xsd(_call: _Call) -> Response:
    data = resources.files(schema.__package__).joinpath(schema.SCHEMA_FILE).read_bytes()
    return Response(data, media_type="application/xml")


def _submit(call: _Call) -> Response:
    report_id = call.transaction(
        lambda session: (
            intake.open_report(
                session, _attached(session, call.company), call.body, call.request_id
            ).id
        )
    )
    return xml_response(report_response(ResponseCode.SUCCESS, report_id=report_id))


def _upload(call: _Call) -> Response:
    report_id = call.field("id")
    upload = call.form.get("file") if call.form is not None else None
    if not isinstance(upload, UploadFile):
        number = intake.parse_report_id(report_id)
        raise IntakeRefused(
            ResponseCode.MALFORMED_FILE, "the file field is missing", report_id=number
        )
    vault = call.state.vault
    if vault is None:  # never keep a reporter's file unencrypted
        log.error("clearinghouse upload refused: no evidence master key is configured")
        return xml_response(report_response(ResponseCode.UPLOAD_FAILED), 500)
    content = upload.file.read()
    policy = HoldPolicy.from_settings(call.state.settings)
    with call.state.database.session(write=True) as session:
        record = intake.add_file(
            session,
            vault,
            report_id,
            _attached(session, call.company),
            content,
            upload.filename,
            hold_policy=policy,
            windows=call.windows,
        )
        answer = report_response(
            ResponseCode.SUCCESS,
            report_id=record.report_id,
            file_id=record.public_id,
            md5=record.md5,
        )
    return xml_response(answer)


def _fileinfo(call: _Call) -> Response:
    report_id = call.transaction(
        lambda session: (
            intake.add_file_details(
                session, _attached(session, call.company), call.body, windows=call.windows
            ).report_id
        )
    )
    return xml_response(report_response(ResponseCode.SUCCESS, report_id=report_id))


def _finish(call: _Call) -> Response:
    report_id = call.field("id")
    receipt = call.transaction(
        lambda session: intake.finish(
            session,
            report_id,
            _attached(session, call.company),
            on_finished=call.on_finished,
            windows=call.windows,
        )
    )
    return xml_response(report_done_response(receipt.report_id, receipt.file_ids))


def _retract(call: _Call) -> Response:
    report_id = call.field("id")
    number = call.transaction(
        lambda session: intake.retract(
            session, report_id, _attached(session, call.company), windows=call.windows
        )
    )
    return xml_response(report_response(ResponseCode.SUCCESS, report_id=number))


def _attached(session: Session, company: ReportingCompany) -> ReportingCompany:
    return attached_company(session, company)


# --- the request pipeline -------------------------------------------------------------------


async def _serve(
    request: Request, handler: Handler, *, xml: bool = False, form: bool = False, done: bool = False
) -> Response:
    """``done``: the endpoint answers with <reportDoneResponse> (/finish), errors included."""
    state: ServiceState = request.app.state.vigil
    request_id = getattr(request.state, "request_id", "")
    body, fields = b"", None
    try:
        company = await run_in_threadpool(_authenticate, state, request, done)
        if xml:
            _require_type(request, XML_TYPES, done)
            body = await request.body()
        elif form:
            fields = await _form(request, upload=handler is _upload, done=done)
        call = _Call(
            state,
            company,
            request_id,
            request.client.host if request.client else "",
            body,
            fields,
            getattr(request.app.state, INTAKE_HOOK, None),
        )
        return await run_in_threadpool(_guarded, handler, call, done)
    except _Answer as answer:
        return answer.response
    finally:
        if fields is not None:
            await fields.close()


def _guarded(handler: Handler, call: _Call, done: bool) -> Response:
    try:
        return handler(call)
    except IntakeRefused as refused:
        return refusal_response(refused, done=done)
    except DecodersBusy as busy:
        # Every decoder of this worker is taken (decode bombs, a burst): nothing was stored,
        # the company's client retries after the pause, as it does after any 503.
        description = f"{ResponseCode.UPLOAD_FAILED.description}: busy; try again"
        return xml_response(
            error_body(ResponseCode.UPLOAD_FAILED, description, done=done),
            503,
            headers={"Retry-After": str(busy.retry_after)},
        )
    except Exception:
        # Never a traceback to the reporter; the transaction has rolled back.
        log.exception("intake request %s failed", call.request_id)
        code = ResponseCode.UPLOAD_FAILED if handler is _upload else ResponseCode.SERVER_ERROR
        return xml_response(error_body(code, done=done), 500)


def _authenticate(state: ServiceState, request: Request, done: bool = False) -> ReportingCompany:
    credentials = _basic_credentials(request.headers.get("authorization"))
    if credentials is None:
        raise _Answer(_unauthenticated(done))
    company = state.companies.get(*credentials)  # verified seconds ago: no hash, no limit
    if company is not None:
        return company
    admission = state.intake_sign_in.admit(
        *credentials, request.client.host if request.client else ""
    )
    if admission.verdict is Verdict.WAIT:
        raise _Answer(_too_many_attempts(admission.retry_after, done))
    if admission.verdict is Verdict.KNOWN_FAILURE:
        raise _Answer(_unauthenticated(done))
    try:
        company = state.companies.get_or_verify(
            *credentials,
            lambda: state.intake_sign_in.checked(admission, lambda: _verified(state, *credentials)),
        )
    finally:
        state.intake_sign_in.release(admission)
    if company is None:
        raise _Answer(_unauthenticated(done))
    return company


def _unauthenticated(done: bool) -> Response:
    return xml_response(
        error_body(ResponseCode.AUTHENTICATION_REQUIRED, done=done), 401, headers=_CHALLENGE
    )


def _too_many_attempts(retry_after: float, done: bool) -> Response:
    # The documentation has no code for a throttled client: 2000, since the request was
    # not authenticated, with the reason in words and the wait in Retry-After.
    seconds = max(1, math.ceil(retry_after))
    description = (
        f"{ResponseCode.AUTHENTICATION_REQUIRED.description}: too many failed "
        f"sign-ins; try again in {seconds} s"
    )
    return xml_response(
        error_body(ResponseCode.AUTHENTICATION_REQUIRED, description, done=done),
        429,
        headers={"Retry-After": str(seconds)},
    )


def _verified(state: ServiceState, username: str, password: str) -> ReportingCompany | None:
    with state.database.session() as session:
        company = authenticate_company(session, username, password)
        if company is not None:
            session.expunge(company)
        return company


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or len(header) > 4096:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, colon, password = (
            b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, ValueError):
        return None
    return (username, password) if colon else None


def _require_type(request: Request, accepted: frozenset[str], done: bool = False) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise _Answer(
            xml_response(
                error_body(
                    ResponseCode.INVALID_REQUEST,
                    f"Invalid request: the content type must be {' or '.join(sorted(accepted))}",
                    done=done,
                ),
                415,
            )
        )


async def _form(request: Request, *, upload: bool, done: bool) -> FormData:
    _require_type(request, FORM_TYPES, done)
    try:
        return await request.form(max_files=1 if upload else 0, max_fields=MAX_FORM_FIELDS)
    except (MultiPartException, ValueError, KeyError) as exc:
        code = ResponseCode.MALFORMED_FILE if upload else ResponseCode.INVALID_REQUEST
        raise _Answer(
            xml_response(
                error_body(code, f"{code.description}: the form cannot be read", done=done), 400
            )
        ) from exc
