"""The sentence each state change sends back for the page's live region (issue 18, item 1),
over HTTP: routing by hand, an agency's accept/decline/outcome/question, triage overrides
and notes, taking and releasing a clearinghouse report. notices.js shows them (the browser
side is in test_notices.py): a redirect carries its sentence in the vigil_notice cookie, an
answer swapped in place in the HX-Trigger-After-Settle header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.agency.agency_rows import add_agency, add_member, add_referral, add_report, add_triage
from tests.api.service import add_user, console_sign_in, running, service_settings
from tests.clearinghouse.intake_rows import company_row
from tests.triage import triage_rows as rows
from tests.triage.geo_database import write_city_database
from tests.triage.routing_rows import agency_row, finished_report
from tests.triage.routing_rows import document as routing_document
from vigil.core.settings import Settings
from vigil.store import Database
from vigil.store.models import FileVerdict, Role
from vigil.triage.geolocation import Geolocator
from vigil.triage.routing import route_pending
from vigil.triage.service import score_pending
from vigil.triage.weights import load_weights
from vigil.web.notices import NOTICE_COOKIE, NOTICE_EVENT

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def client(database_url: str, tmp_path: Path, database: Database) -> Iterator[TestClient]:
    settings: Settings = service_settings(
        database_url, tmp_path / "data", clearinghouse={"enabled": True}
    )
    add_user(database, "analyst", [Role.REVIEWER])
    yield from running(settings)


def carried(answer: httpx.Response) -> dict[str, Any]:
    """The notice a redirect carries to the next page."""
    assert answer.status_code == 303, answer.text
    return dict(json.loads(unquote(answer.cookies[NOTICE_COOKIE])))


def swapped(answer: httpx.Response) -> dict[str, Any]:
    """The notice fired once an HTMX answer is swapped in."""
    assert answer.status_code == 200, answer.text
    return dict(json.loads(answer.headers["HX-Trigger-After-Settle"])[NOTICE_EVENT])


@pytest.fixture
def referrals(database: Database) -> dict[str, int]:
    with database.transaction(write=True) as session:
        agency = add_agency(session, "ICAC-A")
        add_member(session, "investigator", agency)
        company = company_row(session, "Platform")
        made = {}
        for name in ("kept", "declined"):
            report = add_report(session, company)
            add_triage(session, report, 2, 50.0)
            made[name] = add_referral(session, report, agency).id
        return made


def test_an_agencys_acts_are_confirmed(client: TestClient, referrals: dict[str, int]) -> None:
    csrf = console_sign_in(client, "investigator")
    kept, declined = referrals["kept"], referrals["declined"]
    answer = client.post(f"/agency/referrals/{kept}/accept", headers=csrf, follow_redirects=False)
    assert carried(answer) == {
        "text": f"Referral {kept} accepted: it is your agency's case now.",
        "kind": "ok",
    }
    answer = client.post(
        f"/agency/referrals/{kept}/outcomes",
        headers=csrf,
        data={"kind": "arrest", "note": ""},
        follow_redirects=False,
    )
    assert carried(answer)["text"] == "Outcome recorded: arrest."
    answer = client.post(
        f"/agency/referrals/{kept}/info-requests",
        headers=csrf,
        data={"question": "Which account uploaded it first?", "due_days": "5"},
        follow_redirects=False,
    )
    assert carried(answer)["text"] == "Question sent to the reporting company, due in 5 days."
    answer = client.post(
        f"/agency/referrals/{declined}/decline",
        headers=csrf,
        data={"reason": "not our area"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/agency"
    assert carried(answer)["text"].startswith(f"Referral {declined} declined")


def test_a_refused_agency_act_claims_no_success(
    client: TestClient, referrals: dict[str, int]
) -> None:
    csrf = console_sign_in(client, "investigator")
    answer = client.post(
        f"/agency/referrals/{referrals['kept']}/decline",
        headers=csrf,
        data={"reason": ""},  # a reason is required
        follow_redirects=False,
    )
    assert NOTICE_COOKIE not in answer.cookies
    assert answer.status_code == 200 and 'role="alert"' in answer.text


@pytest.fixture
def scored(database: Database) -> int:
    with database.transaction(write=True) as session:
        owner = rows.company(session, "Example Platform")
        report = rows.report(session, owner, files=[(FileVerdict.NEW, "A1", [])])
        score_pending(session, load_weights())
        return report.id


def test_triage_changes_are_confirmed(client: TestClient, scored: int) -> None:
    csrf = console_sign_in(client)
    base = f"/clearinghouse/reports/{scored}/triage"
    answer = client.post(
        f"{base}/override", headers=csrf, data={"priority": "2", "reason": "seen before"}
    )
    assert swapped(answer) == {"text": "Priority overridden.", "kind": "ok"}
    assert "Priority overridden." not in answer.text  # said once, in the live region
    answer = client.post(f"{base}/override/clear", headers=csrf)
    assert swapped(answer)["text"] == "Back to the computed priority."
    answer = client.post(f"{base}/notes", headers=csrf, data={"text": "asked the platform"})
    assert swapped(answer)["text"].startswith("Note added")


def test_taking_and_releasing_a_report_are_confirmed(client: TestClient, scored: int) -> None:
    csrf = console_sign_in(client)
    url = f"/clearinghouse/reports/{scored}/assign"
    answer = client.post(url, headers=csrf, data={"action": "take"})
    assert swapped(answer)["text"] == (
        f"You took report {scored}: reports linked to it come to you."
    )
    answer = client.post(url, headers=csrf, data={"action": "release"})
    assert swapped(answer)["text"] == f"Released report {scored}: nobody handles it now."
    refused = client.post(url, headers=csrf, data={"action": "steal"})
    assert refused.status_code == 422 and "HX-Trigger-After-Settle" not in refused.headers


def test_a_notice_cannot_carry_markup_or_run_long(client: TestClient, scored: int) -> None:
    """The sentence is data for textContent; a hostile note is not echoed into it."""
    csrf = console_sign_in(client)
    answer = client.post(
        f"/clearinghouse/reports/{scored}/triage/notes",
        headers=csrf,
        data={"text": "<img src=x onerror=alert(1)>"},
    )
    notice = swapped(answer)
    assert "<img" not in notice["text"] and len(notice["text"]) <= 500


@pytest.fixture
def unrouted(database: Database, tmp_path: Path) -> tuple[int, int]:
    """A report no rule could route, and one enabled agency."""
    with (
        Geolocator.open(write_city_database(tmp_path / "city.mmdb")) as geo,
        database.transaction(write=True) as session,
    ):
        report = finished_report(session, company_row(session, "Example"), routing_document())
        route_pending(session, geo)
        return report.id, agency_row(session, "INTL-LIAISON").id


def test_routing_by_hand_is_confirmed(client: TestClient, unrouted: tuple[int, int]) -> None:
    report_id, agency_id = unrouted
    csrf = console_sign_in(client)
    answer = client.post(
        f"/clearinghouse/routing/{report_id}",
        headers=csrf,
        data={"agency_id": str(agency_id), "reason": "the victim lives there"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/clearinghouse/routing"
    assert carried(answer) == {
        "text": f"Report {report_id} routed to INTL-LIAISON: INTL-LIAISON unit.",
        "kind": "ok",
    }
    again = client.post(
        f"/clearinghouse/routing/{report_id}",
        headers=csrf,
        data={"agency_id": str(agency_id), "reason": "again"},
        follow_redirects=False,
    )
    assert again.status_code == 422 and NOTICE_COOKIE not in again.cookies
