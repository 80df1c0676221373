"""`vigil triage` on both backends: show the weights, apply a new version (audited with the
OS user), refuse a changed file under an old version and a broken file in one line,
re-score, and print the queue most urgent first."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.triage import triage_rows as rows
from vigil.cli.app import app
from vigil.cli.database_access import EXIT_FATAL, default_actor
from vigil.store import Database
from vigil.store.models import AuditRecord, FileVerdict, ReportTriage
from vigil.store.models.audit import AuditAction
from vigil.triage.weights import load_weights

DEFAULT = load_weights()


def _run(tmp_path: Path, database_url: str, *args: str | Path) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, ["triage", *map(str, args)], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


def _reports(database: Database) -> tuple[int, int]:
    with database.transaction(write=True) as session:
        owner = rows.company(session)
        urgent = rows.report(
            session,
            owner,
            rows.document(escalation="a child is at risk"),
            [(FileVerdict.NEW, "A1", [])],
        )
        quiet = rows.report(session, owner, files=[(FileVerdict.KNOWN, "B2", [])])
        return urgent.id, quiet.id


def test_show_rescore_queue_and_apply(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    urgent, quiet = _reports(database)
    shown = _run(tmp_path, database_url, "weights", "show")
    assert shown.exit_code == 0 and DEFAULT.sha256 in shown.output
    assert 'version = "2026-12-2"' in shown.output

    scored = _run(tmp_path, database_url, "rescore")
    assert scored.exit_code == 0 and "scored 2 reports" in scored.output
    queue = _run(tmp_path, database_url, "queue", "--limit", "5")
    lines = queue.output.splitlines()
    assert f"report {urgent}" in lines[0] and f"report {quiet}" in lines[1]
    assert "escalation +20" in lines[0]

    changed = tmp_path / "weights.toml"
    changed.write_bytes(
        DEFAULT.content.replace(b'"2026-12-2"', b'"local-1"').replace(
            b"escalation = 20.0", b"escalation = 5.0"
        )
    )
    applied = _run(tmp_path, database_url, "weights", "apply", "--file", changed)
    assert applied.exit_code == 0 and "2 reports re-scored" in applied.output
    with database.transaction() as session:
        assert session.get(ReportTriage, urgent).weights_version == "local-1"
        [audit] = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.TRIAGE_WEIGHTS)
        )
        assert audit.actor == default_actor() and audit.subject_id == "local-1"
    history = _run(tmp_path, database_url, "weights", "show", "--applied")
    assert "local-1" in history.output

    changed.write_bytes(changed.read_bytes().replace(b"escalation = 5.0", b"escalation = 6.0"))
    refused = _run(tmp_path, database_url, "weights", "apply", "--file", changed)
    assert refused.exit_code == EXIT_FATAL and "new version" in refused.stderr


def test_a_broken_weights_file_fails_in_one_line(tmp_path: Path, database_url: str) -> None:
    broken = tmp_path / "weights.toml"
    broken.write_bytes(DEFAULT.content.replace(b"escalation = 20.0", b"escalation = -3"))
    result = _run(tmp_path, database_url, "weights", "apply", "--file", broken)
    assert result.exit_code == EXIT_FATAL
    assert result.stderr.strip().startswith("error: weights file: weights.escalation")
    assert len(result.stderr.strip().splitlines()) == 1
