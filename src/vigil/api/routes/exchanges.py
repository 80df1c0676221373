"""Hash exchanges over HTTP, for administrators: each exchange's state, last fetch, counts,
errors and feedback queue; switching one off and on, its feedback off and on, and its
retroactive matching after a fetch off and on; starting a fetch now.

Administrators only (users:manage, which no API key can hold): an exchange's errors and
feedback describe what reviewers decided. Credentials are set with `vigil exchanges add`
and `set-credentials` only; no answer holds them.

A fetch asked for here runs in a worker thread of this service process after the answer
(FastAPI's background task), not in the request: a first fetch can take minutes. It is
checked first (disabled: 409; being fetched by another process: 409) and then takes the
exchange's own lock like every fetch, so it never runs beside the scheduled one. Like a
scheduled fetch, one that stored a change of an exchange with ``retro_after_fetch`` on is
followed by a round of retroactive matching (vigil.jobs.exchange_retro).

An exchange's name may hold "/" (e.g. "ncmec/esp"): ``{name:path}`` takes it whole, and as
the match is greedy the last suffix is the action, so POST .../ncmec/esp/enable enables
"ncmec/esp". Written as is or percent-encoded ("ncmec%2Fesp"), it is the same name. The one
ambiguity: GET .../x/feedback is the feedback queue of "x", so an exchange called
"x/feedback" is read through the list (GET /v1/admin/exchanges).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Query, Request

from vigil.api.answers.exchanges import (
    ExchangeFeedback,
    ExchangeStatus,
    ExchangeStatuses,
    FetchStarted,
)
from vigil.exchanges.fetch_liveness import with_live_state, with_live_states
from vigil.exchanges.fetching import FetchAlreadyRunning, FetchRefused
from vigil.exchanges.requested import check_fetch_can_start
from vigil.http.dependencies import UsersManaging
from vigil.http.error_answers import RESOURCES
from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.jobs.exchange_retro import fetch_one_then_retro
from vigil.store.accounts import Principal
from vigil.store.exchanges.catalogue import (
    set_exchange_enabled,
    set_feedback_enabled,
    set_retro_after_fetch,
)
from vigil.store.exchanges.errors import UnknownExchange
from vigil.store.exchanges.feedback_queue import feedback_of_exchange
from vigil.store.exchanges.status import ExchangeStatus as Status
from vigil.store.exchanges.status import exchange_status, exchange_statuses
from vigil.store.models import ExchangeFeedback as FeedbackRow
from vigil.store.models import FeedbackState

# A store switch: (session, name, on, actor=...) -> whether anything changed (and was audited).
Switch = Callable[..., bool]

router = APIRouter(prefix="/v1/admin/exchanges", tags=["exchanges"], responses=RESOURCES)
BACKGROUND_THREAD = "a worker thread of this service process"


@router.get("", response_model=ExchangeStatuses)
def exchanges(request: Request, _principal: UsersManaging) -> dict[str, Any]:
    database = service_state(request).database
    with database.transaction() as session:
        found = with_live_states(database, exchange_statuses(session))
        return {"exchanges": [_status(item) for item in found]}


@router.post("/{name:path}/enable", response_model=ExchangeStatus)
def enable(name: str, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Fetch it again (on schedule and on demand) and send its queued feedback."""
    return _switch(request, name, set_exchange_enabled, True, principal)


