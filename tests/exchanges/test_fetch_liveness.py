"""A fetch whose process died leaves its exchange "running" in the database (issue 16): the
status read shows it as interrupted when nobody holds the exchange's fetch lock, and as
running while a fetch holds it, without writing anything. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import UTC, datetime

import pytest
from rich.console import Console

from vigil.cli.exchanges_output import print_exchanges
from vigil.exchanges.fetch_liveness import with_live_state, with_live_states
from vigil.exchanges.fetching import FetchAlreadyRunning, fetch_lock_name
from vigil.exchanges.requested import check_fetch_can_start
from vigil.store import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange, get_exchange
from vigil.store.exchanges.fetch_state import begin_fetch
from vigil.store.exchanges.status import exchange_status, exchange_statuses
from vigil.store.job_locks import held_alone
from vigil.store.lists.catalogue import create_list
from vigil.store.models import FetchState

KEY = MasterKey.generate()
STARTED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def _exchange(database: Database, name: str, *, running: bool) -> int:
    with database.transaction(write=True) as session:
        create_list(session, f"{name}-list", actor="admin")
        create_exchange(
            session,
            name,
            kind="ncmec",
            base_url="https://exchange.example",
            credentials={"username": "u", "password": "p"},
            list_names=[f"{name}-list"],
            master_key=KEY,
            actor="admin",
        )
        exchange_id = get_exchange(session, name).id
        if running:
            begin_fetch(session, exchange_id, STARTED)  # then the process died
    return exchange_id


def _stored_state(database: Database, name: str) -> FetchState:
    with database.session() as session:
        return FetchState(get_exchange(session, name).fetch_state)


def test_running_with_no_lock_held_is_shown_interrupted(database: Database) -> None:
    _exchange(database, "dead", running=True)
    with database.session() as session:
        shown = with_live_state(database, exchange_status(session, "dead"))
    assert shown.shown_fetch_state == "interrupted"
    assert shown.last_fetch_started_at is not None
    assert shown.last_fetch_started_at.replace(tzinfo=UTC) == STARTED
    assert _stored_state(database, "dead") is FetchState.RUNNING  # the read wrote nothing


def test_running_with_the_lock_held_is_shown_running(database: Database) -> None:
    exchange_id = _exchange(database, "live", running=True)
    with held_alone(database, fetch_lock_name(exchange_id)) as held:
        assert held
        with database.session() as session:
            shown = with_live_state(database, exchange_status(session, "live"))
    assert shown.shown_fetch_state == "running"


def test_other_states_are_shown_as_stored(database: Database) -> None:
    _exchange(database, "new", running=False)
    _exchange(database, "dead", running=True)
    with database.session() as session:
        shown = with_live_states(database, exchange_statuses(session))
    assert {s.name: s.shown_fetch_state for s in shown} == {
        "dead": "interrupted",
        "new": "never",
    }


def test_the_probe_leaves_the_lock_free_for_the_next_fetch(database: Database) -> None:
    exchange_id = _exchange(database, "dead", running=True)
    with database.session() as session:
        with_live_state(database, exchange_status(session, "dead"))
    with held_alone(database, fetch_lock_name(exchange_id)) as held:
        assert held


def test_the_cli_lines_say_when_the_interrupted_fetch_started(database: Database) -> None:
    _exchange(database, "dead", running=True)
    with database.session() as session:
        shown = with_live_state(database, exchange_status(session, "dead"))
    console = Console(record=True, width=400, color_system=None)
    print_exchanges(console, [shown])
    assert "interrupted (started 2026-12-07 09:30:00 UTC" in console.export_text()


def test_status_reads_never_make_a_starting_fetch_skip(database: Database) -> None:
    """Reads in a loop in one thread; every fetch lock taken in another succeeds. The old
    probe took the lock for an instant, so a fetch starting then was skipped."""
    exchange_id = _exchange(database, "dead", running=True)
    stop, shown = threading.Event(), set()

    def read_statuses() -> None:
        while not stop.is_set():
            with database.session() as session:
                shown.add(
                    with_live_state(database, exchange_status(session, "dead")).shown_fetch_state
                )
            with suppress(FetchAlreadyRunning):  # while the other thread holds it
                check_fetch_can_start(database, "dead")  # "fetch now" looks the same way

    reader = threading.Thread(target=read_statuses)
    reader.start()
    try:
        refused = 0
        for _ in range(200):
            with held_alone(database, fetch_lock_name(exchange_id)) as held:
                refused += not held
    finally:
        stop.set()
        reader.join(timeout=30)
    assert refused == 0
    assert "interrupted" in shown


def test_asking_for_a_fetch_while_one_runs_is_refused_without_taking_the_lock(
    database: Database,
) -> None:
    exchange_id = _exchange(database, "live", running=True)
    with held_alone(database, fetch_lock_name(exchange_id)) as held:
        assert held
        with pytest.raises(FetchAlreadyRunning, match="being fetched now"):
            check_fetch_can_start(database, "live")
    assert check_fetch_can_start(database, "live") == "live"
