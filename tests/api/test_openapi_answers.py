"""The OpenAPI document describes every JSON answer: each operation's success answer in
application/json names a model with its fields (a client can be generated from it), and the
answers the routes actually send validate against the schema published for them.

The document is fetched as a client would, from the real application behind authentication.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs  # what schemathesis validates with (a test dependency through it)
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.agency.agency_rows import two_agencies
from tests.api.scan_job_rows import make_jobs
from tests.api.service import add_key, add_user, running, sign_in
from tests.screening.listed import fingerprint, make_list
from vigil.agency.queue import referral_page
from vigil.agency.scope import referral_for_agency
from vigil.agency.vics import vics_export
from vigil.api.answers.screening import ScreeningOutcome as ScreeningAnswer
from vigil.api.intake.info_requests import router as info_requests_router
from vigil.api.routes.agency import page_document
from vigil.core.settings import Settings
from vigil.index.video_match import Segment
from vigil.screening.classifiers.base import ClassifierResult
from vigil.screening.matcher import ListMatch
from vigil.screening.service import ScreeningOutcome
from vigil.store import Database
from vigil.store.models import Role, Verdict
from vigil.store.models.agencies import Agency

JSON = "application/json"
# Operations whose success answer may stay undescribed, each with its reason. Empty: every
# JSON answer has a model. Files, HTML, XML and streams are not JSON and need no entry
# (their routes declare their own media types); routes left out of the document
# (/openapi.json itself, /docs, /metrics, the CyberTipline-compatible intake under /ispws)
# are not operations of it.
UNDESCRIBED: dict[str, str] = {}


@pytest.fixture
def service(
    settings: Settings, database: Database, corpus_images: list[Path], tmp_path: Path
) -> Iterator[TestClient]:
    """The application with one list holding the first corpus image, and a person holding
    every role but an agency's, signed in."""
    make_list(database, "known", [("pdq", fingerprint(corpus_images[0]).pdq, "e-1")], tmp_path)
    add_user(database, "everyone", [role for role in Role if role is not Role.AGENCY])
    for client in running(settings):
        client.headers.update(sign_in(client, "everyone"))
        yield client


@pytest.fixture
def platform(database: Database) -> dict[str, str]:
    token = add_key(database, "platform", ["screen", "flag", "records:read", "lists:read"])
    return {"Authorization": f"Bearer {token}"}


