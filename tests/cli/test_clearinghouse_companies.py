"""`vigil clearinghouse` company administration: list, disable / enable, new password; each
change audited, passwords never echoed. Both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from vigil.clearinghouse.companies import add_company, authenticate_company
from vigil.cli.app import app as cli_app
from vigil.store import Database
from vigil.store.models import AuditAction, AuditRecord

pytestmark = pytest.mark.usefixtures("cheap_argon2")
OLD, NEW = "first-long-password", "second-long-password"


@pytest.fixture
def run(database_url: str, tmp_path: Path, database: Database):  # type: ignore[no-untyped-def]
    with database.transaction(write=True) as session:
        add_company(session, "Platform A", "platform-a", OLD)
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "cli"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "COLUMNS": "200",
    }

    def invoke(*args: str, stdin: str = "") -> Result:
        result = CliRunner().invoke(
            cli_app, ["clearinghouse", *args], input=stdin, env=env, catch_exceptions=False
        )
        assert "Traceback" not in result.output + result.stderr
        return result

    return invoke


def _changes(database: Database) -> list[str]:
    with database.session() as session:
        return [
            record.details["change"]
            for record in session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.action == AuditAction.USER_CHANGED,
                    AuditRecord.subject_type == "intake_company",
                )
                .order_by(AuditRecord.seq)  # without it PostgreSQL may return any order
            )
        ]


def test_disable_and_enable_a_company(run, database: Database) -> None:  # type: ignore[no-untyped-def]
    assert run("disable-company", "platform-a").exit_code == 0
    listed = run("list-companies")
    assert "platform-a" in listed.output and "disabled" in listed.output
    with database.session() as session:
        assert authenticate_company(session, "platform-a", OLD) is None
    assert run("enable-company", "platform-a").exit_code == 0
    with database.session() as session:
        assert authenticate_company(session, "platform-a", OLD) is not None
    assert _changes(database) == ["disabled", "enabled"]


def test_a_new_password_replaces_the_old(run, database: Database) -> None:  # type: ignore[no-untyped-def]
    result = run("set-password", "platform-a", "--password-stdin", stdin=NEW + "\n")
    assert result.exit_code == 0 and NEW not in result.output
    with database.session() as session:
        assert authenticate_company(session, "platform-a", NEW) is not None
        assert authenticate_company(session, "platform-a", OLD) is None
    assert _changes(database) == ["password"]


def test_refusals_are_plain_and_change_nothing(run, database: Database) -> None:  # type: ignore[no-untyped-def]
    missing = run("disable-company", "nobody")
    assert missing.exit_code == 2 and "no reporting company" in missing.stderr
    weak = run("set-password", "platform-a", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 2 and "short" not in weak.stderr
    hostile = run("set-password", "x" * 5000, "--password-stdin", stdin=NEW + "\n")
    assert hostile.exit_code == 2
    with database.session() as session:
        assert authenticate_company(session, "platform-a", OLD) is not None
    assert _changes(database) == []
