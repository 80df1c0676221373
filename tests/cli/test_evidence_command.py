"""`vigil evidence` through the CLI on SQLite and PostgreSQL: master key files, the purge
(and its dry run), the orphan sweep and legal holds. Content is random bytes only."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, EXIT_OK
from vigil.store import Database, open_database
from vigil.store.audit import AuditAction, AuditRecord, verify_chain
from vigil.store.evidence import (
    EvidenceShredded,
    EvidenceVault,
    HoldPolicy,
    LocalEvidenceBackend,
    MasterKey,
    place_report_hold,
    release_hold,
)
from vigil.store.models import EvidenceItem, LegalHold, utcnow

POLICY = HoldPolicy(preservation_days=90)


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return (tmp_path / "data").resolve()


@pytest.fixture
def vault(data_dir: Path, master_key: MasterKey) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(data_dir / "evidence"),
        master_key,
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    try:
        yield database
    finally:
        database.dispose()


def run(tmp_path: Path, database_url: str, *args: str, key: MasterKey | None = None) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_DATABASE__CONNECT_TIMEOUT": "2",
        "COLUMNS": "200",
        "XDG_CONFIG_HOME": str(tmp_path / "config-home"),
        "VIGIL_EVIDENCE__MASTER_KEY": base64.b64encode(key.material).decode() if key else None,
        "VIGIL_EVIDENCE__MASTER_KEY_FILE": None,
    }
    result = CliRunner().invoke(app, ["evidence", *args], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def store(db: Database, vault: EvidenceVault, *, expired: bool) -> EvidenceItem:
    now = utcnow()
    with db.session() as session:
        return vault.put(
            session,
            os.urandom(128),
            now=now - timedelta(days=40),
            retain_until=now + timedelta(days=-1 if expired else 30),
            retention_policy="cli test",
        )


def audit_records(db: Database, action: AuditAction) -> list[AuditRecord]:
    with db.session() as session:
        query = select(AuditRecord).where(AuditRecord.action == action)
        return list(session.scalars(query.order_by(AuditRecord.seq)))


def holds_of(db: Database, item_id: str) -> list[LegalHold]:
    with db.session() as session:
        query = select(LegalHold).where(LegalHold.item_id == item_id).order_by(LegalHold.id)
        return list(session.scalars(query))


def is_readable(db: Database, vault: EvidenceVault, item_id: str) -> bool:
    with db.session() as session:
        try:
            return bool(vault.get(session, item_id))
        except EvidenceShredded:
            return False


# new-key


def test_new_key_writes_the_default_file_and_never_prints_the_key(
    tmp_path: Path, sqlite_url: str
) -> None:
    result = run(tmp_path, sqlite_url, "new-key")
    assert result.exit_code == EXIT_OK, result.output
    path = tmp_path / "config-home" / "vigil" / "master.key"
    key = MasterKey.from_base64(path.read_text())
    assert result.stdout.startswith(f"{path}\tkey id {key.key_id}")
    assert "back this key file up" in result.stderr.lower()
    encoded = path.read_text().strip()
    assert encoded not in result.output + result.stderr

    again = run(tmp_path, sqlite_url, "new-key")
    assert again.exit_code == EXIT_FATAL and "refusing to overwrite" in again.stderr
    assert path.read_text().strip() == encoded


def test_new_key_out_path_explains_how_to_use_it(tmp_path: Path, sqlite_url: str) -> None:
    out = tmp_path / "secrets" / "evidence.key"
    result = run(tmp_path, sqlite_url, "new-key", "--out", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert out.is_file() and f"VIGIL_EVIDENCE__MASTER_KEY_FILE={out}" in result.stderr


def test_new_key_refuses_the_data_directory(tmp_path: Path, sqlite_url: str) -> None:
    out = tmp_path / "data" / "evidence" / "master.key"
    result = run(tmp_path, sqlite_url, "new-key", "--out", str(out))
    assert result.exit_code == EXIT_FATAL and "inside the data directory" in result.stderr
    assert not out.exists()


# purge and sweep


def test_purge_dry_run_changes_nothing(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    expired, fresh = store(db, vault, expired=True), store(db, vault, expired=False)
    held = store(db, vault, expired=True)
    with db.session() as session:
        place_report_hold(session, held.id, placed_by="analyst", reason="report", policy=POLICY)

    result = run(tmp_path, database_url, "purge", "--dry-run")  # needs no master key

    assert result.exit_code == EXIT_OK, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines[:-1]] == [["would purge", expired.id]]
    assert lines[0].endswith("\tcli test") and "nothing destroyed" in lines[-1]
    assert all(is_readable(db, vault, item.id) for item in (expired, fresh, held))
    assert audit_records(db, AuditAction.DELETION) == []


def test_purge_destroys_and_audits(
    tmp_path: Path,
    database_url: str,
    db: Database,
    vault: EvidenceVault,
    master_key: MasterKey,
) -> None:
    expired, fresh = store(db, vault, expired=True), store(db, vault, expired=False)

    result = run(tmp_path, database_url, "purge", key=master_key)

    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.splitlines() == [
        f"purged\t{expired.id}",
        "purged 1 evidence items, removed 0 orphan blobs",
    ]
    assert not is_readable(db, vault, expired.id) and is_readable(db, vault, fresh.id)
    assert [record.subject_id for record in audit_records(db, AuditAction.DELETION)] == [expired.id]


def test_purge_without_a_master_key_does_nothing(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    expired = store(db, vault, expired=True)
    result = run(tmp_path, database_url, "purge")
    assert result.exit_code == EXIT_FATAL and "no evidence master key" in result.stderr
    assert is_readable(db, vault, expired.id)


def test_sweep_removes_old_orphans_only(
    tmp_path: Path,
    sqlite_url: str,
    data_dir: Path,
    master_key: MasterKey,
) -> None:
    database = open_database(sqlite_url)
    vault = EvidenceVault(
        LocalEvidenceBackend(data_dir / "evidence"),
        master_key,
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )
    try:
        live = store(database, vault, expired=False)
        old, recent = vault.seal(os.urandom(64)), vault.seal(os.urandom(64))  # never committed
    finally:
        database.dispose()
    old_file = data_dir / "evidence" / old.blob_id[:2] / old.blob_id
    os.utime(old_file, (0, 0))

    result = run(tmp_path, sqlite_url, "sweep", key=master_key)

    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.splitlines() == [f"removed\t{old.blob_id}", "removed 1 orphan blobs"]
    remaining = {blob.blob_id for blob in vault.backend.blobs()}
    assert remaining == {live.blob_id, recent.blob_id}


# legal holds


def test_holds_lists_active_and_released(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    item = store(db, vault, expired=False)
    with db.session() as session:
        first = place_report_hold(
            session, item.id, placed_by="analyst", reason="report 1", policy=POLICY
        )
        second = place_report_hold(
            session, item.id, placed_by="analyst", reason="report 2", policy=POLICY
        )
        release_hold(session, first.id, released_by="legal")

    result = run(tmp_path, database_url, "holds", item.id)

    assert result.exit_code == EXIT_OK, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"#{first.id}\treport\treleased ") and "by legal" in lines[0]
    assert lines[1].startswith(f"#{second.id}\treport\tactive\t")
    assert lines[1].endswith("\treport 2")


def test_holds_of_an_item_without_any(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    item = store(db, vault, expired=False)
    result = run(tmp_path, database_url, "holds", item.id)
    assert result.exit_code == EXIT_OK and "no legal holds" in result.stdout


@pytest.mark.parametrize("item_id", ["nope", "../" + "a" * 30, "a" * 33, "g" * 32])
def test_holds_rejects_malformed_item_ids(tmp_path: Path, sqlite_url: str, item_id: str) -> None:
    result = run(tmp_path, sqlite_url, "holds", item_id)
    assert result.exit_code == EXIT_FATAL and "32 hex digits" in result.stderr


def test_holds_of_an_unknown_item(tmp_path: Path, sqlite_url: str) -> None:
    result = run(tmp_path, sqlite_url, "holds", "0" * 32)
    assert result.exit_code == EXIT_FATAL and "no evidence item" in result.stderr


def test_preserve_extends_the_hold_and_is_audited(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    item = store(db, vault, expired=True)
    with db.session() as session:
        report = place_report_hold(
            session, item.id, placed_by="analyst", reason="report", policy=POLICY
        )

    result = run(
        tmp_path,
        database_url,
        "preserve",
        item.id,
        "--reason",
        "2703(f) ref 42",
        "--days",
        "30",
        "--requested-by",
        "Example Police",
    )

    assert result.exit_code == EXIT_OK, result.output
    preservation = holds_of(db, item.id)[-1]
    assert preservation.kind.value == "preservation_request"
    assert preservation.expires_at == report.expires_at + timedelta(days=30)
    assert preservation.reason == "2703(f) ref 42 (requested by Example Police)"
    assert f"hold #{preservation.id} on evidence item {item.id}" in result.stdout
    [record] = audit_records(db, AuditAction.DECISION)
    assert record.subject_id == item.id and record.details["decision"] == "preservation_hold"
    assert record.details["requested_by"] == "Example Police" and record.details["days"] == 30
    with db.session() as session:
        assert verify_chain(session).intact


def test_preserve_a_shredded_item_fails_and_audits_nothing(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    item = store(db, vault, expired=True)
    with db.session() as session:
        vault.shred(session, item.id, actor="analyst", reason="duplicate")
    result = run(tmp_path, database_url, "preserve", item.id, "--reason", "too late")
    assert result.exit_code == EXIT_FATAL and "shredded" in result.stderr
    assert holds_of(db, item.id) == [] and audit_records(db, AuditAction.DECISION) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--reason", ""],
        ["--reason", "   "],
        ["--reason", "x" * 2001],
        ["--reason", "line one\nforged line"],
        ["--reason", "ok", "--days", "0"],
        ["--reason", "ok", "--days", "3651"],
        ["--reason", "ok", "--requested-by", "y" * 201],
    ],
)
def test_preserve_rejects_bad_input(
    tmp_path: Path, sqlite_url: str, data_dir: Path, master_key: MasterKey, args: list[str]
) -> None:
    database = open_database(sqlite_url)
    vault = EvidenceVault(
        LocalEvidenceBackend(data_dir / "evidence"),
        master_key,
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )
    try:
        item = store(database, vault, expired=False)
        result = run(tmp_path, sqlite_url, "preserve", item.id, *args)
        assert result.exit_code == EXIT_FATAL  # also Typer's code for a bad option value
        assert holds_of(database, item.id) == []
    finally:
        database.dispose()


def test_release_hold_records_the_reason_once(
    tmp_path: Path, database_url: str, db: Database, vault: EvidenceVault
) -> None:
    item = store(db, vault, expired=False)
    with db.session() as session:
        hold = place_report_hold(
            session, item.id, placed_by="analyst", reason="report", policy=POLICY
        )

    result = run(tmp_path, database_url, "release-hold", str(hold.id), "--reason", "case closed")

    assert result.exit_code == EXIT_OK, result.output
    assert f"hold #{hold.id} on evidence item {item.id} released" in result.stdout
    [released] = holds_of(db, item.id)
    assert released.released_at is not None and released.released_by
    [record] = audit_records(db, AuditAction.DECISION)
    assert record.subject_type == "legal_hold" and record.subject_id == str(hold.id)
    assert record.details == {
        "decision": "release_legal_hold",
        "item_id": item.id,
        "kind": "report",
        "reason": "case closed",
    }

    again = run(tmp_path, database_url, "release-hold", str(hold.id), "--reason", "again")
    assert again.exit_code == EXIT_OK and "already released" in again.stdout
    assert len(audit_records(db, AuditAction.DECISION)) == 1


@pytest.mark.parametrize("hold_id", ["999", "0", "-1", "x", str(2**63)])
def test_release_hold_rejects_unknown_and_malformed_ids(
    tmp_path: Path, sqlite_url: str, hold_id: str
) -> None:
    result = run(tmp_path, sqlite_url, "release-hold", hold_id, "--reason", "r")
    assert result.exit_code != EXIT_OK
    if hold_id == "999":
        assert result.exit_code == EXIT_FATAL and "no legal hold #999" in result.stderr
