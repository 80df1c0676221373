"""Filing a report: the legal hold on its files and account data, the report package with
its SHA-256 manifest, and "never no records" before and after a purge. Real screening,
review, encrypted vault and database (SQLite and PostgreSQL); the report row itself is made
by hand (tests/reporting/filed_report.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.reporting.filed_report import (
    ACCOUNT,
    HOLD_DAYS,
    REPORT_XML,
    FiledEnv,
    OpenedCase,
    filed_env,
    finished_report,
    open_case,
)
from vigil.reporting.preservation import (
    PreservedPackage,
    load_package,
    on_report_filed,
    verify_package,
)
from vigil.reporting.preservation_errors import (
    InvalidRequest,
    PackageUnavailable,
    ReportNotFiled,
    UnknownReport,
)
from vigil.reporting.preserved_records import find_records
from vigil.store import Database
from vigil.store.evidence import active_holds, purge_expired, release_hold
from vigil.store.models import (
    AuditAction,
    AuditRecord,
    Case,
    CaseStatus,
    EvidenceItem,
    EvidencePurge,
    HoldKind,
    LegalHold,
    Report,
    ReportState,
    utcnow,
)

ACTOR = "user:alice"


@pytest.fixture
def env(database: Database, tmp_path: Path, corpus_images: list[Path]) -> Iterator[FiledEnv]:
    with filed_env(database, tmp_path, corpus_images) as made:
        yield made


@pytest.fixture
def case(env: FiledEnv) -> OpenedCase:
    return open_case(env)


def file_report(env: FiledEnv, report_id: str) -> PreservedPackage:
    with env.database.session(write=True) as session:
        return on_report_filed(
            session, report_id, settings=env.settings, actor=ACTOR, vault=env.vault
        )


def test_filing_holds_the_files_and_the_account_data(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case)
    before = utcnow()
    package = file_report(env, report_id)
    with env.database.session() as session:
        for item_id in (case.reported_evidence, case.pending_evidence):
            holds = active_holds(session, item_id, utcnow())
            assert [hold.kind for hold in holds] == [HoldKind.REPORT]
            assert holds[0].jurisdiction == "DE"
            assert holds[0].expires_at >= before + timedelta(days=HOLD_DAYS)
            assert report_id in holds[0].reason
        for part in package.parts:  # everything sealed for the package is held too
            assert part.evidence_item_id is not None
            assert active_holds(session, part.evidence_item_id, utcnow())
        assert active_holds(session, package.manifest_item_id, utcnow())
        report = session.scalars(select(Report).where(Report.public_id == report_id)).one()
        assert report.package_sha256 == package.package_sha256
        audit = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == AuditAction.REPORT, AuditRecord.subject_id == report_id
            )
        ).one()
    assert package.file_item_ids == (case.reported_evidence,)
    assert set(package.account_item_ids) == {case.reported_evidence, case.pending_evidence}
    assert audit.details["held_account_items"] == list(package.account_item_ids)
    assert audit.details["package_sha256"] == package.package_sha256


def test_the_package_holds_every_part_with_its_hash(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case)
    package = file_report(env, report_id)
    parts = {part.name: part for part in package.parts}
    file_part = next(part for part in package.parts if part.kind == "file")
    assert file_part.name.endswith("/holiday_photo.jpg")  # "../" cannot escape the package
    assert file_part.sha256 == case.reported_sha256
    assert parts["report.xml"].sha256 == hashlib.sha256(REPORT_XML.encode()).hexdigest()
    assert {part.kind for part in package.parts} == {
        "report_xml",
        "receipt",
        "file_details",
        "file",
        "account_data",
    }
    with env.database.session() as session:
        manifest_bytes = env.vault.get(session, package.manifest_item_id)
        account = json.loads(env.vault.get(session, parts["account-data.json"].evidence_item_id))
        stored = session.get_one(EvidenceItem, parts["receipt.xml"].evidence_item_id)
        blob = env.vault.backend.read(stored.blob_id)
    assert hashlib.sha256(manifest_bytes).hexdigest() == package.package_sha256
    assert json.loads(manifest_bytes)["parts"] == [part.to_dict() for part in package.parts]
    assert b"reportDoneResponse" not in blob  # encrypted at rest
    contexts = {record["platform_content_id"]: record for record in account["records"]}
    assert contexts[f"{ACCOUNT}-up"]["context"]["ip_address"] == "198.51.100.23"
    assert contexts[f"{ACCOUNT}-flag"]["review"]["status"] == "pending"


def test_verify_package_passes_then_detects_tampering(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case)
    package = file_report(env, report_id)
    with env.database.session() as session:
        check = verify_package(session, env.vault, report_id)
        assert check.ok, check.problems
        assert {part.status for part in check.parts} == {"ok"}
        details = next(p for p in package.parts if p.kind == "file_details")
        blob_id = session.get_one(EvidenceItem, details.evidence_item_id).blob_id
    ciphertext = bytearray(env.vault.backend.read(blob_id))
    ciphertext[-1] ^= 1
    env.vault.backend.write(blob_id, bytes(ciphertext))
    with env.database.session() as session:
        check = verify_package(session, env.vault, report_id)
    assert not check.ok
    statuses = {part.name: part.status for part in check.parts}
    assert statuses.pop(details.name) == "tampered"
    assert set(statuses.values()) == {"ok"}


def test_verify_package_detects_an_edited_report_row(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case)
    file_report(env, report_id)
    with env.database.transaction(write=True) as session:
        report = session.scalars(select(Report).where(Report.public_id == report_id)).one()
        report.xml = REPORT_XML.replace("incidentType", "incidenttype")
    with env.database.session() as session:
        check = verify_package(session, env.vault, report_id)
    assert not check.ok
    assert check.problems == ("report.xml: the report row differs from the preserved copy",)


def test_only_a_finished_report_is_preserved(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case, state=ReportState.FILES)
    with pytest.raises(ReportNotFiled, match="files"):
        file_report(env, report_id)
    with pytest.raises(UnknownReport):
        file_report(env, "0" * 32)
    with env.database.session() as session:
        assert session.scalars(select(LegalHold)).all() == []
        report = session.scalars(select(Report).where(Report.public_id == report_id)).one()
        assert report.package_sha256 is None


def test_filing_twice_keeps_the_first_package(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case)
    first = file_report(env, report_id)
    with env.database.session() as session:
        holds = len(session.scalars(select(LegalHold)).all())
    again = file_report(env, report_id)
    assert again.package_sha256 == first.package_sha256
    assert again.parts == first.parts
    with env.database.session() as session:
        assert len(session.scalars(select(LegalHold)).all()) == holds


def test_a_file_sent_as_hashes_only_is_named_not_kept(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case, keep_file=False)
    package = file_report(env, report_id)
    file_part = next(part for part in package.parts if part.kind == "file")
    assert file_part.evidence_item_id is None and "hashes only" in file_part.note
    with env.database.session() as session:
        check = verify_package(session, env.vault, report_id)
    assert check.ok
    assert [p.status for p in check.parts if p.name == file_part.name] == ["not_kept"]


def test_find_records_while_held_and_after_the_purge(env: FiledEnv, case: OpenedCase) -> None:
    report_id = finished_report(env, case, remote_id="31337")
    package = file_report(env, report_id)
    with env.database.session() as session:
        held = find_records(session, report_public_id=report_id)
    [report] = held.reports
    assert report.status == "preserved" and report.package_sha256 == package.package_sha256
    assert {item.state for item in report.items} == {"held"}
    assert case.pending_evidence in {item.evidence_item_id for item in report.items}

    later = utcnow() + timedelta(days=HOLD_DAYS + 1)
    _close_cases(env)  # an open case's media are never purged
    with env.database.session(write=True) as session:
        purged = purge_expired(session, env.vault, now=later)
    assert len(purged) >= len(report.items)
    with env.database.session() as session:
        answers = [
            find_records(session, report_public_id=report_id),
            find_records(session, remote_report_id="31337"),
            find_records(session, account_id=ACCOUNT),
        ]
        purges = {p.item_id: p for p in session.scalars(select(EvidencePurge))}
        check = verify_package(session, env.vault, report_id)
    for answer in answers:
        assert answer.found
        [after] = answer.reports
        assert after.public_id == report_id and after.status == "purged"
        assert len(after.items) == len(report.items)
        for item in after.items:
            purge = purges[item.evidence_item_id]
            assert (item.purged_at, item.purged_by, item.purge_reason) == (
                purge.purged_at,
                purge.actor,
                purge.reason,
            )
            assert item.purged_at == later and "retention expired" in (item.purge_reason or "")
        assert "purged at" in after.summary and "retention expired" in after.summary
    assert not check.ok and "cannot be read" in check.problems[0]


def test_released_holds_let_the_purge_run_and_the_answer_says_so(
    env: FiledEnv, case: OpenedCase
) -> None:
    report_id = finished_report(env, case)
    file_report(env, report_id)
    _close_cases(env)
    with env.database.session(write=True) as session:
        for hold in session.scalars(select(LegalHold)).all():
            release_hold(session, hold.id, released_by="legal")
        purge_expired(session, env.vault, now=utcnow() + timedelta(days=31))
        answer = find_records(session, report_public_id=report_id)
        with pytest.raises(PackageUnavailable, match="cannot be read"):
            load_package(session, env.vault, report_id)
    assert answer.reports[0].status == "purged"


def test_find_records_for_unknown_and_malformed_queries(env: FiledEnv) -> None:
    with env.database.session() as session:
        answer = find_records(session, account_id="nobody")
        assert not answer.found and "no report" in answer.summary
        with pytest.raises(InvalidRequest):
            find_records(session)
        with pytest.raises(InvalidRequest):
            find_records(session, remote_report_id="9" * 300)
        with pytest.raises(InvalidRequest):
            find_records(session, account_id="")


def _close_cases(env: FiledEnv) -> None:
    """Decide the case's last pending item as a reviewer would, closing the case."""
    with env.database.transaction(write=True) as session:
        session.execute(update(Case).values(status=CaseStatus.CONFIRMED))
