"""Sending queued feedback: reviewers' verdicts go to the exchanges that shared the entries.

Meant for a background job that may run in several processes at once: due items are
claimed with a lease in a short transaction (two senders never take the same item), sent
outside any transaction with the exchange's client, and each is settled in its own
transaction. A retryable failure (unreachable, rate limited, a server error) waits with the
queue's backoff; anything else (UNSUPPORTED, refused credentials, a refused request) fails
the item for good with the service's message, which the status pages show. Credentials
that do not open under the loaded master key leave the items to retry with backoff: they
may be replaced meanwhile. The queue audits settling (vigil.store.exchanges.feedback_queue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.exchanges.clients import build_client
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.protocol import ExchangeError, Feedback
from vigil.exchanges.protocol import FeedbackVerdict as ClientVerdict
from vigil.lists.formats import SignalType
from vigil.store.database import Database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import exchange_by_id
from vigil.store.exchanges.errors import UnknownExchange
from vigil.store.exchanges.feedback_queue import (
    claim_due_feedback,
    mark_feedback_failed,
    mark_feedback_sent,
)
from vigil.store.models import Exchange, ExchangeFeedback, FeedbackState, utcnow
from vigil.store.sealed_secrets import SealedSecretError

LEASE = timedelta(minutes=5)  # longer than a batch of sends takes; a dead sender's items return
BATCH = 50

ClientFactory = Callable[[Exchange, MasterKey], ExchangeClient]


@dataclass(slots=True)
class FeedbackRound:
    """What one round did: items sent, retried later, failed for good."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    exchange_id: int
    feedback: Feedback


def send_due_feedback(
    database: Database,
    master_key: MasterKey,
    *,
    now: datetime | None = None,
    client_for: ClientFactory = build_client,
    limit: int = BATCH,
) -> FeedbackRound:
    """Claim up to ``limit`` due items, send each, settle each; returns the round's counts."""
    when = now or utcnow()
    with database.transaction(write=True) as session:
        claimed = [
            _claimed(item)
            for item in claim_due_feedback(session, when, lease_until=when + LEASE, limit=limit)
        ]
    round_ = FeedbackRound()
    clients: dict[int, ExchangeClient | str] = {}
    try:
        _send_claimed(database, claimed, clients, round_, master_key, client_for, now)
    finally:
        for client in clients.values():  # each round's connections end with the round
            if not isinstance(client, str):
                client.close()
    return round_


def _send_claimed(
    database: Database,
    claimed: list[_Claimed],
    clients: dict[int, ExchangeClient | str],
    round_: FeedbackRound,
    master_key: MasterKey,
    client_for: ClientFactory,
    now: datetime | None,
) -> None:
    for item in claimed:
        client = clients.get(item.exchange_id)
        if client is None:
            client = clients[item.exchange_id] = _client(
                database, item.exchange_id, master_key, client_for
            )
        if isinstance(client, str):  # the credentials did not open: retry later
            _settle(database, item.id, round_, error=client, retryable=True, now=now)
            continue
        try:
            client.send_feedback(item.feedback)
        except ExchangeError as error:
            message = f"{error.kind.value}: {error}"
            _settle(database, item.id, round_, error=message, retryable=error.retryable, now=now)
        else:
            _settle(database, item.id, round_, error=None, retryable=False, now=now)


def full_round(result: object) -> bool:
    """A round that claimed a whole batch: more may be due, so run again at once."""
    return isinstance(result, FeedbackRound) and result.claimed >= BATCH


def _claimed(item: ExchangeFeedback) -> _Claimed:
    feedback = Feedback(
        entry_id=item.external_id,
        signal_type=SignalType(str(item.signal_type)),
        signal=item.signal,
        verdict=ClientVerdict(str(item.verdict)),
        reason=item.reason,
    )
    return _Claimed(item.id, item.exchange_id, feedback)


def _client(
    database: Database, exchange_id: int, master_key: MasterKey, client_for: ClientFactory
) -> ExchangeClient | str:
    """The exchange's client, or why it cannot be built (never holding a credential)."""
    try:
        with database.session() as session:
            return client_for(exchange_by_id(session, exchange_id), master_key)
    except SealedSecretError as exc:
        return f"credentials: the stored credentials cannot be opened: {exc}"
    except UnknownExchange as exc:
        return str(exc)


def _settle(
    database: Database,
    feedback_id: int,
    round_: FeedbackRound,
    *,
    error: str | None,
    retryable: bool,
    now: datetime | None,
) -> None:
    try:
        with database.transaction(write=True) as session:
            if error is None:
                mark_feedback_sent(session, feedback_id, now=now)
                round_.sent += 1
                return
            state = mark_feedback_failed(
                session, feedback_id, error=error, retryable=retryable, now=now
            )
    except UnknownExchange:
        return  # removed (forced) while it was being sent
    if state is FeedbackState.FAILED:
        round_.failed += 1
    else:
        round_.retrying += 1
