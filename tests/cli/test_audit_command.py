"""`vigil audit verify` and `vigil audit show` through the CLI on SQLite and PostgreSQL:
exit 0 when the chain is intact, 1 when broken (naming the seq), 2 when the database is
unavailable."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, EXIT_OK, EXIT_REJECTED
from vigil.store import open_database
from vigil.store.audit import AuditAction, AuditLog

UNREACHABLE = "postgresql+psycopg://vigil@127.0.0.1:1/vigil"


def _run(tmp_path: Path, database_url: str, *args: str) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "VIGIL_DATABASE__CONNECT_TIMEOUT": "2",
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, ["audit", *args], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def _append(database_url: str, count: int) -> str:
    """Appends ``count`` records; returns the last one's hash."""
    database = open_database(database_url)
    try:
        with database.transaction(write=True) as session:
            log = AuditLog(session)
            records = [
                log.append(
                    AuditAction.DECISION,
                    actor="reviewer-1",
                    subject_type="case",
                    subject_id=str(number),
                    details={"outcome": "report"},
                )
                for number in range(count)
            ]
        return records[-1].hash
    finally:
        database.dispose()


def _tamper(database_url: str, statement: str) -> None:
    database = open_database(database_url)
    try:
        with database.engine.begin() as connection:
            if database.backend == "postgresql":
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                connection.exec_driver_sql("DROP TRIGGER audit_records_no_update")
            connection.exec_driver_sql(statement)
    finally:
        database.dispose()


def test_verify_intact_chain_exits_0(tmp_path: Path, database_url: str) -> None:
    last_hash = _append(database_url, 3)
    result = _run(tmp_path, database_url, "verify", "--anchor", f"3:{last_hash}")
    assert result.exit_code == EXIT_OK, result.output
    assert "intact: 3 records" in result.output and last_hash in result.output


def test_verify_broken_chain_exits_1_with_the_seq(tmp_path: Path, database_url: str) -> None:
    _append(database_url, 4)
    _tamper(database_url, "UPDATE audit_records SET actor = 'mallory' WHERE seq = 2")
    result = _run(tmp_path, database_url, "verify")
    assert result.exit_code == EXIT_REJECTED
    assert "BROKEN at seq 2" in result.output


def test_verify_unavailable_database_exits_2(tmp_path: Path) -> None:
    result = _run(tmp_path, UNREACHABLE, "verify")
    assert result.exit_code == EXIT_FATAL
    assert result.stderr.startswith("error:")


@pytest.mark.parametrize("anchor", ["3", "x:abc", "3:" + "g" * 64])
def test_verify_bad_anchor_exits_2(tmp_path: Path, sqlite_url: str, anchor: str) -> None:
    result = _run(tmp_path, sqlite_url, "verify", "--anchor", anchor)
    assert result.exit_code == EXIT_FATAL and "--anchor" in result.stderr


def test_show_prints_newest_first(tmp_path: Path, database_url: str) -> None:
    _append(database_url, 3)
    result = _run(tmp_path, database_url, "show", "--limit", "2")
    assert result.exit_code == EXIT_OK, result.output
    lines = result.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["3", "2"]
    assert "reviewer-1\tdecision\tcase:2" in lines[0]
    assert '{"outcome":"report"}' in lines[0]
