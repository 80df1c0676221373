"""The OpenAPI schema and its interactive page, for signed-in people and API keys only.

Swagger UI's script and style sheet come from the fastapi-offline wheel, served here under
/docs/assets behind the same authentication: the page works on a machine that reaches no
CDN, and nothing about the operator's browsing leaves for one."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from vigil.api.auth import DOCS_PATH, require

router = APIRouter(tags=["documentation"], dependencies=[Depends(require(None))])
ASSETS = f"{DOCS_PATH}/assets"
SWAGGER_UI = Path(str(files("fastapi_offline") / "static"))
# Swagger UI's own default would send every schema to an online validator.
PARAMETERS = {"validatorUrl": None}


@router.get("/openapi.json", include_in_schema=False)
def openapi_schema(request: Request) -> dict[str, Any]:
    return request.app.openapi()


@router.get(DOCS_PATH, include_in_schema=False)
def openapi_page() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="Vigil API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        swagger_ui_parameters=PARAMETERS)


def mount_docs(app: FastAPI) -> None:
    """The page, the schema and the page's assets (the authentication middleware guards the
    mount: it is not a public path)."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")
