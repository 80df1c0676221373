"""A fetch reads the client's pages ahead in another thread (vigil.exchanges.page_prefetch),
on SQLite and PostgreSQL: a page received is stored within about GROUP_SECONDS even while
the service hangs on the next one (a kill then loses nothing received); a Ctrl-C while the
service hangs closes the client, so the hanging request ends, and leaves no reader thread
behind; a Ctrl-C while a group is written takes effect once it committed; the reader stays
a few pages ahead of the writes, whatever the service's speed."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.exchanges.memory_exchange import MemoryExchange, md5, record
from vigil.exchanges import fetching
from vigil.exchanges.fetching import GROUP_SECONDS, FetchProgress, FetchReport, fetch_exchange
from vigil.exchanges.page_prefetch import PAGES_AHEAD
from vigil.lists.formats import ListRecord
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange, get_exchange
from vigil.store.lists.catalogue import create_list
from vigil.store.models import EntryStatus, HashList, ListEntry

KEY = MasterKey.generate()
READER = "exchange-page-reader"
PAGES: list[list[ListRecord]] = [
    [record(f"e{page}-{n}", md5(page * 10 + n)) for n in range(3)] for page in range(4)
]


class HangingExchange(MemoryExchange):
    """The service hangs when asked for page ``hang_at`` until ``release`` is set or the
    client is closed (as closing a real client ends a request the service hangs on)."""

    def __init__(self, hang_at: int) -> None:
        super().__init__(PAGES, on_page=self._maybe_hang)
        self.hang_at = hang_at
        self.release = threading.Event()
        self.hanging = threading.Event()

    def _maybe_hang(self, index: int) -> None:
        if index == self.hang_at:
            self.hanging.set()
            if not self.release.wait(30):
                raise AssertionError("the hanging page was never released")

    def close(self) -> None:
        super().close()
        self.release.set()


@pytest.fixture
def exchange(database: Database) -> Database:
    with database.transaction(write=True) as session:
        create_list(session, "known", actor="admin")
        create_exchange(
            session,
            "ncmec",
            kind="ncmec",
            base_url="https://exchange.example/hashsharing",
            credentials={"username": "u", "password": "p"},
            list_names=["known"],
            master_key=KEY,
            actor="admin",
        )
    return database


def _stored(database: Database) -> tuple[str | None, int]:
    """The exchange's checkpoint and the list's active entries, as another reader sees them."""
    with database.session() as session:
        checkpoint = get_exchange(session, "ncmec").checkpoint
        active = (
            session.query(ListEntry)
            .join(HashList)
            .filter(HashList.name == "known", ListEntry.status == EntryStatus.ACTIVE)
            .count()
        )
    return checkpoint, active


def _readers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == READER]


@pytest.fixture
def no_reader_left() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 5
    while _readers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _readers()


def test_a_page_received_is_stored_while_the_service_hangs_on_the_next(
    exchange: Database, no_reader_left: None
) -> None:
    client = HangingExchange(hang_at=1)
    reports: list[FetchReport] = []
    fetch = threading.Thread(
        target=lambda: reports.append(fetch_exchange(exchange, "ncmec", client, actor="op"))
    )
    fetch.start()
    try:
        assert client.hanging.wait(10)
        hung_at = time.monotonic()
        deadline = hung_at + GROUP_SECONDS + 5  # generous for a loaded machine
        while _stored(exchange) != ("1", 3) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _stored(exchange) == ("1", 3)  # page 1 and its checkpoint, one transaction
        assert not client.release.is_set()  # stored while the service still hung
    finally:
        client.release.set()
        fetch.join(30)
    assert not fetch.is_alive()
    [report] = reports
    assert report.succeeded and report.pages == 4
    assert _stored(exchange) == ("4", 12)
    assert client.closed == 0  # the fetch reached the client's end: its owner closes it


def test_ctrl_c_while_the_service_hangs_closes_the_client_and_leaves_no_reader(
    exchange: Database, no_reader_left: None
) -> None:
    client = HangingExchange(hang_at=2)
    main = threading.main_thread().ident
    assert main is not None

    def ctrl_c_once_stored() -> None:
        # Like the operator: Ctrl-C once the service hangs and what came is stored.
        assert client.hanging.wait(10)
        deadline = time.monotonic() + GROUP_SECONDS + 5
        while _stored(exchange)[0] != "2" and time.monotonic() < deadline:
            time.sleep(0.02)
        signal.pthread_kill(main, signal.SIGINT)

    operator = threading.Thread(target=ctrl_c_once_stored)
    operator.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        fetch_exchange(exchange, "ncmec", client, actor="op")
    operator.join(10)
    assert client.closed == 1  # closed by the fetch, which ended the hanging request
    assert _stored(exchange) == ("2", 6)
    assert time.monotonic() - started < 30  # the hang did not hold the interrupt


def test_the_reader_stays_a_few_pages_ahead_of_the_writes(
    exchange: Database, monkeypatch: pytest.MonkeyPatch, no_reader_left: None
) -> None:
    monkeypatch.setattr(fetching, "GROUP_RECORDS", 1)  # a transaction per page
    pages = [[record(f"e{n}", md5(n))] for n in range(20)]
    handed: list[int] = []
    ahead: list[int] = []

    def slow_writes(done: FetchProgress) -> None:
        time.sleep(0.05)  # the database is slower than the service
        ahead.append(max(handed) + 1 - done.pages)

    client = MemoryExchange(pages, on_page=handed.append)
    report = fetch_exchange(exchange, "ncmec", client, actor="op", on_progress=slow_writes)
    assert report.succeeded and report.pages == 20
    # Read but not stored: those in the queue, and the one the reader holds until there
    # is room for it; never the whole fetch.
    assert max(ahead) <= PAGES_AHEAD + 1


def test_ctrl_c_while_a_group_is_written_takes_effect_once_it_committed(
    exchange: Database, monkeypatch: pytest.MonkeyPatch, no_reader_left: None
) -> None:
    monkeypatch.setattr(fetching, "GROUP_RECORDS", 4)  # pages 1-2, then 3-4
    write_page = fetching._write_page
    pressed: list[int] = []

    def ctrl_c_while_writing(*arguments: Any) -> None:
        if not pressed:
            pressed.append(1)
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        write_page(*arguments)

    monkeypatch.setattr(fetching, "_write_page", ctrl_c_while_writing)
    with pytest.raises(KeyboardInterrupt):
        fetch_exchange(exchange, "ncmec", MemoryExchange(PAGES), actor="op")
    assert pressed and _stored(exchange) == ("2", 6)  # the group was not rolled back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
