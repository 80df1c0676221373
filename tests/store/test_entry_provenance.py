"""Where entries came from (vigil.store.exchanges.provenance), on SQLite and PostgreSQL: an
exchange's entries name it, a file's entries in a list the exchange also feeds stay the
file's, an entry keeps its source when its exchange is removed, a list fed by two exchanges
names the one that stored each entry, and tags stored in an unexpected shape show as none."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from tests.exchanges.memory_exchange import MemoryExchange, md5, record
from tests.exchanges.shared_entries import CREDENTIALS, KEY, feed_list
from tests.screening.listed import CSV_HEADER
from vigil.exchanges.fetching import fetch_exchange
from vigil.lists.sources import LocalFileSource
from vigil.store import Database
from vigil.store.exchanges.catalogue import create_exchange, remove_exchange
from vigil.store.exchanges.provenance import entry_provenance
from vigil.store.lists.importing import import_file
from vigil.store.models import ListEntry


def _ids(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        rows = session.execute(select(ListEntry.external_id, ListEntry.id)).all()
    return {str(external_id): entry_id for external_id, entry_id in rows}


def _provenance(database: Database) -> dict[str, tuple[object, ...]]:
    ids = _ids(database)
    with database.transaction() as session:
        found = entry_provenance(session, [*ids.values(), 10**9])  # one that does not exist
    by_id = {entry_id: external_id for external_id, entry_id in ids.items()}
    return {
        by_id[entry_id]: (o.exchange, o.exchange_kind, o.member, o.tags, o.source)
        for entry_id, o in found.items()
    }


def test_exchange_and_file_entries_in_one_list(database: Database, tmp_path: Path) -> None:
    feed_list(database, "hub", "shared", [("md5", md5(1), "hub-1")])
    listed = tmp_path / "extra.csv"
    listed.write_text(CSV_HEADER + f"md5,{md5(2)},file-2,A1\n")
    assert import_file(database, "shared", LocalFileSource(listed), actor="test").error_count == 0

    assert _provenance(database) == {
        "hub-1": ("hub", "ncmec", "member-7", ("csam", "verified"), "exchange:hub"),
        "file-2": (None, None, None, (), "extra.csv"),
    }


def test_a_list_fed_by_two_exchanges_names_the_one_that_stored_each_entry(
    database: Database,
) -> None:
    feed_list(database, "hub", "shared", [("md5", md5(1), "hub-1")], kind="tat")
    with database.transaction(write=True) as session:
        create_exchange(
            session,
            "aaa-other",  # sorts first: the join must not pick it for hub's entries
            kind="stopncii",
            base_url="https://other.example",
            credentials=CREDENTIALS,
            list_names=["shared"],
            master_key=KEY,
            actor="admin",
        )
    page = [record("other-3", md5(3), member=None)]
    assert fetch_exchange(database, "aaa-other", MemoryExchange([page]), actor="op").succeeded

    assert _provenance(database) == {
        "hub-1": ("hub", "tat", "member-7", ("csam", "verified"), "exchange:hub"),
        "other-3": ("aaa-other", "stopncii", None, (), "exchange:aaa-other"),
    }


def test_a_removed_exchange_leaves_the_source(database: Database) -> None:
    feed_list(database, "hub", "shared", [("md5", md5(1), "hub-1")])
    with database.transaction(write=True) as session:
        remove_exchange(session, "hub", actor="admin")
        session.execute(update(ListEntry).values(tags={"not": "a list"}))
    assert _provenance(database) == {
        "hub-1": (None, None, "member-7", (), "exchange:hub"),
    }


def test_no_entries_no_query(database: Database) -> None:
    with database.transaction() as session:
        assert entry_provenance(session, []) == {}
