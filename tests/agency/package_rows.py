"""A referral worth packaging, built from rows: a report with three benign corpus images
sealed into a real evidence vault (one labelled by an analyst, one the reporter marked as a
drawing, one new and also sent in another company's report), entities shared with that
other report, a triage explanation and an agency allowed to receive media."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from tests.clearinghouse.intake_rows import add_report, company_row, corpus_fingerprint, report_xml
from vigil.clearinghouse.labelling import label_file
from vigil.store.evidence import EvidenceVault, LocalEvidenceBackend, MasterKey
from vigil.store.models import (
    Agency,
    AgencyKind,
    Disposition,
    FileVerdict,
    IntakeEntity,
    IntakeEntityLink,
    IntakeFile,
    IntakeReport,
    Referral,
    ReferralState,
    ReportTriage,
    utcnow,
)

ANALYST = "analyst@clearinghouse.example"
EMAIL = "reported.user@example.org"


def make_vault(directory: Path) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(directory),
        MasterKey.generate(),
        max_bytes=8 * 1024 * 1024,
        retention=timedelta(days=30),
    )


@dataclass(frozen=True)
class Packaged:
    referral_id: int
    report_id: int
    other_report_id: int
    file_ids: tuple[int, ...]
    sha256s: tuple[str, ...]
    contents: dict[str, bytes]  # by SHA-256


def build_referral(
    session: Session, vault: EvidenceVault, images: list[Path], *, media_allowed: bool = True
) -> Packaged:
    company, other_company = company_row(session, "Example"), company_row(session, "Other")
    raw = report_xml(email=EMAIL, ip="192.0.2.7")
    report = add_report(session, company, raw)
    report.parsed = {"report": {"personOrUserReported": {"email": EMAIL}}}
    files = [_sealed_file(session, vault, report, path) for path in images[:3]]
    label_file(
        session, files[0].id, "A1", actor=ANALYST, series="Synthetic series", victim_identified=True
    )
    files[1].classification, files[1].verdict = "B2", FileVerdict.KNOWN
    files[1].details = {
        "fileDetails": {
            "fileAnnotations": {"animeDrawingVirtualHentai": "", "viral": ""},
            "originalFileName": "drawing.png",
            "locationOfFile": "https://example.org/x",
        }
    }
    files[2].verdict = FileVerdict.NEW
    other = add_report(session, other_company, report_xml(email=EMAIL))
    _sealed_file(session, vault, other, images[2])
    _link(session, "email", EMAIL, report.id, other.id)
    _link(session, "ip", "192.0.2.7", report.id)
    agency = Agency(
        code="ICAC-TEST",
        name="Test task force",
        kind=AgencyKind.TASK_FORCE,
        country="US",
        media_allowed=media_allowed,
    )
    session.add(agency)
    session.add(
        ReportTriage(
            report_id=report.id,
            priority=2,
            score=41.5,
            reasons=[
                {
                    "name": "new_material",
                    "weight": 10.0,
                    "value": 1,
                    "points": 10.0,
                    "detail": "1 file never seen",
                }
            ],
            disposition=Disposition.REFERRAL,
            weights_version="test-1",
            effective_priority=1,
            override_priority=1,
            override_reason="reporter escalated",
            override_by=ANALYST,
            override_at=utcnow(),
        )
    )
    session.flush()
    referral = Referral(
        report_id=report.id,
        agency_id=agency.id,
        state=ReferralState.ROUTED,
        routed_by="routing",
        why="rule 1",
        routed_at=utcnow(),
    )
    session.add(referral)
    session.flush()
    contents = {
        file.sha256: path.read_bytes() for file, path in zip(files, images[:3], strict=True)
    }
    return Packaged(
        referral.id,
        report.id,
        other.id,
        tuple(file.id for file in files),
        tuple(file.sha256 for file in files),
        contents,
    )


def _sealed_file(
    session: Session, vault: EvidenceVault, report: IntakeReport, path: Path
) -> IntakeFile:
    content = path.read_bytes()
    item = vault.seal(content, media_type="photo", reference=f"intake:{report.id}")
    session.add(item)
    session.flush()
    record = corpus_fingerprint(path)
    file = IntakeFile(
        public_id=f"file-{item.id[:12]}",
        report_id=report.id,
        file_name=path.name,
        evidence_item_id=item.id,
        size=len(content),
        md5=record.md5,
        sha1=record.sha1,
        sha256=record.sha256,
        pdq=record.pdq,
        media_type="photo",
    )
    session.add(file)
    session.flush()
    return file


def _link(session: Session, kind: str, value: str, *report_ids: int) -> None:
    entity = IntakeEntity(kind=kind, value=value)
    session.add(entity)
    session.flush()
    for report_id in report_ids:
        session.add(
            IntakeEntityLink(
                entity_id=entity.id,
                report_id=report_id,
                seen_at=utcnow(),
                context="personOrUserReported",
            )
        )
    session.flush()
