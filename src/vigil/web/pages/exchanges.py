"""The administrator's view of the hash exchanges: each one's state, last fetch, counts, last
error and feedback queue, and a switch to stop or resume fetching. Same permission as
/v1/admin/exchanges; credentials and checkpoints are never shown (ExchangeStatus has neither)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from vigil.exchanges.fetch_liveness import with_live_states
from vigil.http.dependencies import UsersManaging
from vigil.http.state import service_state
from vigil.store.accounts import Principal
from vigil.store.exchanges.catalogue import set_exchange_enabled
from vigil.store.exchanges.errors import UnknownExchange
from vigil.store.exchanges.status import exchange_statuses
from vigil.web.templating import templates

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
    """Answers with the page itself and a sentence saying what happened, so a click that
    changed nothing (already in that state, exchange removed meanwhile) is never silent.
    The name travels in the form, not the path: any printable name, a slash included."""
    wanted = enabled == "on"
    word = "enabled" if wanted else "disabled"
    with service_state(request).database.transaction(write=True) as session:
        try:
            changed = set_exchange_enabled(session, name, wanted, actor=principal.actor)
        except UnknownExchange as exc:
            return _page(request, principal, refusal=f"Nothing changed: {exc}.", status=404)
    if not changed:
        return _page(request, principal, notice=f"Exchange {name} was already {word}.")
    effect = (
        "it fetches again on its schedule" if wanted else "it neither fetches nor sends feedback"
    )
    return _page(request, principal, notice=f"Exchange {name} is now {word}: {effect}.")


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
