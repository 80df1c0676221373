"""Mounting the console into the API application: its static files, its pages and the
page-shaped refusals a browser gets."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from vigil.web.pages import PAGE_ROUTERS
from vigil.web.refusals import install_page_refusals
from vigil.web.templating import STATIC_DIR


def mount_console(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in PAGE_ROUTERS:
        app.include_router(router)
    install_page_refusals(app)
