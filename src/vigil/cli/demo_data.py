"""Demo data for a first look at the console: benign pictures only.

A demo list holds the PDQ hashes of half of the pictures (the benign corpus when it is
there, else generated gradients and text); the other pictures and some listed ones are then
screened as uploads from a few made-up accounts, so the queue has known-material cases,
user reports and one escalation waiting. Seeding twice does nothing the second time.
"""

from __future__ import annotations

import io
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from vigil.core.settings import Settings
from vigil.fingerprint.pipeline import fingerprint_bytes
from vigil.lists.sources import LocalFileSource
from vigil.screening.live_index import LiveIndex, index_root
from vigil.screening.matcher import Matcher
from vigil.screening.service import ScreeningService
from vigil.screening.submission import Submission
from vigil.store import Database, open_database
from vigil.store.accounts import create_user, find_user
from vigil.store.evidence import EvidenceVault
from vigil.store.lists.catalogue import create_list, list_exists
from vigil.store.lists.importing import import_file
from vigil.store.migrate import prepare_schema
from vigil.store.models import RecordSource, Role

DEMO_LIST = "demo-known"
DEMO_REVIEWER = "reviewer"
ACTOR = "demo"
DEFAULT_CORPUS = Path("../shared/corpus/images")
PICTURES = 12


@dataclass(frozen=True)
class DemoSeed:
    created: bool  # False: the demo data were already there
    reviewer_password: str | None  # shown once, when the reviewer was created
    cases: int


def seed_demo(settings: Settings, corpus: Path = DEFAULT_CORPUS) -> DemoSeed:
    pictures = list(_pictures(corpus))
    with open_database(settings) as database:
        prepare_schema(settings, database)
        with database.transaction() as session:
            if list_exists(session, DEMO_LIST):
                return DemoSeed(False, None, 0)
        password = _reviewer(database)
        _list(database, pictures[: len(pictures) // 2])
        with LiveIndex.open(database, index_root(settings.data_dir)) as live:
            service = ScreeningService(
                database,
                Matcher(live),
                settings=settings,
                vault=EvidenceVault.from_settings(settings),
            )
            cases = _uploads(service, pictures)
    return DemoSeed(True, password, cases)


def _pictures(corpus: Path) -> Iterator[bytes]:
    files = sorted(corpus.glob("*.jpg"))[:PICTURES] if corpus.is_dir() else []
    for path in files:
        yield path.read_bytes()
    for number in range(PICTURES - len(files)):
        yield _generated(number)


def _generated(number: int) -> bytes:
    """A benign picture: a two-colour gradient with a label."""
    image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    tint = Image.new("RGB", image.size, ((number * 67) % 256, (number * 131) % 256, 160))
    image = Image.blend(image, tint, 0.45)
    ImageDraw.Draw(image).text(
        (40 + number * 13, 60 + number * 17), f"demo {number}", fill=(255, 255, 255)
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _reviewer(database: Database) -> str | None:
    with database.transaction(write=True) as session:
        if find_user(session, DEMO_REVIEWER) is not None:
            return None
        password = secrets.token_urlsafe(12)
        create_user(
            session,
            DEMO_REVIEWER,
            password,
            [Role.REVIEWER],
            actor=ACTOR,
            display_name="Demo reviewer",
        )
        return password


def _list(database: Database, listed: list[bytes]) -> None:
    rows = ["signal_type,signal,external_id,classification"]
    for number, content in enumerate(listed):
        pdq = fingerprint_bytes(content).pdq
        if pdq:
            rows.append(f"pdq,{pdq},demo-{number},B2")
    with database.transaction(write=True) as session:
        create_list(
            session,
            DEMO_LIST,
            actor=ACTOR,
            description="Demo: hashes of benign pictures, not real list data",
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo-known.csv"
        path.write_text("\n".join(rows) + "\n")
        import_file(database, DEMO_LIST, LocalFileSource(path), actor=ACTOR)


def _uploads(service: ScreeningService, pictures: list[bytes]) -> int:
    half = len(pictures) // 2
    plan = [  # (account, picture, how it arrives)
        ("acct-1001", 0, RecordSource.UPLOAD),
        ("acct-1001", 1, RecordSource.UPLOAD),
        ("acct-1002", 2, RecordSource.UPLOAD),
        ("acct-2001", half, RecordSource.USER_REPORT),
        ("acct-2001", half + 1, RecordSource.USER_REPORT),
        ("acct-3001", half + 2, RecordSource.ESCALATION),
    ]
    accounts = set()
    for number, (account, index, source) in enumerate(plan):
        submission = Submission.from_mapping(
            {
                "content_id": f"demo-post-{number + 1}",
                "account_id": account,
                "context": {"ip_address": f"192.0.2.{10 + number}", "visibility": "private"},
            }
        )
        content = pictures[index % len(pictures)]
        if source is RecordSource.UPLOAD:
            outcome = service.screen_upload(submission, content, submitted_by="demo:platform")
        else:
            outcome = service.flag(
                submission,
                source=source,
                submitted_by="demo:platform",
                content=content,
                note="demo: flagged by a user",
            )
        if outcome.record_id is not None:  # matched or sent to review: joins a case
            accounts.add(account)
    return len(accounts)
