"""The OpenAPI schema and its interactive page, for signed-in people and API keys only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from vigil.api.auth import require

router = APIRouter(tags=["documentation"], dependencies=[Depends(require(None))])


@router.get("/openapi.json", include_in_schema=False)
def openapi_schema(request: Request) -> dict[str, Any]:
    return request.app.openapi()


@router.get("/docs", include_in_schema=False)
def openapi_page() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Vigil API")
