"""Rows the clearinghouse domain tests build directly: reporting companies, received reports
and their files (hashes of benign corpus images, or made-up digests), and report documents."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from tests.screening.listed import fingerprint
from vigil.fingerprint.record import Fingerprint
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.store import Database
from vigil.store.models import IntakeFile, IntakeReport, IntakeState, ReportingCompany


@functools.cache
def corpus_fingerprint(path: Path) -> Fingerprint:
    """Hashing a JPEG costs tens of milliseconds: once per test session is enough."""
    return fingerprint(path)


def made_up(seed: str) -> Fingerprint:
    """Digests of a file nobody has (bundling needs no real content)."""
    data = seed.encode()
    return Fingerprint(
        path=seed,
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def company_row(session: Session, name: str) -> ReportingCompany:
    company = ReportingCompany(
        name=name,
        username=f"{name.lower()}-{uuid.uuid4().hex[:6]}",
        password_hash="$argon2id$not-used-here",
    )
    session.add(company)
    session.flush()
    return company


def add_report(
    session: Session,
    company: ReportingCompany,
    raw_xml: bytes = b"<report/>",
    *,
    batched: bool = False,
    state: IntakeState = IntakeState.FINISHED,
    files: tuple[Fingerprint, ...] = (),
) -> IntakeReport:
    report = IntakeReport(
        company_id=company.id,
        raw_xml=raw_xml,
        parsed={},
        request_id=uuid.uuid4().hex,
        batched=batched,
        state=state,
    )
    session.add(report)
    session.flush()
    for record in files:
        add_file(session, report, record)
    session.refresh(report)
    return report


def add_file(
    session: Session,
    report: IntakeReport,
    record: Fingerprint,
    *,
    pdq: str | None = None,
    details_xml: bytes | None = None,
) -> IntakeFile:
    assert record.md5 and record.sha1 and record.sha256
    file = IntakeFile(
        public_id=uuid.uuid4().hex,
        report_id=report.id,
        file_name=Path(record.path).name,
        size=record.size or 1,
        md5=record.md5,
        sha1=record.sha1,
        sha256=record.sha256,
        pdq=pdq or record.pdq,
        media_type=record.media_type,
        details_xml=details_xml,
    )
    session.add(file)
    session.flush()
    return file


@contextmanager
def open_matcher(database: Database, root: Path) -> Iterator[Matcher]:
    """Every lookup applies the committed feed first, so committed labels show."""
    with LiveIndex.open(database, root) as live:
        yield Matcher(live)


def report_xml(
    *,
    email: str = "",
    ip: str = "",
    when: str = "2024-05-01T12:00:00Z",
    screen_name: str = "",
    esp_id: str = "",
    esp_service: str = "",
    phone: str = "",
    calling_code: str = "",
    url: str = "",
    device: tuple[str, str] | None = None,
    reporter_email: str = "reports@example.com",
) -> bytes:
    """A <report> naming a reported user with the given identifiers (empty: left out). The
    reporting person always has an e-mail address: Appendix B.4 requires one."""
    user = "".join(
        [
            f"<personOrUserReportedPerson><email>{email}</email></personOrUserReportedPerson>"
            if email
            else "",
            f"<espIdentifier>{esp_id}</espIdentifier>" if esp_id else "",
            f"<espService>{esp_service}</espService>" if esp_service else "",
            f"<screenName>{screen_name}</screenName>" if screen_name else "",
            f"<ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Login</eventName>"
            f"<dateTime>{when}</dateTime></ipCaptureEvent>"
            if ip
            else "",
            f"<deviceId><idType>{device[0]}</idType><idValue>{device[1]}</idValue></deviceId>"
            if device
            else "",
        ]
    )
    phone_attr = f' countryCallingCode="{calling_code}"' if calling_code else ""
    internet = (
        (f"<internetDetails><webPageIncident><url>{url}</url></webPageIncident></internetDetails>")
        if url
        else ""
    )
    victim = (
        (f"<victim><victimPerson><phone{phone_attr}>{phone}</phone></victimPerson></victim>")
        if phone
        else ""
    )
    reporter = (
        f"<reporter><reportingPerson><email>{reporter_email}</email></reportingPerson></reporter>"
    )
    return (
        "<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
        "<incidentDateTime>2024-05-01T12:00:00Z</incidentDateTime></incidentSummary>"
        f"{internet}{reporter}<personOrUserReported>{user}</personOrUserReported>"
        f"{victim}</report>"
    ).encode()
