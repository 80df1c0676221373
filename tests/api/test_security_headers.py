"""Browser-facing headers on every kind of answer (page, JSON, error, static file, the API's
/docs page) and sign-in that another site cannot start (issue 14, item 14)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.service import PASSWORD, add_key, add_user, running, service_settings
from vigil.store import Database
from vigil.store.models import Role
from vigil.web.templating import STATIC_DIR

TEMPLATES = STATIC_DIR.parent / "templates"
STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def _policy(header: str) -> dict[str, str]:
    return {
        name: value.strip()
        for name, _, value in (part.strip().partition(" ") for part in header.split(";"))
    }


def _assert_browser_headers(answer, *, strict: bool = True) -> None:  # type: ignore[no-untyped-def]
    headers = answer.headers
    policy = _policy(headers["content-security-policy"])
    if strict:
        assert {name: policy.get(name) for name in STRICT} == STRICT, answer.url
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert set(policy["img-src"].split()) == {"'self'", "data:", "blob:"}
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    denied = dict(part.strip().split("=") for part in headers["permissions-policy"].split(","))
    assert {denied[f] for f in ("camera", "microphone", "geolocation", "usb")} == {"()"}
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


@pytest.fixture
def key(database: Database) -> dict[str, str]:
    return {"Authorization": f"Bearer {add_key(database, 'reader', ['records:read'])}"}


def test_every_kind_of_answer_carries_the_headers(client: TestClient, key: dict[str, str]) -> None:
    answers = [
        client.get("/login", headers={"Accept": "text/html"}),  # a page
        client.get("/health"),  # JSON
        client.get("/v1/records", headers=key),  # JSON behind a key
        client.get("/v1/records"),  # an error (401)
        client.get("/v1/records/" + "0" * 32, headers=key),  # an error (404)
        client.get(
            "/no/such/page", headers={"Accept": "text/html"}, follow_redirects=False
        ),  # a redirect to sign in
        client.get("/static/console.js"),  # a static file
        client.get("/docs/assets/swagger-ui.css", headers=key),  # /docs' static files
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 404, 303, 200, 200]
    for answer in answers:
        _assert_browser_headers(answer)
        assert "strict-transport-security" not in answer.headers  # plain HTTP in these tests


def test_https_service_sends_strict_transport_security(database_url: str, tmp_path: Path) -> None:
    settings = service_settings(database_url, tmp_path / "data", api={"secure_cookies": True})
    for client in running(settings):
        for answer in (client.get("/health"), client.get("/v1/records")):
            assert answer.headers["strict-transport-security"] == "max-age=31536000"


def test_the_docs_page_allows_its_own_inline_script_only(
    client: TestClient, key: dict[str, str]
) -> None:
    answer = client.get("/docs", headers=key)
    assert answer.status_code == 200
    _assert_browser_headers(answer, strict=False)
    inline = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert _policy(answer.headers["content-security-policy"])["script-src"] == (
        f"'self' 'sha256-{digest}'"
    )


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_inline_script_or_style(template: Path) -> None:
    """What the console's policy would block: found here, not by a reviewer's broken page."""
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"<style|\sstyle\s*=", text), "inline style"
    assert "javascript:" not in text


# --- login CSRF ---------------------------------------------------------------------------

CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://attacker.example"},
    {"Origin": "null"},
]


@pytest.fixture
def person(database: Database) -> str:
    add_user(database, "analyst", [Role.REVIEWER])
    return "analyst"


@pytest.mark.parametrize("headers", CROSS_SITE, ids=lambda h: "-".join(h.values()))
def test_another_site_cannot_sign_a_browser_in(
    client: TestClient, person: str, headers: dict[str, str]
) -> None:
    form = client.post(
        "/login",
        data={"username": person, "password": PASSWORD},
        headers={**headers, "Accept": "text/html"},
        follow_redirects=False,
    )
    api = client.post(
        "/v1/auth/sign-in", json={"username": person, "password": PASSWORD}, headers=headers
    )
    assert (form.status_code, api.status_code) == (403, 403)
    assert api.json()["error"]["code"] == "cross_site"
    assert "vigil_session" not in client.cookies


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}, {}],
    ids=["fetch-metadata", "origin", "no-browser-headers"],
)
def test_own_pages_and_scripts_still_sign_in(
    client: TestClient, person: str, headers: dict[str, str]
) -> None:
    form = client.post(
        "/login",
        data={"username": person, "password": PASSWORD},
        headers=headers,
        follow_redirects=False,
    )
    assert form.status_code == 303 and "vigil_session" in client.cookies
    client.cookies.clear()
    api = client.post(
        "/v1/auth/sign-in", json={"username": person, "password": PASSWORD}, headers=headers
    )
    assert api.status_code == 200
