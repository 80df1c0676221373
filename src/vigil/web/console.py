"""Mounting the console into the API application: its static files, its pages and the
page-shaped refusals a browser gets."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from vigil.http.errors import ApiError
from vigil.web.pages import PAGE_ROUTERS
from vigil.web.refusals import install_page_refusals
from vigil.web.templating import STATIC_DIR


def mount_console(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in PAGE_ROUTERS:
        # One check for every screen, present and future: see people_only.
        app.include_router(router, dependencies=[Depends(people_only)])
    install_page_refusals(app)


def people_only(request: Request) -> None:
    """The console is for people with a session: its screens show and reveal media to
    reviewers, and an API key, whatever its scopes, reaches only the /v1 routes its scopes
    document (issue 14). The sign-in page itself has no caller yet, and needs none."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.kind != "user":
        raise ApiError(
            403,
            "the console is for people who sign in; an API key reaches only "
            "the API under /v1 (see /docs)",
            code="console_needs_person",
        )
