"""The administrator's view of the hash exchanges: each one's state, last fetch, counts, last
error and feedback queue, a switch to stop or resume fetching, one to stop or resume its
feedback and one for retroactive matching after its fetches (the store functions the CLI
and the API switch with). Same permission as /v1/admin/exchanges; credentials and
checkpoints are never shown (ExchangeStatus has neither)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.exchanges.fetch_liveness import with_live_states
from vigil.http.dependencies import UsersManaging
from vigil.http.state import service_state
from vigil.store.accounts import Principal
from vigil.store.exchanges.catalogue import (
    set_exchange_enabled,
    set_feedback_enabled,
    set_retro_after_fetch,
)
from vigil.store.exchanges.errors import UnknownExchange
from vigil.store.exchanges.status import exchange_statuses
from vigil.web.templating import templates

# A store switch: (session, name, on, actor=...) -> whether anything changed (and was audited).
Switch = Callable[..., bool]

router = APIRouter(prefix="/admin/exchanges", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def exchanges_page(request: Request, principal: UsersManaging) -> Response:
    return _page(request, principal)


@router.post("/switch", response_class=HTMLResponse)
def switch(
    request: Request,
    *,
    name: str = Form(min_length=1, max_length=200),
    enabled: str = Form(pattern="^(on|off)$"),
    principal: UsersManaging,
) -> Response:
    """Stops or resumes fetching. The name travels in the form, not the path: any printable
    name, a slash included."""
    wanted = enabled == "on"
    word = "enabled" if wanted else "disabled"
    effect = (
        "it fetches again on its schedule" if wanted else "it neither fetches nor sends feedback"
    )
    return _switched(
        request,
        principal,
        _flip(request, principal, name, set_exchange_enabled, wanted),
        already=f"Exchange {name} was already {word}.",
        now=f"Exchange {name} is now {word}: {effect}.",
    )


@router.post("/feedback", response_class=HTMLResponse)
def feedback_switch(
    request: Request,
    *,
    name: str = Form(min_length=1, max_length=200),
    feedback: str = Form(pattern="^(on|off)$"),
    principal: UsersManaging,
) -> Response:
    """Turns sending reviewers' verdicts to the exchange on or off; answered like the switch."""
    wanted = feedback == "on"
    effect = (
        "reviewers' verdicts on its entries are queued and sent"
        if wanted
        else "reviewers' verdicts are no longer queued for it, and what is queued waits"
    )
    return _switched(
        request,
        principal,
        _flip(request, principal, name, set_feedback_enabled, wanted),
        already=f"Feedback to {name} was already {feedback}.",
        now=f"Feedback to {name} is now {feedback}: {effect}.",
    )


@router.post("/retro", response_class=HTMLResponse)
def retro_switch(
    request: Request,
    *,
    name: str = Form(min_length=1, max_length=200),
    retro: str = Form(pattern="^(on|off)$"),
    principal: UsersManaging,
) -> Response:
    """Turns retroactive matching after each fetch that stored a change on or off."""
    wanted = retro == "on"
    effect = (
        "each fetch that stores a change is followed by retroactive matching of the stored "
        "backlog fingerprints"
        if wanted
        else "its fetches are no longer followed by retroactive matching"
    )
    return _switched(
        request,
        principal,
        _flip(request, principal, name, set_retro_after_fetch, wanted),
        already=f"Retro after fetching {name} was already {retro}.",
        now=f"Retro after fetching {name} is now {retro}: {effect}.",
    )


def _flip(
    request: Request, principal: Principal, name: str, switch: Switch, wanted: bool
) -> bool | UnknownExchange:
    """Whether the switch changed anything, or the exchange it could not find."""
    with service_state(request).database.transaction(write=True) as session:
        try:
            return switch(session, name, wanted, actor=principal.actor)
        except UnknownExchange as exc:
            return exc


def _switched(
    request: Request,
    principal: Principal,
    outcome: bool | UnknownExchange,
    *,
    already: str,
    now: str,
) -> Response:
    """The page itself with a sentence saying what happened: a click that changed nothing
    (already in that state, exchange removed meanwhile) is never silent."""
    if isinstance(outcome, UnknownExchange):
        return _page(request, principal, refusal=f"Nothing changed: {outcome}.", status=404)
    return _page(request, principal, notice=now if outcome else already)


def _page(
    request: Request,
    principal: Principal,
    *,
    notice: str = "",
    refusal: str = "",
    status: int = 200,
) -> Response:
    database = service_state(request).database
    with database.transaction() as session:
        found = with_live_states(database, exchange_statuses(session))
    return templates.TemplateResponse(
        request,
        "exchanges.html",
        {"exchanges": found, "principal": principal, "notice": notice, "refusal": refusal},
        status_code=status,
    )