def _document(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", path, operation


def _json_successes(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for status, answer in operation["responses"].items():
        if status.startswith("2") and JSON in answer.get("content", {}):
            yield status, answer["content"][JSON]


def _described(schema: dict[str, Any] | None, document: dict[str, Any]) -> bool:
    """A named model with declared fields: not missing, not ``{}``, not a bare object."""
    reference = (schema or {}).get("$ref", "")
    prefix = "#/components/schemas/"
    if not reference.startswith(prefix):
        return False
    model = document["components"]["schemas"][reference.removeprefix(prefix)]
    return bool(model.get("properties"))


def _schema_errors(document: dict[str, Any], operation: str, status: int, body: Any) -> list[str]:
    method, path = operation.split(" ", 1)
    content = document["paths"][path][method.lower()]["responses"][str(status)]["content"]
    schema = {**content[JSON]["schema"], "components": document["components"]}
    validator = jsonschema_rs.Draft202012Validator(schema)
    return [f"{error.instance_path}: {error.message}" for error in validator.iter_errors(body)]


def _answer(client: TestClient, document: dict[str, Any], operation: str, path: str, **kw: Any):
    """Calls the operation at ``path``; asserts its answer validates against its schema."""
    method = operation.split(" ", 1)[0]
    answer = client.request(method, path, **kw)
    assert answer.status_code < 300, answer.text
    errors = _schema_errors(document, operation, answer.status_code, answer.json())
    assert not errors, f"{operation}: {errors}"
    return answer.json()


def test_every_json_answer_has_a_schema(service: TestClient) -> None:
    document = _document(service)
    missing = [
        f"{label} {status}"
        for label, _, operation in _operations(document)
        for status, content in _json_successes(operation)
        if label not in UNDESCRIBED and not _described(content.get("schema"), document)
    ]
    assert len(list(_operations(document))) > 30  # the whole API, not an empty document
    assert not missing, "JSON answers without a response_model:\n" + "\n".join(missing)


def test_the_check_tells_an_untyped_answer_from_a_model(service: TestClient) -> None:
    """What an untyped dict and an undeclared file route used to publish is refused."""
    document = _document(service)
    assert not _described({}, document)
    assert not _described({"type": "object", "additionalProperties": True}, document)
    assert not _described(None, document)
    assert _described({"$ref": "#/components/schemas/MatchRecord"}, document)


def test_a_schema_refuses_a_field_the_model_does_not_declare(service: TestClient) -> None:
    document = _document(service)
    body = {"kind": "user", "name": "everyone", "permissions": [], "extra": 1}
    assert _schema_errors(document, "GET /v1/auth/me", 200, body)
    del body["extra"]
    assert not _schema_errors(document, "GET /v1/auth/me", 200, body)


def test_answers_validate_against_their_published_schemas(
    service: TestClient, platform: dict[str, str], corpus_images: list[Path]
) -> None:
    document = _document(service)
    _answer(service, document, "GET /health", "/health")
    _answer(service, document, "GET /health/ready", "/health/ready")
    _answer(service, document, "GET /v1/auth/me", "/v1/auth/me")
    upload = {"file": ("upload.jpg", corpus_images[0].read_bytes(), "image/jpeg")}
    context = '{"ip_address": "192.0.2.7", "visibility": "private"}'
    screened = _answer(
        service,
        document,
        "POST /v1/screen",
        "/v1/screen",
        headers=platform,
        data={"content_id": "post-1", "account_id": "a-1", "context": context},
        files=upload,
    )
    assert screened["verdict"] == "match" and screened["matches"]
    record_id = screened["record_id"]
    record = _answer(service, document, "GET /v1/records/{record_id}", f"/v1/records/{record_id}")
    assert record["hits"] and record["context"]["ip_address"] == "192.0.2.7"
    _answer(service, document, "GET /v1/records", "/v1/records")
    _answer(service, document, "GET /v1/lists", "/v1/lists", headers=platform)
    _answer(service, document, "GET /v1/audit", "/v1/audit")
    verified = _answer(service, document, "GET /v1/audit/verify", "/v1/audit/verify")
    assert verified["intact"] is True and verified["first_break"] is None


def test_the_screening_model_changes_no_byte_of_an_outcome() -> None:
    """Whole numbers stay whole, a classifier result without details has no "details", nulls
    stay null: the answer through the model is the answer without it, byte for byte."""
    fingerprint = {
        **dict.fromkeys(["media_type", "size", "md5", "sha1", "sha256", "pdq"]),
        **{"pdq_quality": 100, "frame_count": 2, "partial": False, "partial_reason": None},
    }
    segment = Segment(query_start=0.0, query_end=1, listed_start=2.5, listed_end=3, frames=4)
    match = ListMatch("known", 1, None, "video_pdq", 3, None, None, (segment,))
    outcome = ScreeningOutcome(
        record_id=None,
        verdict=Verdict.REVIEW,
        reasons=("classifier",),
        fingerprint=fingerprint,
        matches=(match,),
        classifier=(
            ClassifierResult("plain", 1, ("x",), 1),
            ClassifierResult("detailed", 0.5, (), 0.25, {"model": 3}),
        ),
        classifier_errors=({"name": "down", "error": "timed out"},),
    )
    app = FastAPI()
    typed = app.get("/typed", response_model=ScreeningAnswer, response_model_exclude_unset=True)
    typed(outcome.to_dict)
    app.get("/untyped")(outcome.to_dict)
    with TestClient(app) as client:
        assert client.get("/typed").content == client.get("/untyped").content


def test_an_agency_answers_as_before_and_as_published(
    client: TestClient, database: Database
) -> None:
    """The referral page and the VICS export through their models are what the routes'
    documents hold, key for key and in order, and validate against the document."""
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        referral_id = world.referrals_a[0].id
    sign_in(client, "agent-a")
    document = _document(client)
    _answer(client, document, "GET /v1/agency/referrals", "/v1/agency/referrals")
    _answer(client, document, "GET /v1/agency/info-requests", "/v1/agency/info-requests")
    page = _answer(
        client,
        document,
        "GET /v1/agency/referrals/{referral_id}",
        f"/v1/agency/referrals/{referral_id}",
    )
    vics = _answer(
        client,
        document,
        "GET /v1/agency/referrals/{referral_id}/vics",
        f"/v1/agency/referrals/{referral_id}/vics",
    )
    with database.transaction() as session:
        agency = session.get(Agency, world.agency_a.id)
        assert agency is not None
        found = referral_for_agency(session, agency.id, referral_id)
        expected_page = page_document(referral_page(session, agency, found))
        expected_vics = vics_export(session, referral_id)
    assert page["triage"] is not None and page["files"]
    assert json.dumps(page) == json.dumps(expected_page)
    assert json.dumps(vics) == json.dumps(expected_vics)


def test_administration_and_webhook_answers_validate(service: TestClient) -> None:
    """A first password is sent only when it was generated, never null; keys and endpoints
    carry their secret in the answer that created them."""
    document = _document(service)
    new_users = "POST /v1/admin/users"
    generated = _answer(
        service,
        document,
        new_users,
        "/v1/admin/users",
        json={"username": "generated", "roles": ["reviewer"]},
    )
    chosen = {"username": "chosen", "roles": ["reviewer"], "password": "a long enough password 1"}
    given = _answer(service, document, new_users, "/v1/admin/users", json=chosen)
    assert generated["initial_password"] and "initial_password" not in given
    assert "pending_roles" in given
    changed = _answer(
        service,
        document,
        "PATCH /v1/admin/users/{username}",
        "/v1/admin/users/chosen",
        json={"roles": ["auditor"]},
    )
    assert changed["pending_grant"] is None and changed["roles"] == ["auditor"]
    enabled = _answer(
        service,
        document,
        "POST /v1/admin/users/{username}/enable",
        "/v1/admin/users/chosen/enable",
    )
    assert enabled["enabled"] is False  # it was not disabled
    reset = "POST /v1/admin/users/{username}/password"
    made_up = _answer(service, document, reset, "/v1/admin/users/chosen/password")
    picked = {"password": "another long password 2"}
    kept = _answer(service, document, reset, "/v1/admin/users/chosen/password", json=picked)
    assert made_up["one_time_password"] and "one_time_password" not in kept
    _answer(service, document, "GET /v1/admin/users", "/v1/admin/users")
    key = _answer(
        service,
        document,
        "POST /v1/admin/api-keys",
        "/v1/admin/api-keys",
        json={"name": "reader", "scopes": ["records:read"]},
    )
    assert key["token"] and key["pending_grant"] is None
    _answer(service, document, "GET /v1/admin/api-keys", "/v1/admin/api-keys")
    _answer(service, document, "GET /v1/admin/grants", "/v1/admin/grants")
    endpoint = _answer(
        service,
        document,
        "POST /v1/webhooks",
        "/v1/webhooks",
        json={"url": "https://8.8.8.8/hooks", "events": ["verdict"]},
    )
    assert endpoint["secret"]
    _answer(service, document, "GET /v1/webhooks", "/v1/webhooks")
    deliveries = f"/v1/webhooks/{endpoint['id']}/deliveries"
    _answer(service, document, "GET /v1/webhooks/{endpoint_id}/deliveries", deliveries)
    stopped = _answer(
        service, document, "DELETE /v1/webhooks/{endpoint_id}", f"/v1/webhooks/{endpoint['id']}"
    )
    assert stopped["enabled"] is False


def test_scan_job_answers_validate(service: TestClient, database: Database) -> None:
    """A job whose process died, an interrupted one, a completed one with matches, and a
    cancel: each answer as published (issue 17)."""
    jobs = make_jobs(database)
    document = _document(service)
    base = "/v1/admin/scan-jobs"
    listed = _answer(service, document, f"GET {base}", base)
    assert [job["id"] for job in listed["jobs"]] == [jobs.completed, jobs.interrupted, jobs.running]
    for job_id in (jobs.running, jobs.interrupted, jobs.completed):
        _answer(service, document, f"GET {base}/{{job_id}}", f"{base}/{job_id}")
    cancelled = _answer(
        service, document, f"POST {base}/{{job_id}}/cancel", f"{base}/{jobs.running}/cancel"
    )
    assert cancelled["status"] == "cancelled"


def test_the_intakes_json_routes_declare_their_answers() -> None:
    """Outside the console's document, but typed: a company's requests and its answer."""
    routes = [route for route in info_requests_router.routes if isinstance(route, APIRoute)]
    assert routes and all(route.response_model is not None for route in routes)
