"""Sending the browser to another page, whether it asked with a plain request or with HTMX
(which follows a redirect inside the page: HX-Redirect makes it load the new page whole)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response


def go_to(request: Request, target: str) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
