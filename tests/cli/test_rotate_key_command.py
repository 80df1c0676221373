"""`vigil evidence rotate-key` on SQLite and PostgreSQL: evidence moves to the new key, the
command says what to change and never prints a key, and bad new keys are refused before
anything changes. Content is random bytes only."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, EXIT_OK
from vigil.store import Database
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.evidence import (
    EvidenceVault,
    LocalEvidenceBackend,
    MasterKey,
    WrongMasterKey,
)
from vigil.store.evidence.keys import write_master_key_file
from vigil.store.models import EvidenceItem


def _run(tmp_path: Path, database_url: str, key: MasterKey | None, *args: str) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_DATABASE__CONNECT_TIMEOUT": "2",
        "COLUMNS": "200",
        "XDG_CONFIG_HOME": str(tmp_path / "config-home"),
        "VIGIL_EVIDENCE__MASTER_KEY": base64.b64encode(key.material).decode() if key else None,
        "VIGIL_EVIDENCE__MASTER_KEY_FILE": None,
        "VIGIL_AGENCY__SIGNING_KEY_FILE": None,
    }
    result = CliRunner().invoke(
        app, ["evidence", "rotate-key", *args], env=env, catch_exceptions=False
    )
    assert "Traceback" not in result.output + result.stderr
    return result


def _vault(tmp_path: Path, key: MasterKey) -> EvidenceVault:
    return EvidenceVault(
        LocalEvidenceBackend(tmp_path / "data" / "evidence"),
        key,
        max_bytes=1 << 20,
        retention=timedelta(days=30),
    )


def _stored(database: Database, vault: EvidenceVault, count: int) -> dict[str, bytes]:
    contents = {}
    with database.session() as session:
        for _ in range(count):
            content = os.urandom(100)
            contents[vault.put(session, content).id] = content
    return contents


def test_rotate_key_moves_evidence_and_says_what_to_change(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    old = MasterKey.generate()
    contents = _stored(database, _vault(tmp_path, old), 3)
    path = tmp_path / "keys" / "master-2.key"
    new = write_master_key_file(path)

    result = _run(tmp_path, database_url, old, "--new-key", str(path), "--batch-size", "2")
    assert result.exit_code == EXIT_OK, result.output
    assert f"rotated from key {old.key_id} to key {new.key_id}: 3 evidence items" in result.stdout
    assert f"VIGIL_EVIDENCE__MASTER_KEY_FILE={path}" in result.stderr
    assert "remove VIGIL_EVIDENCE__MASTER_KEY" in result.stderr
    # The agency signing key was found beside the default key location: it must stay put.
    assert "VIGIL_AGENCY__SIGNING_KEY_FILE=" in result.stderr
    for key in (old, new):
        assert base64.b64encode(key.material).decode() not in result.output + result.stderr
    with database.session() as session:
        for item_id, content in contents.items():
            assert _vault(tmp_path, new).get(session, item_id) == content
            with pytest.raises(WrongMasterKey):
                _vault(tmp_path, old).get(session, item_id)
        [record] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.MASTER_KEY_ROTATED)
        ).all()
        assert record.details["evidence_items"] == 3

    again = _run(tmp_path, database_url, old, "--new-key", str(path))  # a re-run: no-op
    assert again.exit_code == EXIT_OK and ": 0 evidence items" in again.stdout
    same = _run(tmp_path, database_url, new, "--new-key", str(path))
    assert same.exit_code == EXIT_FATAL and "the new key is the current key" in same.stderr


def test_rotate_key_refuses_bad_new_keys_before_changing_anything(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    old = MasterKey.generate()
    _stored(database, _vault(tmp_path, old), 1)
    shared = tmp_path / "keys" / "shared.key"
    write_master_key_file(shared)
    shared.chmod(0o644)
    garbage = tmp_path / "keys" / "garbage.key"
    garbage.write_text("not a key\n")
    garbage.chmod(0o600)
    inside = tmp_path / "data" / "inside.key"
    write_master_key_file(inside)
    cases = {
        shared: "readable by other users",
        garbage: "not valid base64",
        tmp_path / "keys" / "missing.key": "cannot read",
        inside: "inside the data directory",
    }
    for path, reason in cases.items():
        result = _run(tmp_path, database_url, old, "--new-key", str(path))
        assert result.exit_code == EXIT_FATAL and reason in result.stderr, result.stderr
    no_key = _run(tmp_path, database_url, None, "--new-key", str(garbage))
    assert no_key.exit_code == EXIT_FATAL and "no evidence master key" in no_key.stderr
    with database.session() as session:
        assert {item.master_key_id for item in session.scalars(select(EvidenceItem))} == {
            old.key_id
        }
