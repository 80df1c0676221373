"""The exchange jobs of the registry, built as the workers build them and run against the fake
services over loopback: "exchanges" fetches due exchanges into their lists (and skips one
being fetched elsewhere), "exchange-feedback" sends queued verdicts and settles them: sent,
retried with backoff after a server error, failed for good (with the service's message) when
the service takes no feedback or refuses the credentials."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.exchanges.fakes.faults import server_error
from tests.exchanges.fakes.serving import FakeService, serving
from tests.exchanges.fakes.stopncii import KEYS, ROOT, WRONG_KEYS, FakeStopNcii
from tests.exchanges.fakes.tat import CREDENTIALS as TAT_CREDENTIALS
from tests.exchanges.fakes.tat import FakeTat
from vigil.core.settings import load_settings
from vigil.exchanges.fetching import fetch_lock_name
from vigil.jobs.registry import REGISTRY, JobServices, Work
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.evidence import EvidenceVault, LocalEvidenceBackend, MasterKey
from vigil.store.exchanges.catalogue import create_exchange, get_exchange
from vigil.store.exchanges.feedback_queue import enqueue_feedback, feedback_of_exchange
from vigil.store.job_locks import held_alone
from vigil.store.lists.catalogue import create_list
from vigil.store.models import (
    ExchangeFeedback,
    FeedbackState,
    FetchState,
    HashList,
    ListEntry,
    utcnow,
)

KEY = MasterKey.generate()


@pytest.fixture
def services(database: Database, tmp_path: Path) -> JobServices:
    vault = EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        KEY,
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )
    return JobServices(load_settings(data_dir=tmp_path), database, vault)


@pytest.fixture
def stopncii() -> Iterator[tuple[FakeStopNcii, FakeService]]:
    fake = FakeStopNcii(page_size=3)
    for _ in range(7):
        fake.add("ImagePDQ", secrets.token_hex(32))
    with serving(fake) as service:
        yield fake, service


def _job(name: str, services: JobServices) -> Work:
    [spec] = [spec for spec in REGISTRY if spec.name == name]
    assert spec.needs_vault and not spec.exclusive  # each exchange has its own lock
    return spec.build(services)


def _exchange(
    database: Database, name: str, kind: str, url: str, credentials: dict[str, str]
) -> None:
    with database.transaction(write=True) as session:
        create_list(session, f"{name}-list", actor="admin")
        create_exchange(
            session,
            name,
            kind=kind,
            base_url=url,
            credentials=credentials,
            list_names=[f"{name}-list"],
            master_key=KEY,
            actor="admin",
        )


def _entries(database: Database, list_name: str) -> int:
    with database.session() as session:
        return int(
            session.scalar(
                select(func.count(ListEntry.id)).join(HashList).where(HashList.name == list_name)
            )
            or 0
        )


def _queue(database: Database, exchange: str, count: int = 1) -> list[int]:
    ids = []
    with database.transaction(write=True) as session:
        for _ in range(count):
            item = enqueue_feedback(
                session,
                exchange,
                external_id=secrets.token_hex(8),
                signal_type="pdq",
                signal=secrets.token_hex(32),
                verdict="negative",
                reason="not NCII",
                actor="reviewer",
            )
            assert item is not None
            ids.append(item.id)
    return ids


def _item(database: Database, feedback_id: int) -> ExchangeFeedback:
    with database.session() as session:
        item = session.get(ExchangeFeedback, feedback_id)
        assert item is not None
        session.expunge(item)
        return item


def test_the_exchanges_job_fetches_due_exchanges_once_per_interval(
    database: Database,
    services: JobServices,
    stopncii: tuple[FakeStopNcii, FakeService],
) -> None:
    fake, service = stopncii
    _exchange(database, "ncii", "stopncii", service.url(ROOT), KEYS)
    work = _job("exchanges", services)
    [report] = work.run_once()  # type: ignore[misc]
    assert report.succeeded and _entries(database, "ncii-list") == 7
    fetches = len(service.requests)
    fake.add("ImagePDQ", secrets.token_hex(32))
    assert work.run_once() == []  # not due again before its interval (plus jitter)
    assert len(service.requests) == fetches
    with database.session() as session:
        assert get_exchange(session, "ncii").fetch_state is FetchState.SUCCEEDED


def test_the_exchanges_job_skips_an_exchange_fetched_by_another_process(
    database: Database,
    services: JobServices,
    stopncii: tuple[FakeStopNcii, FakeService],
) -> None:
    _fake, service = stopncii
    _exchange(database, "ncii", "stopncii", service.url(ROOT), KEYS)
    with database.session() as session:
        exchange_id = get_exchange(session, "ncii").id
    with held_alone(database, fetch_lock_name(exchange_id)) as held:
        assert held
        assert _job("exchanges", services).run_once() == []
    assert service.requests == [] and _entries(database, "ncii-list") == 0


def test_queued_feedback_is_sent_and_audited(
    database: Database,
    services: JobServices,
    stopncii: tuple[FakeStopNcii, FakeService],
) -> None:
    fake, service = stopncii
    _exchange(database, "ncii", "stopncii", service.url(ROOT), KEYS)
    [feedback_id] = _queue(database, "ncii")
    result = _job("exchange-feedback", services).run_once()
    assert (result.sent, result.failed, result.retrying) == (1, 0, 0)  # type: ignore[attr-defined]
    [sent] = fake.feedback
    assert sent["hashFeedbacks"][0]["feedbackValue"] == "NotBlocked"
    item = _item(database, feedback_id)
    assert (item.state, item.attempts, item.last_error) == (FeedbackState.SENT, 1, None)
    assert _job("exchange-feedback", services).run_once().claimed == 0  # type: ignore[attr-defined]
    with database.session() as session:
        changes = session.scalars(
            select(AuditRecord.details).where(AuditRecord.subject_id == str(feedback_id))
        ).all()
    assert [change["change"] for change in changes] == ["feedback_queued", "feedback_sent"]


def test_a_server_error_leaves_feedback_pending_with_backoff(
    database: Database,
    services: JobServices,
    stopncii: tuple[FakeStopNcii, FakeService],
) -> None:
    fake, service = stopncii
    _exchange(database, "ncii", "stopncii", service.url(ROOT), KEYS)
    [feedback_id] = _queue(database, "ncii")
    fake.faults.add(server_error(503), path_suffix="SubmitFeedback")
    before = utcnow()
    result = _job("exchange-feedback", services).run_once()
    assert (result.sent, result.retrying) == (0, 1)  # type: ignore[attr-defined]
    item = _item(database, feedback_id)
    assert (item.state, item.attempts) == (FeedbackState.PENDING, 1)
    assert item.last_error is not None and item.last_error.startswith("server")
    assert item.next_attempt_at.replace(tzinfo=None) >= before.replace(tzinfo=None) + timedelta(
        seconds=59
    )
    assert _job("exchange-feedback", services).run_once().claimed == 0  # type: ignore[attr-defined]
    assert fake.feedback == []


def test_refused_credentials_fail_feedback_for_good_without_the_key(
    database: Database,
    services: JobServices,
    stopncii: tuple[FakeStopNcii, FakeService],
) -> None:
    fake, service = stopncii
    _exchange(
        database,
        "ncii",
        "stopncii",
        service.url(ROOT),
        WRONG_KEYS | {"feedback_function_key": "wrong-feedback-key-000"},
    )
    [feedback_id] = _queue(database, "ncii")
    result = _job("exchange-feedback", services).run_once()
    assert result.failed == 1  # type: ignore[attr-defined]
    item = _item(database, feedback_id)
    assert item.state is FeedbackState.FAILED and item.attempts == 1
    assert item.last_error is not None and item.last_error.startswith("credentials")
    assert "wrong-feedback-key-000" not in item.last_error and fake.feedback == []


def test_an_exchange_taking_no_feedback_fails_it_for_good_with_the_reason(
    database: Database, services: JobServices
) -> None:
    with serving(FakeTat()) as service:
        _exchange(database, "tat", "tat", service.url(""), TAT_CREDENTIALS)
        ids = _queue(database, "tat", count=2)
        result = _job("exchange-feedback", services).run_once()
    assert (result.failed, result.sent) == (2, 0)  # type: ignore[attr-defined]
    for feedback_id in ids:
        item = _item(database, feedback_id)
        assert item.state is FeedbackState.FAILED and item.attempts == 1
        assert item.last_error is not None and "unsupported" in item.last_error
    with database.session() as session:
        failed = feedback_of_exchange(session, "tat", FeedbackState.FAILED)
    assert sorted(item.id for item in failed) == sorted(ids)


def test_credentials_under_another_key_leave_feedback_to_retry(
    database: Database, services: JobServices, stopncii: tuple[FakeStopNcii, FakeService]
) -> None:
    _fake, service = stopncii
    with database.transaction(write=True) as session:
        create_list(session, "lost-list", actor="admin")
        create_exchange(
            session,
            "lost",
            kind="stopncii",
            base_url=service.url(ROOT),
            credentials=KEYS,
            list_names=["lost-list"],
            master_key=MasterKey.generate(),
            actor="admin",
        )
    [feedback_id] = _queue(database, "lost")
    result = _job("exchange-feedback", services).run_once()
    assert result.retrying == 1  # type: ignore[attr-defined]
    item = _item(database, feedback_id)
    assert item.state is FeedbackState.PENDING and item.last_error is not None
    assert "master key" in item.last_error and service.requests == []
