"""Cases made for the keyboard-flow tests, on the demo data (benign corpus pictures only):
an account whose uploads were reported by users, so every item needs a classification."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from vigil.cli.demo_data import seed_demo
from vigil.core.settings import Settings
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.screening.submission import Submission
from vigil.store import Database, open_database
from vigil.store.evidence import EvidenceVault
from vigil.store.models import Case, CaseItem, RecordSource

FIRST_UNLISTED = 12  # the demo lists hashes of the first pictures only


def seed_reported_case(settings: Settings, pictures: list[Path], account: str, size: int) -> str:
    """The demo data plus one case of ``size`` user-reported pictures none of the demo's
    lists knows; returns the demo reviewer's password. Before the console starts."""
    seeded = seed_demo(settings, pictures[0].parent)
    assert seeded.reviewer_password
    chosen = pictures[FIRST_UNLISTED : FIRST_UNLISTED + size]
    assert len(chosen) == size, "the benign corpus has too few pictures"
    with (
        open_database(settings) as database,
        LiveIndex.open(database, index_root(settings.data_dir)) as live,
    ):
        service = ScreeningService(
            database, Matcher(live), settings=settings, vault=EvidenceVault.from_settings(settings)
        )
        for number, path in enumerate(chosen):
            submission = Submission.from_mapping(
                {"content_id": f"{account}-post-{number + 1}", "account_id": account}
            )
            service.flag(
                submission,
                source=RecordSource.USER_REPORT,
                submitted_by="test:platform",
                content=path.read_bytes(),
                note="reported by a user",
            )
    return seeded.reviewer_password


def case_of(database: Database, account: str) -> str:
    with database.transaction() as session:
        return session.scalars(
            select(Case.public_id).where(Case.platform_account_id == account)
        ).one()


def item_ids(database: Database, case_id: str) -> list[int]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(CaseItem.id)
                .join(Case)
                .where(Case.public_id == case_id)
                .order_by(CaseItem.id)
            )
        )


def statuses(database: Database, case_id: str) -> list[tuple[str, str | None]]:
    """(status, classification) of each item, in item order."""
    with database.transaction() as session:
        rows = session.execute(
            select(CaseItem.status, CaseItem.classification)
            .join(Case)
            .where(Case.public_id == case_id)
            .order_by(CaseItem.id)
        ).all()
        return [(status.value, classification) for status, classification in rows]
