"""How far an exchange's fetches have come and how the last one went.

The checkpoint moves only in ``store_page``, which the fetcher calls in the transaction that
stores the page's entries: after a crash at any point the checkpoint names exactly what is
stored. ``begin_fetch``, ``finish_fetch`` and ``fail_fetch`` record the state an operator
sees (``vigil exchanges status``, the console); a fetch whose process died stays
``running`` until the next one starts.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from vigil.store.exchanges.audit_trail import checked_actor, record_exchange_change
from vigil.store.exchanges.catalogue import FETCH_INTERVAL_RANGE, get_exchange
from vigil.store.models import Exchange, FetchState, utcnow

MAX_ERROR_CHARS = 2000
MAX_KIND_CHARS = 32
JITTER_FRACTION = 0.1


def read_checkpoint(session: Session, name: str) -> str | None:
    return get_exchange(session, name).checkpoint


def reset_checkpoint(
    session: Session, name: str, checkpoint: str | None, *, actor: str
) -> Exchange:
    """Set the checkpoint by hand (None: fetch everything again from the beginning);
    audited, with neither checkpoint (they can hold a service's paging token)."""
    actor = checked_actor(actor)
    exchange = get_exchange(session, name)
    exchange.checkpoint = checkpoint
    session.flush()
    record_exchange_change(
        session,
        exchange.name,
        actor=actor,
        change="checkpoint_reset",
        new={"from_beginning": checkpoint is None},
    )
    return exchange


def begin_fetch(session: Session, exchange_id: int, now: datetime | None = None) -> None:
    _set(
        session,
        exchange_id,
        fetch_state=FetchState.RUNNING,
        last_fetch_started_at=now or utcnow(),
        last_fetch_finished_at=None,
    )


def store_page(
    session: Session,
    exchange_id: int,
    checkpoint: str,
    *,
    fetched: int,
    deleted: int,
    errors: int,
) -> None:
    """The page's checkpoint and counts, in the transaction that stores its entries."""
    _set(
        session,
        exchange_id,
        checkpoint=checkpoint,
        entries_fetched=Exchange.entries_fetched + fetched,
        entries_deleted=Exchange.entries_deleted + deleted,
        record_errors=Exchange.record_errors + errors,
    )


def finish_fetch(session: Session, exchange_id: int, now: datetime | None = None) -> None:
    when = now or utcnow()
    _set(
        session,
        exchange_id,
        fetch_state=FetchState.SUCCEEDED,
        last_fetch_finished_at=when,
        last_fetch_succeeded_at=when,
        last_error=None,
        last_error_kind=None,
    )


def fail_fetch(
    session: Session, exchange_id: int, *, kind: str, message: str, now: datetime | None = None
) -> None:
    """The fetch stopped: ``kind`` (a FailureKind value) and an operator's message, which
    must hold no credential (ExchangeError's messages hold none)."""
    _set(
        session,
        exchange_id,
        fetch_state=FetchState.FAILED,
        last_fetch_finished_at=now or utcnow(),
        last_error=message[:MAX_ERROR_CHARS] or kind,
        last_error_kind=kind[:MAX_KIND_CHARS],
    )


def due_exchanges(session: Session, now: datetime | None = None) -> list[Exchange]:
    """Enabled exchanges whose next fetch is due (``next_fetch_at``), or that were never
    fetched, the longest waiting first."""
    when = now or utcnow()
    shortest = timedelta(seconds=FETCH_INTERVAL_RANGE.start)
    candidates = session.scalars(
        select(Exchange)
        .where(
            Exchange.enabled,
            or_(
                Exchange.last_fetch_started_at.is_(None),
                Exchange.last_fetch_started_at <= when - shortest,
            ),
        )
        .order_by(Exchange.last_fetch_started_at.nulls_first(), Exchange.id)
    ).all()
    return [exchange for exchange in candidates if (next_fetch_at(exchange) or when) <= when]


def next_fetch_at(exchange: Exchange) -> datetime | None:
    """When the next scheduled fetch is due (None: now, never fetched): the interval after
    the last fetch began, plus up to ``JITTER_FRACTION`` of it, so exchanges configured
    together do not all fetch at once. The jitter is derived from the exchange and its last
    start, so every process agrees on it."""
    started = exchange.last_fetch_started_at
    if started is None:
        return None
    seed = hashlib.blake2b(f"{exchange.id}:{started.isoformat()}".encode(), digest_size=8)
    spread = int.from_bytes(seed.digest(), "big") / 2**64
    seconds = exchange.fetch_interval_seconds * (1 + JITTER_FRACTION * spread)
    return started + timedelta(seconds=seconds)


def _set(session: Session, exchange_id: int, **values: object) -> None:
    session.execute(
        update(Exchange)
        .where(Exchange.id == exchange_id)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