@router.post("/{name:path}/disable", response_model=ExchangeStatus)
def disable(name: str, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Stop fetching it and sending its feedback; its checkpoint and list entries stay."""
    return _switch(request, name, set_exchange_enabled, False, principal)


@router.post("/{name:path}/feedback/on", response_model=ExchangeStatus)
def feedback_on(name: str, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Queue reviewers' verdicts on its entries for it again (the default)."""
    return _switch(request, name, set_feedback_enabled, True, principal)


@router.post("/{name:path}/feedback/off", response_model=ExchangeStatus)
def feedback_off(name: str, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Stop queueing reviewers' verdicts for it; items already queued wait, unsent, until
    feedback is on again."""
    return _switch(request, name, set_feedback_enabled, False, principal)


@router.post("/{name:path}/retro/on", response_model=ExchangeStatus)
def retro_on(name: str, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Follow each fetch of it that stored a change with a round of retroactive matching
    over the stored backlog fingerprints."""
    return _switch(request, name, set_retro_after_fetch, True, principal)


@router.post("/{name:path}/retro/off", response_model=ExchangeStatus)
def retro_off(name: str, request: Request, principal: UsersManaging) -> dict[str, Any]:
    """Fetch it without a retro round after (the default)."""
    return _switch(request, name, set_retro_after_fetch, False, principal)


@router.post("/{name:path}/fetch", status_code=202, response_model=FetchStarted)
def fetch(
    name: str, request: Request, tasks: BackgroundTasks, principal: UsersManaging
) -> dict[str, Any]:
    """Start a fetch now, in a worker thread after this answer; its outcome is the
    exchange's state."""
    state = service_state(request)
    master_key = state.master_key
    if master_key is None:
        raise ApiError(
            503, "no evidence master key is configured: exchange credentials are sealed under it"
        )
    with _known():
        try:
            stored = check_fetch_can_start(state.database, name)
        except FetchAlreadyRunning as exc:
            raise ApiError(409, str(exc), code="fetch_running") from None
        except FetchRefused as exc:
            raise ApiError(409, str(exc), code="exchange_disabled") from None
    tasks.add_task(
        fetch_one_then_retro,
        state.database,
        stored,
        master_key,
        state.settings.data_dir,
        actor=principal.actor,
    )
    return {"exchange": stored, "started": True, "runs_in": BACKGROUND_THREAD}


@router.get("/{name:path}/feedback", response_model=ExchangeFeedback)
def feedback(
    name: str,
    request: Request,
    *,
    state: FeedbackState | None = Query(None, description="Only items in this state."),
    limit: int = Query(100, ge=1, le=1000),
    _principal: UsersManaging,
) -> dict[str, Any]:
    """The exchange's feedback queue, newest first: pending, sent, failed (with the reason)."""
    with service_state(request).database.transaction() as session, _known():
        items = feedback_of_exchange(session, name, state, limit)
        return {"exchange": name.strip(), "feedback": [_feedback(item) for item in items]}


# Declared last: "/{name:path}" matches every path below the prefix, so each route with a
# suffix must be tried before it.
@router.get("/{name:path}", response_model=ExchangeStatus)
def exchange(name: str, request: Request, _principal: UsersManaging) -> dict[str, Any]:
    database = service_state(request).database
    with database.transaction() as session, _known():
        return _status(with_live_state(database, exchange_status(session, name)))


def _switch(
    request: Request, name: str, switch: Switch, on: bool, principal: Principal
) -> dict[str, Any]:
    """The switches answer the status whether or not they changed anything (idempotent);
    the store audits a change under the person's name, as the CLI's does."""
    with service_state(request).database.transaction(write=True) as session, _known():
        switch(session, name, on, actor=principal.actor)
        return _status(exchange_status(session, name))


class _known:
    """An unknown exchange is a 404 naming it."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, _kind: object, error: BaseException | None, _trace: object) -> None:
        if isinstance(error, UnknownExchange):
            raise ApiError(404, str(error), code="unknown_exchange") from None


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _status(item: Status) -> dict[str, Any]:
    return {
        "name": item.name,
        "kind": item.kind,
        "environment": item.environment,
        "base_url": item.base_url,
        "options": dict(item.options),
        "lists": list(item.lists),
        "enabled": item.enabled,
        "feedback_enabled": item.feedback_enabled,
        "retro_after_fetch": item.retro_after_fetch,
        "fetch_interval_seconds": item.fetch_interval_seconds,
        "state": item.shown_fetch_state,
        "has_checkpoint": item.has_checkpoint,
        "last_fetch_started_at": _time(item.last_fetch_started_at),
        "last_fetch_finished_at": _time(item.last_fetch_finished_at),
        "last_fetch_succeeded_at": _time(item.last_fetch_succeeded_at),
        "last_error": item.last_error,
        "last_error_kind": item.last_error_kind,
        "entries_fetched": item.entries_fetched,
        "entries_deleted": item.entries_deleted,
        "record_errors": item.record_errors,
        "feedback": {state.value: item.feedback.get(state, 0) for state in FeedbackState},
        "created_by": item.created_by,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def _feedback(item: FeedbackRow) -> dict[str, Any]:
    return {
        "id": item.id,
        "external_id": item.external_id,
        "entry_id": item.entry_id,
        "signal_type": str(item.signal_type),
        "signal": item.signal,
        "verdict": str(item.verdict),
        "reason": item.reason,
        "state": str(item.state),
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat(),
        "last_error": item.last_error,
        "created_by": item.created_by,
        "created_at": item.created_at.isoformat(),
        "sent_at": _time(item.sent_at),
    }
