"""The first hour of a new installation over HTTP: the first administrator's one-time password
leads to the change-password page, every role lands on a page that works, a refused page
request gets a page (the API keeps its JSON), and /docs needs no CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.agency.agency_rows import add_agency, add_member
from tests.api.service import PASSWORD, add_user, console_sign_in, running, service_settings
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.accounts import authenticate, bootstrap_admin, find_user
from vigil.store.models import AuditAction, AuditRecord, Role

HTML = {"Accept": "text/html,application/xhtml+xml"}
NEW_PASSWORD = "a quiet meadow at dawn"


@pytest.fixture(autouse=True)
def _cheap_passwords(cheap_argon2: None) -> None:
    """Sign-ins in every test: argon2 at minimal cost (see tests/conftest.py)."""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data")


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    yield from running(settings)


@pytest.fixture
def one_time(database: Database) -> str:
    """The first administrator, as `vigil serve` creates it on a first run."""
    with database.transaction(write=True) as session:
        password = bootstrap_admin(session)
    assert password is not None
    return password


def _sign_in_admin(client: TestClient, password: str) -> dict[str, str]:
    client.cookies.clear()
    answer = client.post(
        "/login", data={"username": "admin", "password": password}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/password"
    return {"X-CSRF-Token": client.cookies["vigil_csrf"]}


def _change(
    client: TestClient, csrf: dict[str, str], current: str, new: str, repeat: str | None = None
) -> object:
    return client.post(
        "/account/password",
        headers=csrf,
        follow_redirects=False,
        data={
            "current_password": current,
            "new_password": new,
            "repeat_password": new if repeat is None else repeat,
        },
    )


def _password_changes(database: Database) -> list[str]:
    """Who changed a password, by the audit log."""
    with database.transaction() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.USER_CHANGED)
        ).all()
        return [row.actor for row in rows if row.details.get("change") == "password"]


# --- the first sign-in ---------------------------------------------------------------------


def test_a_one_time_password_leads_to_the_change_page(
    client: TestClient, one_time: str, database: Database
) -> None:
    _sign_in_admin(client, one_time)
    for page in ("/", "/home", "/review/exposure", "/stats"):
        answer = client.get(page, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303, page
        assert answer.headers["location"] == "/account/password", page
    form = client.get("/account/password", headers=HTML)
    assert form.status_code == 200
    assert 'name="new_password"' in form.text and "one-time password" in form.text
    # Scripts are told what to do, not which permission is missing.
    api = client.get("/v1/audit")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "password_change_required"
    assert _password_changes(database) == []


def test_changing_it_lands_on_the_administrators_page(
    client: TestClient, one_time: str, database: Database
) -> None:
    csrf = _sign_in_admin(client, one_time)
    old_session = client.cookies["vigil_session"]
    answer = _change(client, csrf, one_time, NEW_PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert client.cookies["vigil_session"] != old_session  # a fresh session, new tokens
    home = client.get("/", headers=HTML)
    assert home.status_code == 200 and str(home.url).endswith("/home")
    assert '<a href="/review/exposure">' in home.text and "/v1/admin/users" in home.text
    assert client.get("/review/exposure", headers=HTML).status_code == 200
    assert _password_changes(database) == ["user:admin"]
    with database.transaction(write=True) as session:
        assert authenticate(session, "admin", NEW_PASSWORD).ok
        assert not authenticate(session, "admin", one_time).ok
    # The session the one-time password opened is over.
    client.cookies.set("vigil_session", old_session)
    assert client.get("/v1/auth/me").status_code == 401


def test_the_htmx_form_is_sent_on_with_hx_redirect(client: TestClient, one_time: str) -> None:
    csrf = _sign_in_admin(client, one_time)
    answer = client.post(
        "/account/password",
        headers={**csrf, "HX-Request": "true"},
        follow_redirects=False,
        data={
            "current_password": one_time,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert answer.status_code == 204 and answer.headers["HX-Redirect"] == "/"


@pytest.mark.parametrize(
    ("current", "new", "repeat", "status", "says"),
    [
        ("wrong password!!", NEW_PASSWORD, None, 403, "current password is wrong"),
        (None, NEW_PASSWORD, "a quiet meadow at dusk", 422, "not the same"),
        (None, "short", None, 422, "at least 12 characters"),
        (None, "my name is admin, hello", None, 422, "must not contain the username"),
        (None, None, None, 422, "must differ"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(
    client: TestClient,
    one_time: str,
    database: Database,
    current: str | None,
    new: str | None,
    repeat: str | None,
    status: int,
    says: str,
) -> None:
    csrf = _sign_in_admin(client, one_time)
    answer = _change(client, csrf, current or one_time, new or one_time, repeat)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert says in answer.text and 'name="new_password"' in answer.text
    assert _password_changes(database) == []
    with database.transaction() as session:
        user = find_user(session, "admin")
        assert user is not None and user.must_change_password


def test_the_change_needs_the_csrf_token(
    client: TestClient, one_time: str, database: Database
) -> None:
    _sign_in_admin(client, one_time)
    answer = _change(client, {}, one_time, NEW_PASSWORD)
    assert answer.status_code == 403
    assert _password_changes(database) == []


@pytest.mark.parametrize("field", ["current_password", "new_password", "repeat_password"])
def test_hostile_form_input_is_refused(
    client: TestClient, one_time: str, database: Database, field: str
) -> None:
    csrf = _sign_in_admin(client, one_time)
    data = {
        "current_password": one_time,
        "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD,
        field: "x" * 5000,
    }
    answer = client.post("/account/password", headers=csrf, data=data, follow_redirects=False)
    assert answer.status_code == 422
    assert _password_changes(database) == []


def test_api_keys_have_no_password_page(client: TestClient, database: Database) -> None:
    from tests.api.service import add_key

    token = add_key(database, "platform", ["screen"])
    answer = client.get("/account/password", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403


def test_the_api_change_still_works_and_is_audited_alike(
    client: TestClient, one_time: str, database: Database
) -> None:
    from tests.api.service import sign_in

    csrf = sign_in(client, "admin", one_time)
    answer = client.post(
        "/v1/auth/password",
        headers=csrf,
        json={"current_password": one_time, "new_password": "admin"},
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "weak_password"
    answer = client.post(
        "/v1/auth/password",
        headers=csrf,
        json={"current_password": "not it", "new_password": NEW_PASSWORD},
    )
    assert answer.status_code == 403
    answer = client.post(
        "/v1/auth/password",
        headers=csrf,
        json={"current_password": one_time, "new_password": NEW_PASSWORD},
    )
    assert answer.status_code == 200
    assert _password_changes(database) == ["user:admin"]


# --- a landing page for every role ---------------------------------------------------------

LANDINGS = {
    Role.ADMIN: ("/home", ["/review/exposure", "/stats", "/legal"]),
    Role.LIST_CURATOR: ("/home", ["/lists/suspects", "GET /v1/lists", "vigil lists"]),
    Role.REVIEWER: ("/review", ["Review queue"]),
    Role.REPORT_SUBMITTER: ("/reports", ["Reports"]),
    Role.AUDITOR: ("/home", ["/stats", "GET /v1/audit"]),
    Role.AGENCY: ("/agency", ["Agency queue"]),
}


def test_every_role_is_in_the_table() -> None:
    assert set(LANDINGS) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_lands_on_a_page_that_works(
    client: TestClient, database: Database, role: Role
) -> None:
    if role is Role.AGENCY:
        with database.transaction(write=True) as session:
            add_member(session, "person", add_agency(session, "ICAC-T"))
    else:
        add_user(database, "person", [role])
    console_sign_in(client, "person")
    landing, shows = LANDINGS[role]
    answer = client.get("/", headers=HTML)
    assert answer.status_code == 200, answer.text
    assert str(answer.url).endswith(landing)
    assert answer.headers["content-type"].startswith("text/html")
    start = client.get("/home", headers=HTML)
    assert start.status_code == 200
    for text in shows:
        assert text in answer.text + start.text, text
    # Every console link on the start page opens for this person.
    for link in re.findall(r'<a href="(/[^"#?]*)"', start.text):
        assert client.get(link, headers=HTML).status_code == 200, link


def test_the_start_page_offers_only_what_the_role_may_do(
    client: TestClient, database: Database
) -> None:
    add_user(database, "otto", [Role.AUDITOR])
    console_sign_in(client, "otto")
    answer = client.get("/home", headers=HTML)
    assert answer.status_code == 200 and '<a href="/stats">' in answer.text
    start = answer.text
    assert "/review/exposure" not in start and "/v1/admin/users" not in start
    assert 'href="/review"' not in start


# --- refusals a person can read --------------------------------------------------------------


def test_a_refused_page_is_a_page_with_a_way_on(client: TestClient, database: Database) -> None:
    add_user(database, "rita", [Role.REVIEWER])
    console_sign_in(client, "rita")
    answer = client.get("/review/exposure", headers=HTML)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert '<a href="/">' in answer.text and "users:manage" in answer.text
    # The same refusal to a script, and any refusal under /v1, stays JSON.
    assert client.get("/review/exposure").json()["error"]["code"] == "forbidden"
    api = client.get("/v1/admin/users", headers=HTML)
    assert api.status_code == 403 and api.json()["error"]["code"] == "forbidden"


def test_an_htmx_refusal_stays_out_of_the_page(client: TestClient, database: Database) -> None:
    """A fragment request gets no page to swap into the middle of the screen."""
    add_user(database, "rita", [Role.REVIEWER])
    csrf = console_sign_in(client, "rita")
    answer = client.post(
        "/review/requests/999999",
        headers={**csrf, "HX-Request": "true"},
        data={"verdict": "approve"},
    )
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_an_unknown_page_is_a_page(client: TestClient, database: Database) -> None:
    add_user(database, "rita", [Role.REVIEWER])
    console_sign_in(client, "rita")
    answer = client.get("/no/such/page", headers=HTML)
    assert answer.status_code == 404
    assert "There is no page at this address." in answer.text
    assert client.get("/v1/no/such/thing", headers=HTML).json()["error"]["code"] == "not_found"


def test_strangers_are_sent_to_sign_in_also_from_docs_and_htmx(client: TestClient) -> None:
    client.cookies.clear()
    answer = client.get("/docs", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/docs"
    assert client.get("/docs", follow_redirects=False).status_code == 401  # a script
    htmx = client.post("/review/requests/1", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"] == "/login?next=/review/requests/1"


# --- API documentation from the package ----------------------------------------------------


def test_docs_load_nothing_from_elsewhere(client: TestClient, database: Database) -> None:
    add_user(database, "otto", [Role.AUDITOR])
    console_sign_in(client, "otto")
    page = client.get("/docs", headers=HTML)
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/docs/assets/") for source in sources)
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 1000, source
    assert "SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").text


def test_docs_assets_are_behind_sign_in(client: TestClient, database: Database) -> None:
    client.cookies.clear()
    assert client.get("/docs/assets/swagger-ui-bundle.js", follow_redirects=False).status_code in (
        303,
        401,
    )
    add_user(database, "otto", [Role.AUDITOR])
    console_sign_in(client, "otto")
    escape = client.get(
        "/docs/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", follow_redirects=False
    )
    assert escape.status_code == 404 and "root:" not in escape.text


def test_docs_off_means_no_assets(database_url: str, tmp_path: Path, database: Database) -> None:
    settings = service_settings(database_url, tmp_path / "data", api={"docs": False})
    add_user(database, "otto", [Role.AUDITOR])
    for client in running(settings):
        console_sign_in(client, "otto")
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 404
        assert PASSWORD  # the sign-in above used it
