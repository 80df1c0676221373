"""Telling the person what their action did: a success (or a quiet refusal) travels with the
answer as an HTMX event, or in a short-lived cookie across a redirect; notices.js shows it."""

from __future__ import annotations

import json
from typing import Literal
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from vigil.http.state import service_state

NOTICE_EVENT = "vigil:notice"
NOTICE_COOKIE = "vigil_notice"
# Long enough to survive a redirect on a slow link, short enough not to greet a later page.
NOTICE_COOKIE_SECONDS = 30
MAX_NOTICE_CHARS = 500

NoticeKind = Literal["ok", "refused"]


def notify(response: Response, text: str, kind: NoticeKind = "ok") -> Response:
    """Shown in the live region of the page the request came from (HTMX requests), once the
    answer is swapped in: fired earlier, a whole page swapped into <body> would replace the
    region that shows it. The answer must be swapped (not a 204)."""
    response.headers["HX-Trigger-After-Settle"] = json.dumps({NOTICE_EVENT: _notice(text, kind)})
    return response


def done_then_go_to(request: Request, target: str, text: str) -> Response:
    """A change done, then the screen that shows it (303): the sentence rides the redirect,
    whether a plain form or HTMX (which follows the redirect and swaps the page in) asked."""
    response = RedirectResponse(target, status_code=303)
    secure = service_state(request).settings.api.secure_cookies
    return notify_after_redirect(response, text, secure=secure)


def notify_after_redirect(
    response: Response, text: str, kind: NoticeKind = "ok", *, secure: bool
) -> Response:
    """Shown by the next page loaded: for answers that send the browser elsewhere."""
    response.set_cookie(
        NOTICE_COOKIE,
        quote(json.dumps(_notice(text, kind))),
        max_age=NOTICE_COOKIE_SECONDS,
        path="/",
        samesite="strict",
        secure=secure,
        # Read by notices.js, so not HttpOnly; it carries only the sentence shown.
        httponly=False,
    )
    return response


def _notice(text: str, kind: NoticeKind) -> dict[str, str]:
    return {"text": text[:MAX_NOTICE_CHARS], "kind": kind}
