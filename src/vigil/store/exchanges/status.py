"""What an operator sees of an exchange: settings, lists, the last fetch, counts, errors and
the feedback queue. Never the credentials nor the checkpoint's content (a paging token)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.exchanges.catalogue import exchange_list_names, get_exchange, list_exchanges
from vigil.store.models import Exchange, ExchangeFeedback, FeedbackState, FetchState

INTERRUPTED = "interrupted"  # shown, never stored: see ExchangeStatus.fetch_interrupted


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    id: int
    name: str
    kind: str
    environment: str | None
    base_url: str
    options: Mapping[str, str]
    lists: tuple[str, ...]
    enabled: bool
    feedback_enabled: bool
    retro_after_fetch: bool  # a retroactive matching round after a fetch that stored a change
    fetch_interval_seconds: int
    fetch_state: FetchState
    has_checkpoint: bool  # False: the next fetch starts from the beginning
    last_fetch_started_at: datetime | None
    last_fetch_finished_at: datetime | None
    last_fetch_succeeded_at: datetime | None
    last_error: str | None
    last_error_kind: str | None
    entries_fetched: int
    entries_deleted: int
    record_errors: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    feedback: Mapping[FeedbackState, int] = field(default_factory=dict)
    # "running" in the database with nobody holding the fetch lock: the fetching process
    # died (vigil.exchanges.fetch_liveness finds it out; a read writes nothing).
    fetch_interrupted: bool = False

    @property
    def shown_fetch_state(self) -> str:
        """The state to show an operator: "interrupted" rather than a stale "running"."""
        if self.fetch_interrupted and self.fetch_state is FetchState.RUNNING:
            return INTERRUPTED
        return self.fetch_state.value

    @property
    def pending_feedback(self) -> int:
        return self.feedback.get(FeedbackState.PENDING, 0)

    @property
    def failed_feedback(self) -> int:
        return self.feedback.get(FeedbackState.FAILED, 0)


def exchange_status(session: Session, name: str) -> ExchangeStatus:
    exchange = get_exchange(session, name)
    return _status(exchange, _feedback_counts(session).get(exchange.id, {}))


def exchange_statuses(session: Session) -> list[ExchangeStatus]:
    """Every exchange, by name."""
    counts = _feedback_counts(session)
    return [_status(exchange, counts.get(exchange.id, {})) for exchange in list_exchanges(session)]


def _feedback_counts(session: Session) -> dict[int, dict[FeedbackState, int]]:
    rows = session.execute(
        select(ExchangeFeedback.exchange_id, ExchangeFeedback.state, func.count()).group_by(
            ExchangeFeedback.exchange_id, ExchangeFeedback.state
        )
    ).all()
    counts: dict[int, dict[FeedbackState, int]] = {}
    for exchange_id, state, count in rows:
        counts.setdefault(exchange_id, {})[FeedbackState(state)] = int(count)
    return counts


def _status(exchange: Exchange, feedback: Mapping[FeedbackState, int]) -> ExchangeStatus:
    return ExchangeStatus(
        id=exchange.id,
        name=exchange.name,
        kind=exchange.kind,
        environment=exchange.environment,
        base_url=exchange.base_url,
        options=dict(exchange.options),
        lists=tuple(exchange_list_names(exchange)),
        enabled=exchange.enabled,
        feedback_enabled=exchange.feedback_enabled,
        retro_after_fetch=exchange.retro_after_fetch,
        fetch_interval_seconds=exchange.fetch_interval_seconds,
        fetch_state=FetchState(exchange.fetch_state),
        has_checkpoint=exchange.checkpoint is not None,
        last_fetch_started_at=exchange.last_fetch_started_at,
        last_fetch_finished_at=exchange.last_fetch_finished_at,
        last_fetch_succeeded_at=exchange.last_fetch_succeeded_at,
        last_error=exchange.last_error,
        last_error_kind=exchange.last_error_kind,
        entries_fetched=exchange.entries_fetched,
        entries_deleted=exchange.entries_deleted,
        record_errors=exchange.record_errors,
        created_by=exchange.created_by,
        created_at=exchange.created_at,
        updated_at=exchange.updated_at,
        feedback=dict(feedback),
    )
