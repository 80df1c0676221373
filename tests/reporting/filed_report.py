"""A filed report on SQLite and PostgreSQL: cases opened by the real screening service with a
real encrypted vault, confirmed through vigil.review, then a FINISHED report row made by hand
(the sending state machine is other work).

The account "acct-7" uploads a listed image (matched, confirmed, reported) and is reported by
a user for an unlisted one (pending: account data that went into the report, not a file of
it)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.review.review_env import SUBMITTER, ReviewEnv, review_env
from vigil.core.settings import EvidenceSettings, ReportingSettings, ReviewSettings, Settings
from vigil.review.decisions import decide
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.evidence import EvidenceVault, LocalEvidenceBackend, MasterKey
from vigil.store.models import (
    Case,
    CaseItem,
    FileState,
    MatchRecord,
    RecordSource,
    Report,
    ReportCase,
    ReportFile,
    ReportKind,
    ReportState,
    utcnow,
)

ACCOUNT = "acct-7"
IP = "198.51.100.23"
UNLISTED = 8
HOLD_DAYS = 730  # the "DE" jurisdiction's report hold, configured below
PRESERVATION_DAYS = 90
REPORT_XML = (
    "<report><incidentSummary><incidentType>Child Pornography (possession, "
    "manufacture, and distribution)</incidentType></incidentSummary></report>"
)
RECEIPT = (
    "<reportDoneResponse><responseCode>0</responseCode><reportId>{}</reportId></reportDoneResponse>"
)
FILE_DETAILS = "<fileDetails><reportId>{}</reportId><fileId>f-1</fileId></fileDetails>"


@dataclass
class FiledEnv:
    review: ReviewEnv
    vault: EvidenceVault
    settings: Settings

    @property
    def database(self) -> Database:
        return self.review.database

    def service(self) -> ScreeningService:
        return ScreeningService(
            self.database, Matcher(self.review.live), settings=self.settings, vault=self.vault
        )


@dataclass(frozen=True)
class OpenedCase:
    case_public_id: str
    reported_item_id: int  # confirmed, its file goes into the report
    pending_item_id: int  # account data only
    reported_evidence: str
    pending_evidence: str
    reported_sha256: str


@contextmanager
def filed_env(
    database: Database, tmp_path: Path, corpus_images: list[Path], **reporting: object
) -> Iterator[FiledEnv]:
    settings = Settings(
        data_dir=tmp_path / "data",
        evidence=EvidenceSettings(
            report_hold_days_by_jurisdiction={"DE": HOLD_DAYS}, preservation_days=PRESERVATION_DAYS
        ),
        reporting=ReportingSettings(hold_jurisdiction="DE", **reporting),
    )
    vault = EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        MasterKey.generate(),
        max_bytes=1 << 24,
        retention=timedelta(days=30),
    )
    with review_env(database, tmp_path, corpus_images) as env:
        yield FiledEnv(env, vault, settings)


def open_case(env: FiledEnv, account: str = ACCOUNT) -> OpenedCase:
    context = UploadContext(
        ip_address=IP,
        port=443,
        email="someone@example.org",
        ip_seen_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    service = env.service()
    matched = service.screen_upload(
        Submission(f"{account}-up", account, context),
        env.review.images[0].read_bytes(),
        submitted_by=SUBMITTER,
    )
    flagged = service.flag(
        Submission(f"{account}-flag", account, context),
        source=RecordSource.USER_REPORT,
        submitted_by=SUBMITTER,
        content=env.review.images[UNLISTED].read_bytes(),
    )
    case_id, reported_item = env.review.case_of(matched.record_id)
    flagged_case, pending_item = env.review.case_of(flagged.record_id)
    assert flagged_case == case_id  # one case per account
    with env.database.transaction(write=True) as session:
        decide(
            session,
            case_id,
            "confirm",
            reviewer=env.review.alice,
            settings=ReviewSettings(),
            item_id=reported_item,
        )
    assert matched.evidence_item_id and flagged.evidence_item_id
    return OpenedCase(
        case_id,
        reported_item,
        pending_item,
        matched.evidence_item_id,
        flagged.evidence_item_id,
        hashlib.sha256(env.review.images[0].read_bytes()).hexdigest(),
    )


def finished_report(
    env: FiledEnv,
    case: OpenedCase,
    *,
    remote_id: str | None = None,
    state: ReportState = ReportState.FINISHED,
    keep_file: bool = True,
    file_name: str = "../holiday photo.jpg",
) -> str:
    """A report row as the sending state machine leaves it once /finish answered."""
    remote_id = remote_id or str(uuid.uuid4().int % 10**8)
    with env.database.transaction(write=True) as session:
        row = session.scalars(select(Case).where(Case.public_id == case.case_public_id)).one()
        item = session.get_one(CaseItem, case.reported_item_id)
        record = session.get_one(MatchRecord, item.record_id)
        now = utcnow()
        report = Report(
            public_id=uuid.uuid4().hex,
            kind=ReportKind.CASE,
            destination="cybertipline-test",
            case_id=row.id,
            state=state,
            xml=REPORT_XML,
            remote_report_id=remote_id,
            created_by="user:alice",
            opened_at=now,
            finished_at=now if state is ReportState.FINISHED else None,
            receipt=RECEIPT.format(remote_id) if state is ReportState.FINISHED else None,
        )
        session.add(report)
        session.flush()
        session.add(ReportCase(report_id=report.id, case_id=row.id))
        session.add(
            ReportFile(
                report_id=report.id,
                item_id=item.id,
                evidence_item_id=record.evidence_item_id if keep_file else None,
                file_name=file_name,
                sha256=record.sha256,
                file_details_xml=FILE_DETAILS.format(remote_id),
                state=FileState.DESCRIBED,
                remote_file_id="f-1",
            )
        )
        return report.public_id
