"""Whether an exchange shown as "running" is really being fetched (issue 16).

A fetch marks its exchange running and holds the exchange's fetch lock while it runs; the
lock is let go by the kernel or the database server when the process dies, the state is not.
So a status read looks at the lock of each exchange stored as running: a lock nobody holds
means no process is fetching, and the exchange is shown as interrupted (with the time its
fetch started). The look writes nothing and never takes the lock (vigil.store.job_locks
is_held), so a fetch starting at that instant is not skipped.
"""

from __future__ import annotations

import dataclasses

from vigil.exchanges.fetching import fetch_lock_name
from vigil.store.database import Database
from vigil.store.exchanges.status import ExchangeStatus
from vigil.store.job_locks import is_held
from vigil.store.models import FetchState


def fetch_is_live(database: Database, exchange_id: int) -> bool:
    """True when some process (or thread) holds the exchange's fetch lock now."""
    return is_held(database, fetch_lock_name(exchange_id))


def with_live_state(database: Database, status: ExchangeStatus) -> ExchangeStatus:
    """``status`` marked interrupted when it says running but no fetch holds the lock."""
    if status.fetch_state is not FetchState.RUNNING or fetch_is_live(database, status.id):
        return status
    return dataclasses.replace(status, fetch_interrupted=True)


def with_live_states(database: Database, statuses: list[ExchangeStatus]) -> list[ExchangeStatus]:
    return [with_live_state(database, status) for status in statuses]
