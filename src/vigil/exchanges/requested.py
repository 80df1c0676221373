"""A fetch an administrator asks for now (``POST /v1/admin/exchanges/{name}/fetch``): checked
before it is handed to a worker thread, so a refusal is answered rather than lost in a log.

The check looks whether anyone holds the exchange's fetch lock, without taking it (so a
scheduled fetch starting at that instant is not skipped): a fetch that starts elsewhere in
between still makes the requested one stop with FetchAlreadyRunning (the lock, not this
check, keeps fetches one at a time).
"""

from __future__ import annotations

from vigil.exchanges.fetching import FetchAlreadyRunning, FetchRefused, fetch_lock_name
from vigil.store.database import Database
from vigil.store.exchanges.catalogue import get_exchange
from vigil.store.job_locks import is_held


def check_fetch_can_start(database: Database, name: str) -> str:
    """The exchange's name as stored; raises UnknownExchange, FetchRefused (disabled) or
    FetchAlreadyRunning (another process or thread is fetching it now)."""
    with database.session() as session:
        exchange = get_exchange(session, name)
        exchange_id, stored_name, enabled = exchange.id, exchange.name, exchange.enabled
    if not enabled:
        raise FetchRefused(f"exchange {stored_name!r} is disabled; enable it to fetch")
    if is_held(database, fetch_lock_name(exchange_id)):
        raise FetchAlreadyRunning(f"exchange {stored_name!r} is being fetched now")
    return stored_name
