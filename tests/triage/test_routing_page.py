"""The routing queue page over HTTP: waiting reports most urgent first, then oldest, with why
and where, routing one by hand (CSRF, reason required, audited), and who may see it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.service import add_user, console_sign_in, service_settings
from tests.triage.geo_database import SAO_PAULO, write_city_database
from tests.triage.routing_rows import agency_row, capture, company_row, document, finished_report
from vigil.core.settings import Settings
from vigil.server.app import create_app
from vigil.store import Database
from vigil.store.models import AuditRecord, Referral, ReferralState, Role
from vigil.store.models.audit import AuditAction
from vigil.triage.geolocation import Geolocator
from vigil.triage.levels import LEVEL_NAMES, level_label
from vigil.triage.routing import route_pending

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return service_settings(database_url, tmp_path / "data", clearinghouse={"enabled": True})


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    add_user(database, "analyst", [Role.REVIEWER])
    add_user(database, "auditor", [Role.AUDITOR])
    add_user(database, "investigator", [Role.AGENCY])
    with TestClient(create_app(settings, background_jobs=False)) as test_client:
        yield test_client


@pytest.fixture
def waiting(database: Database, tmp_path: Path) -> dict[str, int]:
    """Two reports in the routing queue (no rule fits) and one enabled agency."""
    with (
        Geolocator.open(write_city_database(tmp_path / "city.mmdb")) as geo,
        database.transaction(write=True) as session,
    ):
        company = company_row(session, "Example")
        older = finished_report(session, company, document(reported=(capture(SAO_PAULO),)))
        route_pending(session, geo)
        newer = finished_report(session, company, document())
        route_pending(session, geo)
        agency = agency_row(session, "INTL-LIAISON")
        agency_row(session, "OLD-UNIT").disabled_at = agency.created_at
        return {"older": older.id, "newer": newer.id, "agency": agency.id}


def test_queue_lists_waiting_reports_oldest_first_with_why_and_location(
    client: TestClient, waiting: dict[str, int]
) -> None:
    console_sign_in(client)
    page = client.get("/clearinghouse/routing")
    assert page.status_code == 200
    order = [int(n) for n in re.findall(r'id="waiting-(\d+)"', page.text)]
    assert order == [waiting["older"], waiting["newer"]]
    older = page.text.split(f'id="waiting-{waiting["older"]}"')[1].split("</tr>")[0]
    assert "no rule for region BR-SP" in older and "BR-SP, São Paulo" in older
    assert "GeoIP2-City" in older
    newer = page.text.split(f'id="waiting-{waiting["newer"]}"')[1].split("</tr>")[0]
    assert "no IP address of the reported person" in newer and "not located" in newer
    assert "INTL-LIAISON" in page.text and "OLD-UNIT" not in page.text  # enabled only
    assert 'id="waiting-count">2 reports waiting' in page.text


def test_routing_by_hand_needs_csrf_and_a_reason_and_is_audited(
    client: TestClient, database: Database, waiting: dict[str, int]
) -> None:
    csrf = console_sign_in(client)
    url = f"/clearinghouse/routing/{waiting['older']}"
    form = {"agency_id": str(waiting["agency"]), "reason": "Brazilian report: liaison"}
    assert client.post(url, data=form).status_code == 403  # no CSRF token
    assert client.post(url, data=form, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post(url, data={**form, "reason": ""}, headers=csrf).status_code == 422
    blank = client.post(url, data={**form, "reason": "   "}, headers=csrf)
    assert blank.status_code == 422 and "reason is required" in blank.text

    answer = client.post(url, data=form, headers=csrf, follow_redirects=False)

    assert answer.status_code == 303 and answer.headers["location"] == "/clearinghouse/routing"
    with database.session() as session:
        referral = session.scalars(
            select(Referral).where(Referral.report_id == waiting["older"])
        ).one()
        assert referral.state == ReferralState.ROUTED
        assert (referral.agency_id, referral.routed_by, referral.why) == (
            waiting["agency"],
            "user:analyst",
            "Brazilian report: liaison",
        )
        audit = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == AuditAction.ROUTING, AuditRecord.actor == "user:analyst"
            )
        ).one()
        assert audit.details["report_id"] == waiting["older"]
    page = client.get("/clearinghouse/routing").text
    assert f'id="waiting-{waiting["older"]}"' not in page
    assert f'id="waiting-{waiting["newer"]}"' in page


HOSTILE = [
    ("0", {"agency_id": "1", "reason": "x"}),
    ("-1", {"agency_id": "1", "reason": "x"}),
    (str(2**63), {"agency_id": "1", "reason": "x"}),
    ("abc", {"agency_id": "1", "reason": "x"}),
    ("999999", {"agency_id": "1", "reason": "x"}),  # no such report
    ("{older}", {"agency_id": "999999", "reason": "x"}),  # no such agency
    ("{older}", {"agency_id": str(2**40), "reason": "x"}),
    ("{older}", {"agency_id": "x", "reason": "x"}),
    ("{older}", {"agency_id": "1"}),
    ("{older}", {"agency_id": "1", "reason": "x" * 2001}),
]


def test_hostile_input_is_refused(
    client: TestClient, database: Database, waiting: dict[str, int]
) -> None:
    csrf = console_sign_in(client)
    for report, fields in HOSTILE:
        path = f"/clearinghouse/routing/{report.format(older=waiting['older'])}"
        assert client.post(path, data=fields, headers=csrf).status_code == 422, (path, fields)
    with database.session() as session:
        assert all(r.state == ReferralState.UNROUTED for r in session.scalars(select(Referral)))


def test_only_triage_may_see_or_route(client: TestClient, waiting: dict[str, int]) -> None:
    assert client.get("/clearinghouse/routing", follow_redirects=False).status_code in (303, 401)
    for username in ("auditor", "investigator"):
        csrf = console_sign_in(client, username)
        assert client.get("/clearinghouse/routing").status_code == 403
        assert (
            client.post(
                f"/clearinghouse/routing/{waiting['older']}",
                headers=csrf,
                data={"agency_id": str(waiting["agency"]), "reason": "x"},
            ).status_code
            == 403
        )


def test_not_a_clearinghouse_means_no_page(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    add_user(database, "analyst", [Role.REVIEWER])
    app = create_app(service_settings(database_url, tmp_path / "d"), background_jobs=False)
    with TestClient(app) as plain:
        console_sign_in(plain)
        assert plain.get("/clearinghouse/routing").status_code == 404


def test_queue_puts_the_most_urgent_first_then_the_oldest(
    client: TestClient, database: Database
) -> None:
    """An old level-3 report waits behind a newer level-1 one; within a level, oldest first."""
    with database.transaction(write=True) as session:
        company = company_row(session, "Example")
        made = {}
        for name, level in (("old_refer", 3), ("urgent", 1), ("new_refer", 3), ("soon", 2)):
            made[name] = finished_report(session, company, document(), priority=level).id
            route_pending(session, None)
    console_sign_in(client)
    page = client.get("/clearinghouse/routing").text
    order = [int(n) for n in re.findall(r'id="waiting-(\d+)"', page)]
    assert order == [made["urgent"], made["soon"], made["old_refer"], made["new_refer"]]
    urgent_row = page.split(f'id="waiting-{made["urgent"]}"')[1].split("</tr>")[0]
    assert level_label(1) in urgent_row
    soon_row = page.split(f'id="waiting-{made["soon"]}"')[1].split("</tr>")[0]
    assert LEVEL_NAMES[2] in soon_row
