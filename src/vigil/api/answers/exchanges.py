"""Answers of the hash-exchange administration routes: each exchange's settings and state,
its feedback queue, a fetch started. Never a credential nor the checkpoint's content (a
service's paging token): ``has_checkpoint`` says whether the next fetch resumes."""

from __future__ import annotations

from vigil.api.answers import Answer, Time


class FeedbackCounts(Answer):
    pending: int
    sent: int
    failed: int


class ExchangeStatus(Answer):
    name: str
    kind: str
    environment: str | None
    base_url: str
    options: dict[str, str]
    lists: list[str]
    enabled: bool
    feedback_enabled: bool
    retro_after_fetch: bool  # retroactive matching of the backlog after a fetch that changed lists
    fetch_interval_seconds: int
    state: str  # never, running, interrupted (running, but its process died), succeeded, failed
    has_checkpoint: bool
    last_fetch_started_at: Time | None
    last_fetch_finished_at: Time | None
    last_fetch_succeeded_at: Time | None
    last_error: str | None
    last_error_kind: str | None
    entries_fetched: int
    entries_deleted: int
    record_errors: int
    feedback: FeedbackCounts
    created_by: str
    created_at: Time
    updated_at: Time


class ExchangeStatuses(Answer):
    exchanges: list[ExchangeStatus]


class FeedbackItem(Answer):
    """One reviewer's verdict queued for the exchange; ``last_error`` says why it failed."""

    id: int
    external_id: str
    entry_id: int | None
    signal_type: str
    signal: str
    verdict: str
    reason: str | None
    state: str
    attempts: int
    next_attempt_at: Time
    last_error: str | None
    created_by: str
    created_at: Time
    sent_at: Time | None


class ExchangeFeedback(Answer):
    exchange: str
    feedback: list[FeedbackItem]


class FetchStarted(Answer):
    """The fetch runs in a worker thread of this service process after the answer; its
    outcome is the exchange's state (GET the exchange)."""

    exchange: str
    started: bool
    runs_in: str
