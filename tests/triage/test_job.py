"""The triage job: finished reports scored (weights applied once, audited), referrals routed
by rules with the operator's geolocation database, one round at a time. Both backends."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from tests.clearinghouse.intake_rows import add_report
from tests.triage.geo_database import SACRAMENTO, write_city_database
from tests.triage.routing_rows import agency_row, capture, company_row, document, rule_row
from vigil.clearinghouse.entities import link_report
from vigil.core.settings import TriageSettings
from vigil.reporting.cybertipline.received import as_dict
from vigil.store import Database
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    Disposition,
    Referral,
    ReferralState,
    ReportTriage,
    TriageWeightSet,
)
from vigil.triage.job import Round, TriageJob


def _finished(database: Database, raw_xml: bytes) -> int:
    with database.transaction(write=True) as session:
        report = add_report(session, company_row(session, "Alpha"), raw_xml)
        report.parsed = as_dict(etree.fromstring(raw_xml))  # as the intake stores it
        link_report(session, report)
        return report.id


def _weights_audits(database: Database) -> int:
    with database.session() as session:
        return len(
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == AuditAction.TRIAGE_WEIGHTS)
            ).all()
        )


def test_a_round_scores_applies_weights_once_and_routes(database: Database, tmp_path: Path) -> None:
    geo = write_city_database(tmp_path / "city.mmdb")
    with database.transaction(write=True) as session:
        rule_row(session, agency_row(session, "ICAC-CA", country="US"), 1, region="US-CA")
    escalated = document(reported=(capture(SACRAMENTO),)).replace(
        b"</incidentSummary>",
        b"<escalateToHighPriority>child in danger now</escalateToHighPriority></incidentSummary>",
    )
    report_id = _finished(database, escalated)
    job = TriageJob(database, TriageSettings(geoip_database=geo))
    job.run_once()
    with database.session() as session:
        triage = session.get(ReportTriage, report_id)
        assert triage is not None and triage.computations == 1 and triage.reasons
        referrals = session.scalars(select(Referral).where(Referral.report_id == report_id)).all()
        weights = session.scalars(select(TriageWeightSet)).all()
    assert [w.version for w in weights] == [job.weights.version]
    assert triage.disposition is Disposition.REFERRAL
    [referral] = referrals
    assert referral.state is ReferralState.ROUTED and "ICAC-CA" in referral.why
    assert job.run_once() == Round(0, 0)  # nothing new: nothing scored or routed
    assert _weights_audits(database) == 1
    TriageJob(database, TriageSettings()).run_once()  # another worker, same weights
    assert _weights_audits(database) == 1


def test_stale_reports_are_scored_again(database: Database) -> None:
    report_id = _finished(database, document())
    job = TriageJob(database, TriageSettings())
    job.run_once()
    with database.transaction(write=True) as session:
        session.get(ReportTriage, report_id).stale = True
    assert job.run_once().scored == 1
    with database.session() as session:
        row = session.get(ReportTriage, report_id)
        assert (row.computations, row.stale) == (2, False)


def test_a_bad_geolocation_file_does_not_stop_scoring(database: Database, tmp_path: Path) -> None:
    bogus = tmp_path / "not.mmdb"
    bogus.write_bytes(b"not a database" * 100)
    report_id = _finished(database, document(reported=(capture(SACRAMENTO),)))
    job = TriageJob(database, TriageSettings(geoip_database=bogus))
    assert job.geolocator is None
    job.run_once()
    with database.session() as session:
        assert session.get(ReportTriage, report_id) is not None


def test_changed_weights_under_an_old_version_are_refused_but_scoring_goes_on(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    TriageJob(database, TriageSettings()).run_once()
    default = resources.files("vigil.triage").joinpath("default_weights.toml").read_text()
    changed = tmp_path / "weights.toml"
    changed.write_text(default + "\n# edited without a new version\n")
    report_id = _finished(database, document())
    TriageJob(database, TriageSettings(weights_file=changed)).run_once()
    assert "give the changed weights a new version" in caplog.text
    with database.session() as session:
        assert session.get(ReportTriage, report_id) is not None
        assert len(session.scalars(select(TriageWeightSet)).all()) == 1
