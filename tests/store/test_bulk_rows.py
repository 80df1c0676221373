"""The import's driver-level bulk insert stores exactly what SQLAlchemy's Core insert stores,
on SQLite and PostgreSQL: enums, aware UTC times, JSON tags (SQL NULL for none), booleans,
text with quotes and non-ASCII characters; and refuses rows that lack a column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.exc import IntegrityError

from vigil.store import Database
from vigil.store.lists.bulk_rows import insert_rows
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.change_feed import allocate_change_seqs
from vigil.store.models import EntryStatus, ListEntry, SignalType

_ENTRIES = cast(Table, ListEntry.__table__)
_COMPARED = [c for c in _ENTRIES.c if c.name not in {"id", "list_id", "change_seq"}]
# SQL, pyformat and qmark markers, and what COPY's text format escapes (tab, newline, \\N).
HOSTILE = "x'); DROP TABLE list_entries; -- «ü» %(signal)s ?\t\n\\N \\ \r"


def _rows(list_id: int, seqs: range, prefix: str) -> list[dict[str, Any]]:
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    variants: list[tuple[SignalType, list[str] | None, bool | None, str | None]] = [
        (SignalType.MD5, ["image"], True, "A1"),
        (SignalType.SHA1, None, False, None),
        (SignalType.PDQ, ["video", "tag 'two'"], None, HOSTILE),
        (SignalType.MD5, ["image"], None, "B1"),
    ]
    rows = []
    for number, (seq, (kind, tags, victim, note)) in enumerate(zip(seqs, variants, strict=True)):
        width = 64 if kind is SignalType.PDQ else 40 if kind is SignalType.SHA1 else 32
        rows.append(
            {
                "list_id": list_id,
                "signal_type": kind,
                "signal": f"{prefix}{number:x}".ljust(width, "0"),
                "external_id": f"1-e{number}",
                "classification": "A1",
                "series": None,
                "victim_identified": victim,
                "note": note,
                "member": HOSTILE,
                "tags": tags,
                "added_at": now + timedelta(seconds=number),
                "import_job_id": None,
                "source": HOSTILE,
                "list_version": None,
                "status": EntryStatus.ACTIVE if number else EntryStatus.DISABLED,
                "status_reason": None,
                "status_by": None,
                "status_at": None if number else now,
                "match_count": number,
                "change_seq": seq,
            }
        )
    return rows


def _stored(database: Database, prefix: str) -> list[tuple[Any, ...]]:
    with database.transaction() as session:
        rows = session.execute(
            select(*_COMPARED)
            .where(_ENTRIES.c.signal.like(f"{prefix}%"))
            .order_by(_ENTRIES.c.signal)
        ).all()
    # The signals differ by their first digit only (the prefix): compare the rest.
    signal = [c.name for c in _COMPARED].index("signal")
    return [(*row[:signal], row[signal][1:], *row[signal + 1 :]) for row in rows]


def test_rows_are_stored_as_the_core_insert_stores_them(database: Database) -> None:
    with database.transaction(write=True) as session:
        list_id = create_list(session, "bulk", actor="tester").id
        insert_rows(
            session.connection(), _ENTRIES, _rows(list_id, allocate_change_seqs(session, 4), "a")
        )
        session.execute(_ENTRIES.insert(), _rows(list_id, allocate_change_seqs(session, 4), "b"))
    driver, core = _stored(database, "a"), _stored(database, "b")
    assert len(driver) == 4
    assert driver == core
    with database.transaction() as session:
        nulls = session.execute(
            text("SELECT count(*) FROM list_entries WHERE tags IS NULL")
        ).scalar_one()
    assert nulls == 2  # no tags: SQL NULL, not the JSON text null


def test_a_row_the_database_refuses_raises_sqlalchemys_error(database: Database) -> None:
    with database.transaction(write=True) as session:
        list_id = create_list(session, "bulk", actor="tester").id
        rows = _rows(list_id, allocate_change_seqs(session, 4), "d")
        insert_rows(session.connection(), _ENTRIES, rows[:1])
    with pytest.raises(IntegrityError), database.transaction(write=True) as session:
        insert_rows(session.connection(), _ENTRIES, rows)  # the first row's hash again
    assert len(_stored(database, "d")) == 1


def test_rows_lacking_a_column_are_refused(database: Database) -> None:
    with database.transaction(write=True) as session:
        list_id = create_list(session, "bulk", actor="tester").id
        rows = _rows(list_id, allocate_change_seqs(session, 4), "c")
        for row in rows:
            del row["match_count"]
        with pytest.raises(ValueError, match="match_count"):
            insert_rows(session.connection(), _ENTRIES, rows)


def test_no_rows_writes_nothing(database: Database) -> None:
    with database.transaction(write=True) as session:
        insert_rows(session.connection(), _ENTRIES, [])
    with database.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM list_entries")).scalar_one() == 0
