"""Report rows for the triage tests: a finished intake report with a parsed document and
files carrying verdicts, classifications and annotations (made-up digests, no media)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from vigil.store.models import (
    FileVerdict,
    IntakeFile,
    IntakeReport,
    IntakeState,
    ReportingCompany,
    utcnow,
)

POSSESSION = "Child Pornography (possession, manufacture, and distribution)"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"


def company(session: Session, name: str = "Example Platform") -> ReportingCompany:
    row = ReportingCompany(
        name=name, username=f"c-{uuid.uuid4().hex[:8]}", password_hash="$argon2id$not-used-here"
    )
    session.add(row)
    session.flush()
    return row


def document(
    *,
    incident_type: str = POSSESSION,
    escalation: str = "",
    when: datetime | None = None,
    annotations: Sequence[str] = (),
    victim: bool = False,
) -> dict[str, Any]:
    summary: dict[str, Any] = {"incidentType": incident_type}
    if when is not None:
        summary["incidentDateTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if escalation:
        summary["escalateToHighPriority"] = escalation
    if annotations:
        summary["reportAnnotations"] = {name: "true" for name in annotations}
    body: dict[str, Any] = {"incidentSummary": summary}
    if victim:
        body["victim"] = {"victimPerson": {"firstName": "Test"}}
    return {"report": body}


def report(
    session: Session,
    owner: ReportingCompany,
    parsed: dict[str, Any] | None = None,
    files: Sequence[tuple[FileVerdict, str | None, Sequence[str]]] = (),
    *,
    finished_at: datetime | None = None,
    state: IntakeState = IntakeState.FINISHED,
) -> IntakeReport:
    finished_at = finished_at or utcnow() - timedelta(minutes=1)
    row = IntakeReport(
        company_id=owner.id,
        raw_xml=b"<report/>",
        parsed=parsed or document(),
        request_id=uuid.uuid4().hex,
        state=state,
        finished_at=finished_at,
    )
    session.add(row)
    session.flush()
    for verdict, classification, flags in files:
        add_file(session, row, verdict, classification, flags)
    session.refresh(row)
    return row


def add_file(
    session: Session,
    row: IntakeReport,
    verdict: FileVerdict | None,
    classification: str | None = None,
    flags: Sequence[str] = (),
    sha256: str | None = None,
) -> IntakeFile:
    seed = uuid.uuid4().hex.encode()
    details: dict[str, Any] = {"fileId": "x"}
    if flags:
        details["fileAnnotations"] = {name: "true" for name in flags}
    file = IntakeFile(
        public_id=uuid.uuid4().hex,
        report_id=row.id,
        size=1,
        md5=hashlib.md5(seed).hexdigest(),
        sha1=hashlib.sha1(seed).hexdigest(),
        sha256=sha256 or hashlib.sha256(seed).hexdigest(),
        details={"fileDetails": details},
        verdict=verdict,
        classification=classification,
    )
    session.add(file)
    session.flush()
    return file


def urgent_report(session: Session, owner: ReportingCompany) -> IntakeReport:
    """Enticement three hours ago, a named victim, one new B1 file: urgent by any reading."""
    return report(
        session,
        owner,
        document(incident_type=ENTICEMENT, victim=True, when=utcnow() - timedelta(hours=3)),
        [(FileVerdict.NEW, "B1", [])],
    )


def quiet_report(session: Session, owner: ReportingCompany) -> IntakeReport:
    """One known B2 file and nothing else."""
    return report(session, owner, files=[(FileVerdict.KNOWN, "B2", [])])
