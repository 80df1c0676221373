"""`vigil agency` against a real database (SQLite and PostgreSQL): agencies, members, rules
and routing by hand, each audited with the shell's user; refusals in one line, exit code 2."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.api.service import add_user
from tests.triage.geo_database import SAO_PAULO, write_city_database
from tests.triage.routing_rows import capture, company_row, document, finished_report
from vigil.cli.app import app
from vigil.store import Database
from vigil.store.models import (
    Agency,
    AgencyMember,
    AuditRecord,
    Referral,
    ReferralState,
    Role,
    RoutingRule,
    User,
)
from vigil.store.models.audit import AuditAction
from vigil.triage.routing import route_pending

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str, tmp_path: Path, database: Database) -> Run:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "cli"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "COLUMNS": "200",
    }

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(app, ["agency", *args], env=env, catch_exceptions=False)
        assert "Traceback" not in result.output + result.stderr
        return result

    return invoke


def _audits(database: Database, action: AuditAction) -> list[AuditRecord]:
    with database.session() as session:
        return list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            )
        )


def test_add_list_and_disable_agencies(run: Run, database: Database) -> None:
    added = run(
        "add",
        "icac-ca",
        "--name",
        "California ICAC Task Force",
        "--kind",
        "task_force",
        "--country",
        "us",
        "--region",
        "CA",
        "--media-allowed",
    )
    assert added.exit_code == 0, added.output
    assert "added agency ICAC-CA" in added.output
    assert (
        run("add", "INTL", "--name", "International liaison", "--kind", "international").exit_code
        == 0
    )
    listed = run("list").output.splitlines()
    assert listed[0].split("\t") == [
        "ICAC-CA",
        "task_force",
        "US",
        "US-CA",
        "media",
        "enabled",
        "California ICAC Task Force",
    ]
    assert listed[1].split("\t")[:6] == ["INTL", "international", "-", "-", "no-media", "enabled"]
    assert run("disable", "intl").exit_code == 0
    assert "\tdisabled\t" in run("list").output.splitlines()[1]
    audits = _audits(database, AuditAction.AGENCY_CHANGED)
    assert [a.details["change"] for a in audits] == ["added", "added", "disabled"]
    assert {a.actor for a in audits} == {getpass.getuser()}
    assert audits[0].details["region"] == "US-CA"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "BAD CODE", "--name", "x", "--kind", "national"), "not an agency code"),
        (("add", "X1", "--name", "x", "--kind", "police"), "kind must be one of"),
        (("add", "X1", "--name", "x", "--kind", "national", "--country", "USA"), "two-letter"),
        (("add", "X1", "--name", "x", "--kind", "national", "--region", "CA"), "needs a country"),
        (
            (
                "add",
                "X1",
                "--name",
                "x",
                "--kind",
                "national",
                "--country",
                "US",
                "--region",
                "GB-ENG",
            ),
            "not a region code",
        ),
        (("add", "X1", "--name", " ", "--kind", "national"), "printable name"),
        (("disable", "NOPE"), "no agency with code"),
    ],
)
def test_bad_agency_input_is_refused_in_one_line(
    run: Run, database: Database, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr
    assert _audits(database, AuditAction.AGENCY_CHANGED) == []
    with database.session() as session:
        assert session.scalars(select(Agency)).first() is None


def test_a_duplicate_code_is_refused(run: Run) -> None:
    assert run("add", "ICAC-CA", "--name", "x", "--kind", "task_force").exit_code == 0
    again = run("add", "icac-ca", "--name", "y", "--kind", "task_force")
    assert again.exit_code == 2 and "already used" in again.stderr


def test_members_need_the_agency_role_and_work_for_one_agency(run: Run, database: Database) -> None:
    add_user(database, "investigator", [Role.AGENCY])
    add_user(database, "analyst", [Role.REVIEWER])
    run("add", "ICAC-CA", "--name", "California", "--kind", "task_force")
    run("add", "ICAC-NV", "--name", "Nevada", "--kind", "task_force")
    assert run("add-member", "investigator", "icac-ca").exit_code == 0
    second = run("add-member", "investigator", "ICAC-NV")
    assert second.exit_code == 2 and "already works for ICAC-CA" in second.stderr
    wrong_role = run("add-member", "analyst", "ICAC-CA")
    assert wrong_role.exit_code == 2 and "does not hold the agency role" in wrong_role.stderr
    assert "no user" in run("add-member", "nobody", "ICAC-CA").stderr
    with database.session() as session:
        user = session.scalars(select(User).where(User.username == "investigator")).one()
        member = session.get(AgencyMember, user.id)
        assert session.get(Agency, member.agency_id).code == "ICAC-CA"
        assert session.scalars(select(AgencyMember)).all() == [member]
    added = _audits(database, AuditAction.AGENCY_CHANGED)[-1]
    assert added.details == {
        "change": "member added",
        "username": "investigator",
        "agency": "ICAC-CA",
    }


def test_rules_are_added_listed_and_removed(run: Run, database: Database) -> None:
    run("add", "ICAC-CA", "--name", "California", "--kind", "task_force")
    run("add", "INTL", "--name", "Liaison", "--kind", "international")
    first = run(
        "add-rule",
        "--agency",
        "ICAC-CA",
        "--country",
        "US",
        "--region",
        "CA",
        "--description",
        "California",
    )
    assert first.exit_code == 0 and "position 10" in first.output
    liaison = run(
        "add-rule",
        "--agency",
        "intl",
        "--condition",
        "countries_other_than=US",
        "--condition",
        "max_priority=2",
        "--description",
        "urgent reports abroad",
    )
    assert liaison.exit_code == 0 and "position 20" in liaison.output
    early = run(
        "add-rule",
        "--agency",
        "INTL",
        "--position",
        "5",
        "--condition",
        "companies=Example Social",
        "--description",
        "Example's reports",
    )
    assert early.exit_code == 0
    rows = [line.split("\t") for line in run("list-rules").output.splitlines()]
    assert [row[1:3] for row in rows] == [["5", "INTL"], ["10", "ICAC-CA"], ["20", "INTL"]]
    assert rows[1][3:5] == ["US", "US-CA"]
    assert rows[2][5] == "countries_other_than=US max_priority=2"
    removed = run("remove-rule", rows[0][0])
    assert removed.exit_code == 0
    assert len(run("list-rules").output.splitlines()) == 2
    assert run("remove-rule", rows[0][0]).exit_code == 2
    changes = [a.details["change"] for a in _audits(database, AuditAction.AGENCY_CHANGED)]
    assert changes[-4:] == ["rule added", "rule added", "rule added", "rule removed"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--condition", "abroad=true"), "unknown condition"),
        (("--condition", "max_priority=9"), "from 1 to 4"),
        (("--condition", "countries_other_than"), "key=value"),
        (("--position", "-1"), "position"),
        (("--region", "CA"), "needs a country"),
    ],
)
def test_bad_rules_are_refused(
    run: Run, database: Database, extra: tuple[str, ...], message: str
) -> None:
    run("add", "INTL", "--name", "Liaison", "--kind", "international")
    result = run("add-rule", "--agency", "INTL", "--description", "x", *extra)
    assert result.exit_code == 2 and message in result.stderr
    with database.session() as session:
        assert session.scalars(select(RoutingRule)).first() is None
    assert "no agency" in run("add-rule", "--agency", "NOPE", "--description", "x").stderr


def test_route_by_hand_from_the_command_line(run: Run, database: Database) -> None:
    with database.transaction(write=True) as session:
        report = finished_report(session, company_row(session, "Example"), document())
        route_pending(session, None)
        report_id = report.id
    run("add", "ICAC-CA", "--name", "California", "--kind", "task_force")
    missing = run("route", str(report_id), "--agency", "ICAC-CA", "--reason", " ")
    assert missing.exit_code == 2 and "reason is required" in missing.stderr
    routed = run("route", str(report_id), "--agency", "icac-ca", "--reason", "area code 916")
    assert routed.exit_code == 0 and f"routed report {report_id} to ICAC-CA" in routed.output
    with database.session() as session:
        [referral] = session.scalars(select(Referral)).all()
        assert referral.state == ReferralState.ROUTED and referral.why == "area code 916"
        assert referral.routed_by == getpass.getuser()
    audit = _audits(database, AuditAction.ROUTING)[-1]
    assert audit.actor == getpass.getuser() and audit.details["by_hand"] is True
    assert (
        "no finished report"
        in run("route", "999999", "--agency", "ICAC-CA", "--reason", "x").stderr
    )


def test_reroute_uses_the_configured_database(
    run: Run, database: Database, tmp_path: Path, database_url: str
) -> None:
    with database.transaction(write=True) as session:
        finished_report(
            session, company_row(session, "Example"), document(reported=(capture(SAO_PAULO),))
        )
        route_pending(session, None)
    run("add", "INTL", "--name", "Liaison", "--kind", "international")
    run(
        "add-rule",
        "--agency",
        "INTL",
        "--condition",
        "countries_other_than=US",
        "--description",
        "abroad",
    )
    assert "routed 0 waiting reports" in run("reroute").output  # no database configured
    geo = write_city_database(tmp_path / "city.mmdb")
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "cli"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_TRIAGE__GEOIP_DATABASE": str(geo),
    }
    result = CliRunner().invoke(app, ["agency", "reroute"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "routed 1 waiting report" in result.output
    env["VIGIL_TRIAGE__GEOIP_DATABASE"] = str(tmp_path / "absent.mmdb")
    broken = CliRunner().invoke(app, ["agency", "reroute"], env=env, catch_exceptions=False)
    assert broken.exit_code == 2 and "no such geolocation database" in broken.stderr
