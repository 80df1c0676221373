"""The flood guard from the command line, on SQLite and PostgreSQL: a backlog scan never makes
an entry suspect or stops it matching; suspect entries are shown (`vigil lists suspects`,
`vigil lists show`) and a person confirms or quarantines each, audited. Images are generated
gradients, never real content."""

from __future__ import annotations

import hashlib
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tests.screening.listed import cli_env, make_list
from tests.store.samples import add_entry, add_list
from vigil.cli.app import app
from vigil.core.settings import FloodGuardSettings
from vigil.store import Database
from vigil.store.audit import AuditRecord
from vigil.store.lists.flood_guard import enforce_flood_guard
from vigil.store.lists.match_counts import record_matches
from vigil.store.models import EntryStatus, FloodSuspicion, ListEntry, MatchStat, SuspicionState

GUARD = FloodGuardSettings(min_matches=50, min_history_hours=0)


def _vigil(tmp_path: Path, url: str, *args: str | Path) -> Result:
    result = CliRunner().invoke(
        app, [str(arg) for arg in args], env=cli_env(tmp_path, url), catch_exceptions=False
    )
    assert "Traceback" not in result.output + result.stderr
    return result


def _gradient_png() -> bytes:
    ramp = np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (96, 1))
    buffer = io.BytesIO()
    Image.fromarray(np.dstack([ramp, ramp.T, 255 - ramp])).save(buffer, format="PNG")
    return buffer.getvalue()


def _suspects(database: Database, count: int) -> list[int]:
    """``count`` entries of list "bank" made suspect by 51 live matches each."""
    now = datetime.now(UTC)
    with database.transaction(write=True) as session:
        bank = add_list(session, "bank")
        ids = [add_entry(session, bank, n).id for n in range(1, count + 1)]
        for entry_id in ids:
            record_matches(session, entry_id, now, 51)
    with database.transaction(write=True) as session:
        assert len(enforce_flood_guard(session, GUARD, now=now)) == count
    return ids


def test_sixty_scanned_copies_never_stop_the_entry_matching(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    content = _gradient_png()
    copies = tmp_path / "backlog"
    copies.mkdir()
    (copies / "copy-0.png").write_bytes(content)
    for n in range(1, 60):
        shutil.copy(copies / "copy-0.png", copies / f"copy-{n}.png")
    make_list(database, "bank", [("sha256", hashlib.sha256(content).hexdigest(), "e-1")], tmp_path)
    for _ in range(2):
        scanned = _vigil(
            tmp_path, database_url, "scan", copies, "-o", tmp_path / "r.jsonl", "--workers", "1"
        )
        assert scanned.exit_code == 0, scanned.stderr
        assert "60 matched" in scanned.stderr
    matched = _vigil(tmp_path, database_url, "match", copies / "copy-7.png")
    assert matched.exit_code == 0 and "e-1" in matched.stdout
    assert "no suspect entries" in _vigil(tmp_path, database_url, "lists", "suspects").stdout
    with database.transaction() as session:
        assert session.scalars(select(ListEntry.status)).one() is EntryStatus.ACTIVE
        assert session.scalars(select(MatchStat)).all() == []


def test_suspects_are_shown_with_the_surge(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    [entry_id] = _suspects(database, 1)
    shown = _vigil(tmp_path, database_url, "lists", "suspects")
    assert shown.exit_code == 0
    assert f"entry {entry_id} of 'bank'" in shown.stdout and "51 matches" in shown.stdout
    assert (
        f"entry {entry_id} of 'bank'"
        in _vigil(tmp_path, database_url, "lists", "suspects", "bank").stdout
    )
    assert (
        "no suspect entries" in _vigil(tmp_path, database_url, "lists", "suspects", "other").stdout
    )
    details = _vigil(tmp_path, database_url, "lists", "show", "bank")
    assert f"entry {entry_id} of 'bank'" in details.stdout and "suspect" in details.stdout


def test_confirm_and_quarantine_are_decided_and_audited(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    right, wrong = _suspects(database, 2)
    confirmed = _vigil(
        tmp_path,
        database_url,
        "lists",
        "confirm-suspect",
        "bank",
        "--entry",
        str(right),
        "--reason",
        "known series",
        "--actor",
        "carol",
    )
    assert confirmed.exit_code == 0, confirmed.stderr
    assert "confirmed" in confirmed.stdout and "51 matches an hour" in confirmed.stdout
    held = _vigil(
        tmp_path,
        database_url,
        "lists",
        "quarantine",
        "bank",
        "--entry",
        str(wrong),
        "--reason",
        "stock photo",
        "--actor",
        "carol",
    )
    assert held.exit_code == 0, held.stderr
    assert "quarantined (was active)" in held.stdout
    with database.transaction() as session:
        states = {s.entry_id: s.state for s in session.scalars(select(FloodSuspicion))}
        statuses = {e.id: e.status for e in session.scalars(select(ListEntry))}
        audit = [
            (r.actor, r.details["change"], r.details.get("reason"))
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))
            if r.actor == "carol"
        ]
    assert states == {right: SuspicionState.CONFIRMED, wrong: SuspicionState.QUARANTINED}
    assert statuses == {right: EntryStatus.ACTIVE, wrong: EntryStatus.QUARANTINED}
    assert audit == [
        ("carol", "suspect_confirmed", "known series"),
        ("carol", "status", "stock photo"),
        ("carol", "suspect_quarantined", "stock photo"),
    ]
    assert "no suspect entries" in _vigil(tmp_path, database_url, "lists", "suspects").stdout


def test_a_plain_entry_can_be_quarantined_but_not_confirmed(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    with database.transaction(write=True) as session:
        entry_id = add_entry(session, add_list(session, "bank"), 1).id
    refused = _vigil(
        tmp_path,
        database_url,
        "lists",
        "confirm-suspect",
        "bank",
        "--entry",
        str(entry_id),
        "--reason",
        "fine",
    )
    assert refused.exit_code == 2 and "is not suspect" in refused.stderr
    held = _vigil(
        tmp_path,
        database_url,
        "lists",
        "quarantine",
        "bank",
        "--entry",
        str(entry_id),
        "--reason",
        "odd import",
    )
    assert held.exit_code == 0 and "quarantined" in held.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("confirm-suspect", "bank", "--entry", "1"),  # no reason
        ("quarantine", "bank", "--entry", "1", "--reason", "   "),
        ("confirm-suspect", "bank", "--entry", "999", "--reason", "x"),
        ("quarantine", "nowhere", "--entry", "1", "--reason", "x"),
    ],
)
def test_bad_decisions_change_nothing(
    database: Database, database_url: str, tmp_path: Path, args: tuple[str, ...]
) -> None:
    _suspects(database, 1)
    result = _vigil(tmp_path, database_url, "lists", *args)
    assert result.exit_code == 2, result.output
    with database.transaction() as session:
        assert session.scalars(select(FloodSuspicion.state)).one() is SuspicionState.OPEN
        assert session.scalars(select(ListEntry.status)).one() is EntryStatus.ACTIVE
