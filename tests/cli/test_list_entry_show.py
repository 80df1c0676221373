"""`vigil lists show NAME --entry ENTRY` (issue 16), on SQLite and PostgreSQL: one entry by id
or hash with where it came from and the feedback on it, the fields the API answers and not
the hash; unknown lists and entries and oversized references are one clear line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.exchanges.memory_exchange import md5
from tests.exchanges.shared_entries import feed_list
from vigil.cli.database_access import EXIT_FATAL
from vigil.cli.lists_command import app
from vigil.store import Database
from vigil.store.exchanges.entry_feedback import queue_verdicts
from vigil.store.exchanges.feedback_queue import mark_feedback_failed
from vigil.store.models import FeedbackVerdict, ListEntry


def _vigil(tmp_path: Path, database_url: str, *args: str) -> Result:
    env = {
        "VIGIL_DATA_DIR": str(tmp_path / "data"),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_CONFIG": None,
        "COLUMNS": "200",
    }
    # The `vigil lists` group itself, as `vigil lists ...` runs it.
    result = CliRunner().invoke(app, list(args[1:]), env=env, catch_exceptions=False)
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def entry_id(database: Database) -> int:
    """An entry NCMEC shared into "known/eu" with a failed negative verdict on it."""
    feed_list(database, "ncmec/esp", "known/eu", [("md5", md5(1), "ncmec-1")], tags=("[b]x",))
    with database.transaction(write=True) as session:
        found = session.scalar(select(ListEntry.id).where(ListEntry.external_id == "ncmec-1"))
        assert found is not None
        [item] = queue_verdicts(
            session, [found], FeedbackVerdict.NEGATIVE, actor="r", reason="not it"
        )
        mark_feedback_failed(session, item, error="refused: unknown entry", retryable=False)
    return found


def test_an_entry_is_shown_with_its_origin_and_feedback(
    tmp_path: Path, database_url: str, entry_id: int
) -> None:
    shown = _vigil(tmp_path, database_url, "lists", "show", "known/eu", "--entry", str(entry_id))
    assert shown.exit_code == 0, shown.stderr
    lines = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert f"Entry: {entry_id} of list known/eu" in lines
    assert "Exchange: ncmec/esp (ncmec)" in lines
    assert "External id: ncmec-1" in lines and "Member: member-7" in lines
    assert "Class: A1" in lines and "Tags: [b]x" in lines  # as text, not markup
    assert "Source: exchange:ncmec/esp" in lines and "Takes feedback: yes" in lines
    assert "negative feedback: failed (refused: unknown entry)" in lines
    assert md5(1) not in shown.stdout
    by_hash = _vigil(tmp_path, database_url, "lists", "show", "known/eu", "--entry", md5(1))
    assert by_hash.stdout == shown.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("nope", "--entry", "1"), "no hash list named 'nope'"),
        (("known/eu", "--entry", "123456789"), "no entry 123456789 in list 'known/eu'"),
        (("known/eu", "--entry", "9" * 31), "no entry"),
        (("known/eu", "--entry", "f" * 10_000), "at most 64 characters"),
        (("--entry", "1"), "--entry needs the list"),
    ],
)
def test_unknown_or_hostile_references_are_one_line(
    tmp_path: Path, database_url: str, entry_id: int, args: tuple[str, ...], said: str
) -> None:
    result = _vigil(tmp_path, database_url, "lists", "show", *args)
    assert result.exit_code == EXIT_FATAL, result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and said in line and len(line) < 500
