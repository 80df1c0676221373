"""Accept, decline with a reason, outcomes over time: state rules and audit records, through
the domain and through the JSON API as the agency's own member."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.agency.agency_rows import two_agencies
from tests.api.service import running, service_settings, sign_in
from vigil.agency import actions, info_requests
from vigil.agency.scope import OutOfScope
from vigil.store import Database
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    InfoRequest,
    InfoRequestState,
    OutcomeKind,
    Referral,
    ReferralOutcome,
    ReferralState,
)

pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    yield from running(service_settings(database_url, tmp_path / "data"))


def _audits(database: Database, action: AuditAction) -> list[AuditRecord]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            )
        )


def test_accept_then_outcomes_over_time(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        agency_id, referral_id = world.agency_a.id, world.referrals_a[0].id
    with (
        database.transaction(write=True) as session,
        pytest.raises(actions.ActionRefused, match="accept the referral"),
    ):
        actions.record_outcome(
            session, agency_id, referral_id, OutcomeKind.ARREST, actor="user:agent-a"
        )
    with database.transaction(write=True) as session:
        accepted = actions.accept(session, agency_id, referral_id, actor="user:agent-a")
        assert accepted.state is ReferralState.ACCEPTED and accepted.acted_by == "user:agent-a"
    with (
        database.transaction(write=True) as session,
        pytest.raises(actions.ActionRefused, match="already accepted"),
    ):
        actions.accept(session, agency_id, referral_id, actor="user:agent-a")
    with database.transaction(write=True) as session:
        for kind in (
            OutcomeKind.INVESTIGATION_OPENED,
            OutcomeKind.SEARCH_WARRANT,
            OutcomeKind.ARREST,
        ):
            actions.record_outcome(
                session,
                agency_id,
                referral_id,
                kind,
                note=f"{kind.value} note",
                actor="user:agent-a",
            )
    with database.transaction() as session:
        kinds = session.scalars(
            select(ReferralOutcome.kind)
            .where(ReferralOutcome.referral_id == referral_id)
            .order_by(ReferralOutcome.id)
        ).all()
    assert kinds == [
        OutcomeKind.INVESTIGATION_OPENED,
        OutcomeKind.SEARCH_WARRANT,
        OutcomeKind.ARREST,
    ]
    [accept_record] = _audits(database, AuditAction.REFERRAL_ACTION)
    assert accept_record.actor == "user:agent-a" and accept_record.subject_id == str(referral_id)
    assert accept_record.details["action"] == "accepted"
    outcome_records = _audits(database, AuditAction.OUTCOME)
    assert [r.details["kind"] for r in outcome_records] == [k.value for k in kinds]


def test_decline_needs_a_reason_and_withdraws_open_requests(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        agency_id, referral_id = world.agency_a.id, world.referrals_a[1].id
        info_requests.ask(
            session, agency_id, referral_id, "Which IP logged in?", actor="user:agent-a", due_days=7
        )
    for reason in ("", "   \n"):
        with (
            database.transaction(write=True) as session,
            pytest.raises(actions.InvalidText, match="reason is required"),
        ):
            actions.decline(session, agency_id, referral_id, reason, actor="user:agent-a")
    with (
        database.transaction(write=True) as session,
        pytest.raises(actions.InvalidText, match="at most"),
    ):
        actions.decline(session, agency_id, referral_id, "x" * 2001, actor="user:agent-a")
    with database.transaction(write=True) as session:
        actions.decline(
            session, agency_id, referral_id, "  Not our jurisdiction ", actor="user:agent-a"
        )
    with database.transaction() as session:
        referral = session.get(Referral, referral_id)
        assert referral.state is ReferralState.DECLINED
        assert referral.decline_reason == "Not our jurisdiction"
        assert session.scalar(select(InfoRequest.state)) is InfoRequestState.WITHDRAWN
    with database.transaction(write=True) as session, pytest.raises(OutOfScope):
        actions.accept(session, agency_id, referral_id, actor="user:agent-a")  # gone
    [record] = _audits(database, AuditAction.REFERRAL_ACTION)
    assert record.details == {
        "action": "declined",
        "report_id": referral.report_id,
        "agency_id": agency_id,
        "reason": "Not our jurisdiction",
    }


def test_an_accepted_referral_cannot_be_declined(database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        agency_id, referral_id = world.agency_a.id, world.referrals_a[0].id
        actions.accept(session, agency_id, referral_id, actor="user:agent-a")
    with (
        database.transaction(write=True) as session,
        pytest.raises(actions.ActionRefused, match="cannot be declined"),
    ):
        actions.decline(session, agency_id, referral_id, "changed my mind", actor="user:agent-a")


def test_the_api_flow_as_the_agency_member(client: TestClient, database: Database) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        first, second = (r.id for r in world.referrals_a)
    csrf = sign_in(client, "agent-a")
    queue = client.get("/v1/agency/referrals").json()
    assert [item["id"] for item in queue["referrals"]] == [second, first]  # priority 1 first
    assert queue["referrals"][0]["reasons"][0]["name"] == "escalation"
    assert (
        client.post(
            f"/v1/agency/referrals/{second}/outcomes", headers=csrf, json={"kind": "arrest"}
        ).status_code
        == 409
    )
    accepted = client.post(f"/v1/agency/referrals/{second}/accept", headers=csrf)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    made = client.post(
        f"/v1/agency/referrals/{second}/outcomes",
        headers=csrf,
        json={"kind": "child_identified", "note": "safeguarded"},
    )
    assert made.status_code == 201 and made.json()["recorded_by"] == "user:agent-a"
    bad_kind = client.post(
        f"/v1/agency/referrals/{second}/outcomes", headers=csrf, json={"kind": "celebration"}
    )
    assert bad_kind.status_code == 422
    assert (
        client.post(
            f"/v1/agency/referrals/{first}/decline", headers=csrf, json={"reason": " "}
        ).status_code
        == 422
    )
    assert (
        client.post(f"/v1/agency/referrals/{first}/decline", headers=csrf, json={}).status_code
        == 422
    )
    declined = client.post(
        f"/v1/agency/referrals/{first}/decline", headers=csrf, json={"reason": "outside our area"}
    )
    assert declined.json()["state"] == "declined"
    assert [item["id"] for item in client.get("/v1/agency/referrals").json()["referrals"]] == [
        second
    ]
    assert client.get(f"/v1/agency/referrals/{first}").status_code == 404
    page = client.get(f"/v1/agency/referrals/{second}").json()
    assert [item["kind"] for item in page["outcomes"]] == ["child_identified"]
    assert page["referral"]["state"] == "accepted"
    actors = {r.actor for r in _audits(database, AuditAction.REFERRAL_ACTION)}
    assert actors == {"user:agent-a"}


def test_package_and_vics_downloads_are_audited_and_carry_no_media(
    client: TestClient, database: Database
) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        referral_id = world.referrals_a[0].id
        assert world.agency_a.media_allowed is False
    sign_in(client, "agent-a")
    package = client.get(f"/v1/agency/referrals/{referral_id}/package")
    assert package.status_code == 200, package.text
    assert package.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert "manifest.json" in names and manifest["includes_media"] is False
    assert manifest["referral_id"] == referral_id
    vics = client.get(f"/v1/agency/referrals/{referral_id}/vics")
    assert vics.status_code == 200 and isinstance(vics.json(), dict)
    exports = _audits(database, AuditAction.EXPORT)
    assert [(r.details["format"], r.details["media"], r.actor) for r in exports] == [
        ("package", False, "user:agent-a"),
        ("vics", False, "user:agent-a"),
    ]
    assert _audits(database, AuditAction.MEDIA_VIEWED) == []


def test_an_agency_user_lands_on_the_agency_queue(client: TestClient, database: Database) -> None:
    with database.transaction(write=True) as session:
        two_agencies(session)
    sign_in(client, "agent-a")
    landing = client.get("/", follow_redirects=False)
    assert landing.headers["location"] == "/agency"
    assert client.get(landing.headers["location"]).status_code == 200


def test_the_console_forms_refuse_with_the_reason_shown(
    client: TestClient, database: Database
) -> None:
    with database.transaction(write=True) as session:
        world = two_agencies(session)
        referral_id = world.referrals_a[0].id
    csrf = sign_in(client, "agent-a")
    refused = client.post(
        f"/agency/referrals/{referral_id}/decline",
        headers=csrf,
        data={"reason": "  "},
        follow_redirects=False,
    )
    assert refused.status_code == 200 and "a reason is required" in refused.text
    early = client.post(
        f"/agency/referrals/{referral_id}/outcomes",
        headers=csrf,
        data={"kind": "arrest"},
        follow_redirects=False,
    )
    assert "accept the referral before recording an outcome" in early.text
    with database.transaction() as session:
        assert session.get(Referral, referral_id).state is ReferralState.ROUTED
        assert session.scalar(select(ReferralOutcome.id)) is None
    accepted = client.post(
        f"/agency/referrals/{referral_id}/accept", headers=csrf, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/agency/referrals/{referral_id}"
    assert (
        client.post(f"/agency/referrals/{referral_id}/accept", follow_redirects=False).status_code
        == 403
    )  # no CSRF token
