"""scripts/screenshots.py's seeding, without a browser: the platform's throwaway data directory
holds the demo's cases (benign corpus pictures), the demo reviewer and a person for each role
the screenshots show; the clearinghouse's receives the companies' reports through its intake,
scores them and routes one company's to the agency while the other's waits in the routing
queue; a directory seeded before is refused rather than shot stale."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select

from tests.conftest import REPO
from vigil.agency.queue import agency_queue
from vigil.clearinghouse.companies import list_companies
from vigil.cli.demo_data import DEMO_REVIEWER
from vigil.server.app import create_app
from vigil.server.loopback import serving
from vigil.store import open_database
from vigil.store.accounts import authenticate, find_user
from vigil.store.models import (
    AgencyMember,
    Case,
    IntakeFile,
    IntakeReport,
    IntakeState,
    ReportTriage,
    Role,
)
from vigil.triage.agencies import agency_by_code
from vigil.triage.routing import routing_queue


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "scripts/screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_seeding_makes_every_screen_s_data(
    tmp_path: Path, corpus_images: list[Path], cheap_argon2: None
) -> None:
    script = _script()
    seeded = script.seed(tmp_path / "data", corpus_images[0].parent)
    assert seeded.settings.database_url.startswith("sqlite:///")
    assert (tmp_path / "data" / "vigil.db").is_file()
    with open_database(seeded.settings) as database, database.transaction() as session:
        accounts = set(session.scalars(select(Case.platform_account_id)))
        assert {script.REPORTED, script.KNOWN, "acct-3001"} <= accounts
        assert authenticate(session, DEMO_REVIEWER, seeded.reviewer_password).ok
        roles = set()
        for username in script.PEOPLE:
            assert authenticate(session, username, script.PASSWORD).ok, username
            user = find_user(session, username)
            assert user is not None
            roles |= user.role_set
    assert roles == set(Role) - {Role.AGENCY}
    with pytest.raises(RuntimeError, match="seeded before"):
        script.seed(tmp_path / "data", corpus_images[0].parent)


def test_the_clearinghouse_receives_scores_and_routes_the_reports(
    tmp_path: Path, corpus_images: list[Path], cheap_argon2: None
) -> None:
    script = _script()
    settings = script.seed_clearinghouse(tmp_path / "clearinghouse")
    with serving(create_app(settings, background_jobs=False)) as base_url:
        script.receive_reports(settings, base_url, corpus_images[0].parent)
    submissions = script.submissions()
    with open_database(settings) as database, database.transaction() as session:
        reports = session.scalars(select(IntakeReport).order_by(IntakeReport.id)).all()
        assert [report.state for report in reports] == [IntakeState.FINISHED] * len(submissions)
        files = session.scalars(select(IntakeFile)).all()
        assert len(files) == sum(submission.pictures for submission in submissions)
        assert all(file.evidence_item_id for file in files)  # the pictures, sealed and kept
        levels = [session.get(ReportTriage, report.id).effective_priority for report in reports]
        assert levels[0] == 1  # the escalated enticement report, shot as the report page

        agency = agency_by_code(session, script.AGENCY)
        routed = {entry.report_id for entry in agency_queue(session, agency.id)}
        waiting = {row.referral.report_id for row in routing_queue(session)}
        companies = {company.name: company.id for company in list_companies(session)}
        by_company = {
            name: {report.id for report in reports if report.company_id == company_id}
            for name, company_id in companies.items()
        }
        assert routed == by_company[script.ROUTED_COMPANY[0]] and len(routed) == 2
        assert waiting == by_company[script.WAITING_COMPANY[0]] and len(waiting) == 1

        for username in script.CLEARINGHOUSE_PEOPLE:
            assert authenticate(session, username, script.PASSWORD).ok, username
        investigator = find_user(session, script.INVESTIGATOR)
        assert investigator is not None and investigator.role_set == {Role.AGENCY}
        assert session.get(AgencyMember, investigator.id).agency_id == agency.id
    with pytest.raises(RuntimeError, match="seeded before"):
        script.seed_clearinghouse(tmp_path / "clearinghouse")
