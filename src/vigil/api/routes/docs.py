"""The OpenAPI schema and its interactive page, for signed-in people and API keys only.

Swagger UI's script and style sheet come from the fastapi-offline wheel, served here under
/docs/assets behind the same authentication: the page works on a machine that reaches no
CDN, and nothing about the operator's browsing leaves for one."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from vigil.http.auth import DOCS_PATH
from vigil.http.dependencies import needs
from vigil.http.security_headers import content_security_policy

router = APIRouter(tags=["documentation"], dependencies=[needs(None)])
ASSETS = f"{DOCS_PATH}/assets"
SWAGGER_UI = Path(str(files("fastapi_offline") / "static"))
# Swagger UI's own default would send every schema to an online validator.
PARAMETERS = {"validatorUrl": None}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


@router.get("/openapi.json", include_in_schema=False)
def openapi_schema(request: Request) -> dict[str, Any]:
    return request.app.openapi()


@router.get(DOCS_PATH, include_in_schema=False)
def openapi_page() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Vigil API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        swagger_ui_parameters=PARAMETERS,
    )
    page.headers["Content-Security-Policy"] = _page_policy(bytes(page.body))
    return page


def _page_policy(page: bytes) -> str:
    """The console's policy with this page's exceptions only: its one inline script (the
    Swagger UI start-up, named by its hash, so no other inline script runs) and inline styles
    (Swagger UI sets them as it renders)."""
    inline = _INLINE_SCRIPT.findall(page)
    digests = [base64.b64encode(hashlib.sha256(script).digest()).decode() for script in inline]
    return content_security_policy(script_hashes=digests, inline_styles=True)


def mount_docs(app: FastAPI) -> None:
    """The page, the schema and the page's assets (the authentication middleware guards the
    mount: it is not a public path)."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")
