"""A review environment on SQLite and PostgreSQL: a real list of benign corpus hashes, a real
match index and the real screening service, which opens the cases reviewers work on.

Test modules wrap ``review_env`` in their own ``env`` fixture (no conftest: the review test
folder is shared with other work)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.screening.listed import fingerprint as fingerprint_file
from tests.screening.listed import make_list
from vigil.core.settings import ReviewSettings, Settings
from vigil.fingerprint.record import Fingerprint
from vigil.review.decisions import ReviewerRef, classify_item, decide
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningOutcome, ScreeningService
from vigil.screening.submission import Submission, UploadContext
from vigil.store import Database
from vigil.store.evidence import EvidenceVault, LocalEvidenceBackend, MasterKey
from vigil.store.models import Case, CaseItem, DecisionKind, RecordSource, User
from vigil.store.records.matches import get_record

SUBMITTER = "key:test0001"
fingerprint = functools.cache(fingerprint_file)


@dataclass
class ReviewEnv:
    database: Database
    live: LiveIndex
    root: Path
    images: list[Path]
    alice: ReviewerRef
    bob: ReviewerRef

    def service(self, vault: EvidenceVault | None = None) -> ScreeningService:
        return ScreeningService(
            self.database,
            Matcher(self.live),
            settings=Settings(data_dir=self.root / "data"),
            vault=vault,
        )

    def confirm(self, content: bytes, vault: EvidenceVault | None = None) -> int:
        """A user report of ``content`` (kept as evidence when there is a ``vault``),
        classified A1 and confirmed by alice; its item id."""
        outcome = self.service(vault).flag(
            Submission("r-1", "acct-1", UploadContext()),
            source=RecordSource.USER_REPORT,
            submitted_by=SUBMITTER,
            content=content,
        )
        case_id, item_id = self.case_of(outcome.record_id)
        with self.database.transaction(write=True) as session:
            classify_item(session, item_id, "A1", actor=self.alice.actor)
            decide(
                session,
                case_id,
                DecisionKind.CONFIRM,
                reviewer=self.alice,
                settings=ReviewSettings(),
                item_id=item_id,
                vault=vault,
            )
        return item_id

    def upload(
        self, image: int | Path, account: str | None = "acct-1", content: str = "c-1"
    ) -> ScreeningOutcome:
        path = self.images[image] if isinstance(image, int) else image
        return self.service().screen_upload(
            Submission(content, account, UploadContext()), path.read_bytes(), submitted_by=SUBMITTER
        )

    def fingerprint(self, image: int) -> Fingerprint:
        return fingerprint(self.images[image])

    def case_of(self, record_public_id: str | None) -> tuple[str, int]:
        """The case's public id and the item id of a screened record."""
        assert record_public_id is not None
        with self.database.transaction() as session:
            record = get_record(session, record_public_id)
            assert record is not None
            item = session.scalars(select(CaseItem).where(CaseItem.record_id == record.id)).one()
            case = session.get_one(Case, item.case_id)
            return case.public_id, item.id

    def item(self, item_id: int) -> CaseItem:
        with self.database.transaction() as session:
            return session.get_one(CaseItem, item_id)

    def case(self, public_id: str) -> Case:
        with self.database.transaction() as session:
            return session.scalars(select(Case).where(Case.public_id == public_id)).one()


def kept_evidence_vault(root: Path) -> EvidenceVault:
    """An evidence vault under ``root`` with a fresh master key: what confirmations keep."""
    return EvidenceVault(
        LocalEvidenceBackend(root / "evidence"),
        MasterKey.generate(),
        max_bytes=64 << 20,
        retention=timedelta(days=90),
    )


def add_user(database: Database, username: str) -> ReviewerRef:
    with database.transaction(write=True) as session:
        user = User(username=username, password_hash="not-a-hash", created_by="test")
        session.add(user)
        session.flush()
        return ReviewerRef(user.id, f"user:{username}")


@contextmanager
def review_env(
    database: Database, tmp_path: Path, corpus_images: list[Path]
) -> Iterator[ReviewEnv]:
    """List "ncmec": image 0 by SHA-256 and image 1 by PDQ, classification A1."""
    listed = [fingerprint(p) for p in corpus_images[:2]]
    make_list(
        database,
        "ncmec",
        [("sha256", listed[0].sha256, "case-1"), ("pdq", listed[1].pdq, "case-2")],
        tmp_path,
    )
    alice, bob = add_user(database, "alice"), add_user(database, "bob")
    with LiveIndex.open(database, tmp_path / "index") as live:
        yield ReviewEnv(database, live, tmp_path, corpus_images, alice, bob)
