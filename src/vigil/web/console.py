"""Mounting the console into the API application: its static files, its pages and the
page-shaped refusals a browser gets."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from vigil.http.errors import ApiError
from vigil.web.pages import PAGE_ROUTERS
from vigil.web.refusals import install_page_refusals
from vigil.web.templating import STATIC_DIR

log = logging.getLogger(__name__)
# Fetched by scripts/web_assets.sh, not shipped: a wheel or `pip install` has none.
HTMX_FILE = STATIC_DIR / "vendor" / "htmx.min.js"
HTMX_MISSING = (
    "The console's HTMX script is missing ({path}): buttons and forms that act in place "
    "will do nothing. Install it with scripts/web_assets.sh (or copy htmx.min.js 2.x there) "
    "and restart."
)


def mount_console(app: FastAPI) -> None:
    app.state.htmx_missing = htmx_missing(HTMX_FILE)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in PAGE_ROUTERS:
        # One check for every screen, present and future: see people_only.
        app.include_router(router, dependencies=[Depends(people_only)])
    install_page_refusals(app)


def htmx_missing(path: Path) -> bool:
    """Checked once at start-up: logged here, and every page shows a banner (base.html)."""
    if path.is_file():
        return False
    log.warning(HTMX_MISSING.format(path=path))
    return True


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
