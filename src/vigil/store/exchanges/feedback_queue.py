"""The queue of reviewers' verdicts going back to the exchanges that shared the entries.

A verdict is queued in the reviewer's transaction (with the decision, so neither is lost
without the other), then a sender claims due items, sends them outside any transaction and
settles each: sent, or failed. A retryable failure (unreachable, rate limited, a server
error) waits with exponential backoff and is tried again, up to ``MAX_ATTEMPTS``; a refusal
fails it at once. Queuing and settling are audited; the attempts in between are counted on
the row (``attempts``, ``last_error``), which the console shows with the entry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.exchanges.audit_trail import checked_actor, record_feedback
from vigil.store.exchanges.catalogue import get_exchange
from vigil.store.exchanges.errors import InvalidExchangeSetting, UnknownExchange
from vigil.store.models import (
    Exchange,
    ExchangeFeedback,
    FeedbackState,
    FeedbackVerdict,
    SignalType,
    normalise_signal,
    utcnow,
)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
SENDER = "exchange-feedback"  # the actor of settling records
MAX_REASON_CHARS = 2000
MAX_ERROR_CHARS = 2000


def enqueue_feedback(
    session: Session,
    exchange_name: str,
    *,
    external_id: str,
    signal_type: SignalType | str,
    signal: str,
    verdict: FeedbackVerdict | str,
    actor: str,
    reason: str | None = None,
    entry_id: int | None = None,
    now: datetime | None = None,
) -> ExchangeFeedback | None:
    """Queue one verdict on the exchange's entry ``external_id``; None (nothing queued or
    audited) when the administrator turned feedback off for this exchange."""
    actor = checked_actor(actor)
    exchange = get_exchange(session, exchange_name)
    if not exchange.feedback_enabled:
        return None
    if not external_id.strip() or len(external_id) > 255:
        raise InvalidExchangeSetting("feedback needs the exchange's entry id (1-255 characters)")
    kind = SignalType(signal_type)
    when = now or utcnow()
    item = ExchangeFeedback(
        exchange_id=exchange.id,
        entry_id=entry_id,
        external_id=external_id.strip(),
        signal_type=kind,
        signal=normalise_signal(kind, signal),
        verdict=FeedbackVerdict(verdict),
        reason=None if reason is None else reason.strip()[:MAX_REASON_CHARS] or None,
        state=FeedbackState.PENDING,
        attempts=0,
        next_attempt_at=when,
        created_by=actor,
        created_at=when,
    )
    session.add(item)
    session.flush()
    record_feedback(
        session,
        item.id,
        actor=actor,
        change="feedback_queued",
        exchange=exchange.name,
        details={
            "entry_id": entry_id,
            "external_id": item.external_id,
            "verdict": str(item.verdict),
            "reason": item.reason,
        },
    )
    return item


def claim_due_feedback(
    session: Session, now: datetime, *, lease_until: datetime, limit: int = 50
) -> list[ExchangeFeedback]:
    """Take due items of enabled exchanges (with feedback on) for one sender, by moving
    them to ``lease_until``: call it in a short write transaction and send after the commit.
    Two senders never take the same item (row locks, SKIP LOCKED); a sender that dies
    leaves its items to be taken again when the lease runs out."""
    if lease_until <= now:
        raise ValueError("a lease must end after now")
    query = (
        select(ExchangeFeedback)
        .join(Exchange, Exchange.id == ExchangeFeedback.exchange_id)
        .where(
            ExchangeFeedback.state == FeedbackState.PENDING,
            ExchangeFeedback.next_attempt_at <= now,
            Exchange.enabled,
            Exchange.feedback_enabled,
        )
        .order_by(ExchangeFeedback.next_attempt_at, ExchangeFeedback.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=ExchangeFeedback)
    )
    items = list(session.scalars(query))
    for item in items:
        item.next_attempt_at = lease_until
    session.flush()
    return items


def mark_feedback_sent(session: Session, feedback_id: int, *, now: datetime | None = None) -> None:
    item = _item(session, feedback_id)
    if item.state is not FeedbackState.PENDING:
        return  # settled by another sender after our lease ran out
    item.attempts += 1
    item.state, item.sent_at, item.last_error = FeedbackState.SENT, now or utcnow(), None
    session.flush()
    _audit_settled(session, item, "feedback_sent")


def mark_feedback_failed(
    session: Session,
    feedback_id: int,
    *,
    error: str,
    retryable: bool,
    now: datetime | None = None,
) -> FeedbackState:
    """Record a failed attempt: pending again after ``feedback_backoff`` when retryable and
    attempts remain, else failed for good. Returns the state it is left in."""
    item = _item(session, feedback_id)
    if item.state is not FeedbackState.PENDING:
        return item.state
    item.attempts += 1
    item.last_error = error[:MAX_ERROR_CHARS] or "failed"
    if retryable and item.attempts < MAX_ATTEMPTS:
        item.next_attempt_at = (now or utcnow()) + feedback_backoff(item.attempts)
        session.flush()
        return item.state
    item.state = FeedbackState.FAILED
    session.flush()
    _audit_settled(session, item, "feedback_failed")
    return item.state


def feedback_backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 1, 2, 4 ... minutes, at most 6 h."""
    doubling: int = 2 ** min(max(attempts - 1, 0), 30)
    return min(FIRST_BACKOFF * doubling, MAX_BACKOFF)


def feedback_for_entry(session: Session, entry_id: int) -> list[ExchangeFeedback]:
    """What was queued about one list entry, oldest first (shown with the entry)."""
    return list(
        session.scalars(
            select(ExchangeFeedback)
            .where(ExchangeFeedback.entry_id == entry_id)
            .order_by(ExchangeFeedback.id)
        )
    )


def feedback_of_exchange(
    session: Session, exchange_name: str, state: FeedbackState | None = None, limit: int = 100
) -> list[ExchangeFeedback]:
    """An exchange's queue, newest first (optionally in one state)."""
    exchange = get_exchange(session, exchange_name)
    query = select(ExchangeFeedback).where(ExchangeFeedback.exchange_id == exchange.id)
    if state is not None:
        query = query.where(ExchangeFeedback.state == state)
    return list(session.scalars(query.order_by(ExchangeFeedback.id.desc()).limit(limit)))


def _item(session: Session, feedback_id: int) -> ExchangeFeedback:
    item = session.get(ExchangeFeedback, feedback_id, populate_existing=True)
    if item is None:
        raise UnknownExchange(f"no queued feedback {feedback_id} (its exchange was removed?)")
    return item


def _audit_settled(session: Session, item: ExchangeFeedback, change: str) -> None:
    record_feedback(
        session,
        item.id,
        actor=SENDER,
        change=change,
        exchange=item.exchange.name,
        details={
            "external_id": item.external_id,
            "verdict": str(item.verdict),
            "attempts": item.attempts,
            "error": item.last_error,
        },
    )
