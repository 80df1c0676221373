"""Retroactive matching after an exchange's scheduled fetch (vigil.jobs.exchange_retro), on
SQLite and PostgreSQL: a stored backlog fingerprint of a benign corpus image, an exchange
whose delta adds that image's hash. With the exchange's switch on the stored object is
newly matched and queued for review; with it off nothing happens; a retro that fails is
recorded (and logged with the exchange's name) while the fetch still succeeds, and the
next round matches the changes it missed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.exchanges.memory_exchange import MemoryExchange, record
from tests.screening.listed import fingerprint
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.jobs.exchange_retro import FetchRound, fetch_then_retro
from vigil.lists.formats.records import SignalType
from vigil.screening.backlog.fingerprint_store import FingerprintStore
from vigil.screening.backlog.objects import ObjectRef
from vigil.screening.backlog.retro_round import retro_round
from vigil.screening.backlog.scan_job import job_store_dir
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange, get_exchange, set_retro_after_fetch
from vigil.store.job_locks import held_alone
from vigil.store.lists.catalogue import create_list
from vigil.store.models import Exchange, FetchState, ScanJobMatch
from vigil.store.scan_jobs.jobs import start_job
from vigil.store.scan_jobs.retro_state import RETRO_LOCK, RetroSummary, retro_summary

KEY = MasterKey.generate()
STORED = ObjectRef("s3", "media", "photos/cat.jpg", "v1", None)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def backlog(database: Database, data_dir: Path, corpus_images: list[Path]) -> str:
    """A scan job whose store holds one benign image's fingerprint; its SHA-256."""
    with database.transaction(write=True) as session:
        job = start_job(session, source="s3://media/", engine="local", options={}, store_dir="")
        job.store_dir = str(job_store_dir(data_dir, job.id))
        store = FingerprintStore(Path(job.store_dir))
    stored = fingerprint(corpus_images[0])
    store.write_part(1, [(STORED, stored)])
    assert stored.sha256 is not None
    return stored.sha256


def _exchange(database: Database, *, retro: bool) -> None:
    with database.transaction(write=True) as session:
        create_list(session, "shared", actor="admin")
        create_exchange(
            session,
            "ncmec",
            kind="ncmec",
            base_url="https://exchange.example",
            credentials={"username": "u", "password": "p"},
            list_names=["shared"],
            master_key=KEY,
            actor="admin",
        )
        set_retro_after_fetch(session, "ncmec", retro, actor="admin")


def _fetch(database: Database, data_dir: Path, sha256: str) -> FetchRound:
    def delta(_exchange: Exchange, _key: MasterKey) -> ExchangeClient:
        return MemoryExchange([[record("e-1", sha256, SignalType.SHA256)]])

    return fetch_then_retro(database, KEY, data_dir, client_for=delta)


def _queued(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(ScanJobMatch.identity, ScanJobMatch.signal_type)).all()
        return [(identity, signal) for identity, signal in rows]


def _summary(database: Database) -> RetroSummary:
    with database.session() as session:
        return retro_summary(session)


def _fetch_succeeded(database: Database) -> bool:
    with database.session() as session:
        exchange = get_exchange(session, "ncmec")
        return exchange.fetch_state is FetchState.SUCCEEDED and exchange.last_error is None


def test_with_the_switch_on_a_stored_object_the_delta_lists_is_queued_for_review(
    database: Database, data_dir: Path, backlog: str
) -> None:
    _exchange(database, retro=True)
    done = _fetch(database, data_dir, backlog)
    [report] = done.reports
    assert report.succeeded and report.entries == 1
    assert done.retro is not None and done.retro_error is None
    assert (done.retro.objects, done.retro.queued) == (1, 1)
    assert _queued(database) == [(STORED.identity, "sha256")]
    summary = _summary(database)
    assert (summary.last_matches, summary.last_error) == (1, None)
    assert summary.last_by is not None and "ncmec" in summary.last_by
    assert summary.checkpoint > 0
    # The next run is not due: nothing fetched, nothing stored, no round.
    again = _fetch(database, data_dir, backlog)
    assert again.reports == [] and again.retro is None
    assert _summary(database) == summary


def test_with_the_switch_off_nothing_is_matched(
    database: Database, data_dir: Path, backlog: str
) -> None:
    _exchange(database, retro=False)
    done = _fetch(database, data_dir, backlog)
    assert done.reports[0].entries == 1 and done.retro is None
    assert _queued(database) == []
    assert _summary(database).last_at is None


def test_a_failed_retro_is_recorded_and_the_fetch_still_succeeds(
    database: Database, data_dir: Path, backlog: str, caplog: pytest.LogCaptureFixture
) -> None:
    _exchange(database, retro=True)
    [part] = (data_dir / "scan-jobs").glob("job-*/part-*.parquet")
    kept = part.read_bytes()
    part.write_bytes(b"not parquet at all")  # the store cannot be read
    with caplog.at_level(logging.ERROR, logger="vigil.jobs.exchange_retro"):
        done = _fetch(database, data_dir, backlog)
    assert done.reports[0].succeeded and _fetch_succeeded(database)
    assert done.retro is None and done.retro_error is not None
    assert any("ncmec" in r.getMessage() for r in caplog.records)
    summary = _summary(database)
    assert summary.last_error is not None and summary.last_matches is None
    assert summary.last_by is not None and "ncmec" in summary.last_by
    assert summary.checkpoint == 0  # the changes are matched again by the next round
    assert _queued(database) == []
    part.write_bytes(kept)
    round_ = retro_round(database, data_dir, None)
    assert round_.queued == 1 and _queued(database) == [(STORED.identity, "sha256")]
    assert _summary(database).last_error is None


def test_a_round_running_elsewhere_is_left_alone_and_misses_nothing(
    database: Database, data_dir: Path, backlog: str
) -> None:
    _exchange(database, retro=True)
    with held_alone(database, RETRO_LOCK) as held:
        assert held
        done = _fetch(database, data_dir, backlog)
    assert done.reports[0].entries == 1 and done.retro is None and done.retro_error is None
    assert _queued(database) == [] and _summary(database).checkpoint == 0
    assert retro_round(database, data_dir, None).queued == 1
