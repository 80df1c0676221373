"""RetentionJob on SQLite and PostgreSQL: purges, audits each destruction in the same
transaction, keeps held items, survives concurrent workers."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from vigil.store import Database
from vigil.store.audit import AuditAction, AuditRecord, verify_chain
from vigil.store.evidence import (
    EvidenceShredded,
    EvidenceVault,
    HoldPolicy,
    LocalEvidenceBackend,
    MasterKey,
    place_report_hold,
)
from vigil.store.evidence.retention_job import RetentionJob, items_due
from vigil.store.models import EvidenceItem, EvidencePurge, utcnow

POLICY = HoldPolicy()


@pytest.fixture
def vault(tmp_path: Path) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(tmp_path / "evidence"),
        MasterKey.generate(),
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )


def store(database: Database, vault: EvidenceVault, *, expired: bool) -> EvidenceItem:
    now = utcnow()
    retain_until = now - timedelta(days=1) if expired else now + timedelta(days=30)
    with database.session() as session:
        return vault.put(
            session,
            os.urandom(256),
            now=now - timedelta(days=31),
            retain_until=retain_until,
            retention_policy="test policy",
        )


def deletion_records(database: Database) -> list[AuditRecord]:
    with database.session() as session:
        query = select(AuditRecord).where(AuditRecord.action == AuditAction.DELETION)
        return list(session.scalars(query.order_by(AuditRecord.seq)))


def chain_is_intact(database: Database) -> bool:
    with database.session() as session:
        return verify_chain(session).intact


def test_expired_item_is_purged_and_audited(database: Database, vault: EvidenceVault) -> None:
    expired, kept = store(database, vault, expired=True), store(database, vault, expired=False)

    run = RetentionJob(database, vault).run_once()

    assert run.purged == (expired.id,)
    [record] = deletion_records(database)
    assert record.actor == "retention" and record.subject_type == "evidence_item"
    assert record.subject_id == expired.id and record.details["item_id"] == expired.id
    assert record.details["retain_until"] == expired.retain_until.isoformat()
    assert "retention expired" in record.details["reason"]
    assert chain_is_intact(database)
    with database.session() as session:
        with pytest.raises(EvidenceShredded):
            vault.get(session, expired.id)
        assert vault.get(session, kept.id)
    assert RetentionJob(database, vault).run_once().purged == ()  # nothing twice
    assert len(deletion_records(database)) == 1


def test_held_item_is_kept_and_not_audited(database: Database, vault: EvidenceVault) -> None:
    held = store(database, vault, expired=True)
    with database.session() as session:
        place_report_hold(session, held.id, placed_by="analyst", reason="reported", policy=POLICY)
        assert items_due(session) == []

    assert RetentionJob(database, vault).run_once().purged == ()
    assert deletion_records(database) == []
    with database.session() as session:
        assert vault.get(session, held.id)


def test_items_due_lists_exactly_what_a_run_destroys(
    database: Database, vault: EvidenceVault
) -> None:
    first, second = store(database, vault, expired=True), store(database, vault, expired=True)
    store(database, vault, expired=False)
    with database.session() as session:
        due = items_due(session)
    assert {item.item_id for item in due} == {first.id, second.id}
    assert all(item.retention_policy == "test policy" for item in due)
    assert set(RetentionJob(database, vault).run_once().purged) == {first.id, second.id}


def test_run_sweeps_orphans(database: Database, vault: EvidenceVault) -> None:
    live = store(database, vault, expired=False)
    orphan = vault.seal(os.urandom(64))  # written, never committed
    run = RetentionJob(database, vault).run_once(now=utcnow() + timedelta(hours=2))
    assert run.orphans == 1
    blob_ids = {blob.blob_id for blob in vault.backend.blobs()}
    assert orphan.blob_id not in blob_ids and live.blob_id in blob_ids


def test_concurrent_runs_destroy_and_audit_each_item_once(
    database: Database, vault: EvidenceVault
) -> None:
    items = {store(database, vault, expired=True).id for _ in range(6)}
    job = RetentionJob(database, vault)
    runs, errors = [], []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            runs.append(job.run_once())
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == [] and len(runs) == 2
    purged = [item_id for run in runs for item_id in run.purged]
    assert sorted(purged) == sorted(items)  # each once, by one worker or the other
    assert sorted(record.subject_id for record in deletion_records(database)) == sorted(items)
    with database.session() as session:
        assert len(session.scalars(select(EvidencePurge)).all()) == len(items)
    assert chain_is_intact(database)


def test_audit_rolls_back_with_a_failed_destruction(
    database: Database, vault: EvidenceVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = store(database, vault, expired=True)

    def broken_append(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr("vigil.store.evidence.retention_job._append_deletion", broken_append)
    with pytest.raises(RuntimeError):
        RetentionJob(database, vault).run_once()
    # No audit record means no destruction either: the key is still there.
    with database.session() as session:
        assert vault.get(session, item.id)
        assert session.scalars(select(EvidencePurge)).all() == []

    monkeypatch.undo()
    assert RetentionJob(database, vault).run_once().purged == (item.id,)
    assert [record.subject_id for record in deletion_records(database)] == [item.id]
