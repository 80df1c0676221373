"""A list fed by an exchange, for the tests of what the rest of Vigil does with exchange
entries (provenance on matches, feedback from reviewers' decisions): the exchange is
configured in the store and fetched for real from an in-memory client."""

from __future__ import annotations

from collections.abc import Sequence

from tests.exchanges.memory_exchange import MemoryExchange, record
from vigil.exchanges.fetching import fetch_exchange
from vigil.lists.formats import SignalType
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange
from vigil.store.lists.catalogue import create_list

KEY = MasterKey.generate()
CREDENTIALS = {"username": "platform", "password": "correct horse battery staple"}


def feed_list(
    database: Database,
    exchange: str,
    list_name: str,
    entries: Sequence[tuple[str, str, str]],
    *,
    kind: str = "ncmec",
    member: str = "member-7",
    tags: tuple[str, ...] = ("csam", "verified"),
    feedback: bool = True,
) -> None:
    """A new list ``list_name`` holding ``entries`` of (signal type, signal, exchange entry
    id), classification A1, shared by ``member`` with ``tags``, fetched from ``exchange``."""
    with database.transaction(write=True) as session:
        create_list(session, list_name, actor="admin")
        create_exchange(
            session,
            exchange,
            kind=kind,
            base_url="https://exchange.example/hashsharing",
            credentials=CREDENTIALS,
            list_names=[list_name],
            master_key=KEY,
            actor="admin",
            feedback_enabled=feedback,
        )
    page = [
        record(entry, signal, SignalType(signal_type), member=member, tags=tags)
        for signal_type, signal, entry in entries
    ]
    report = fetch_exchange(database, exchange, MemoryExchange([page]), actor="operator")
    assert report.succeeded and report.error_count == 0, report
