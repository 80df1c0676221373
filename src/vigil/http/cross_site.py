"""Sign-in accepts only what this site's own pages send. Without a session there is no CSRF
token yet, so another site's form could otherwise sign a browser in to an account of the
attacker's choosing (login CSRF) and collect what the person then does there.

The browser says where a request comes from: ``Sec-Fetch-Site`` (every current browser) or,
failing that, ``Origin``. A request that carries neither is not a browser's cross-site form
(scripts, curl), and is judged on its credentials alone."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from vigil.http.errors import ApiError

# "none": the person typed the address or used a bookmark; not another site.
_OWN = frozenset({"same-origin", "none"})


def refuse_cross_site(request: Request) -> None:
    """A dependency of the sign-in routes: 403 for a request another site started."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site.strip().lower() in _OWN:
            return
        raise _cross_site()
    origin = request.headers.get("origin")
    if origin is not None and not _same_host(origin, request.headers.get("host", "")):
        raise _cross_site()


def _same_host(origin: str, host: str) -> bool:
    # The host, not the scheme: behind a TLS proxy this service sees http where the
    # browser sees https. "null" (a sandboxed or file page) names no host and fails.
    return bool(host) and urlsplit(origin.strip()).netloc.lower() == host.strip().lower()


def _cross_site() -> ApiError:
    return ApiError(403, "sign in from Vigil's own sign-in page", code="cross_site")
