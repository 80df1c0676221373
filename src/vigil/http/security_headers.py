"""Headers on every response: nothing is cached (answers name content and accounts), nothing
is sniffed or framed, no referrer leaves the service; the browser runs only the console's own
script and style sheet (Content-Security-Policy), keeps the page in its own browsing context
and process (COOP, CORP), grants no device (Permissions-Policy) and, when the service is
served over HTTPS, never reaches it over plain HTTP again (HSTS). docs/security.md explains
each choice."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# blob: the revealed picture lives in the page as an object URL (static/protected_media.js);
# data: the empty favicon (base.html) and the style sheets' small inline images.
_IMAGES = "'self' data: blob:"
# Every feature a page could ask for that Vigil never needs: no prompt can appear.
_NO_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "serial",
    "usb",
)
HSTS = b"max-age=31536000"  # a year; not includeSubDomains: the domain may serve others


def content_security_policy(
    *, script_hashes: Iterable[str] = (), inline_styles: bool = False
) -> str:
    """The console's policy: its own files only, no inline script or style, no plugin, no
    framing, forms only to itself. A page that needs an exception (the API's /docs) names its
    inline script by hash rather than allowing inline scripts."""
    scripts = " ".join(["'self'", *(f"'sha256-{digest}'" for digest in script_hashes)])
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            f"style-src {styles}",
            f"img-src {_IMAGES}",
            "media-src 'self' blob:",  # a revealed video plays from an object URL too
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _headers(strict_transport: bool) -> tuple[tuple[bytes, bytes], ...]:
    headers = (
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", content_security_policy().encode()),
        (b"permissions-policy", ", ".join(f"{name}=()" for name in _NO_FEATURES).encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
    )
    return (*headers, (b"strict-transport-security", HSTS)) if strict_transport else headers


class SecurityHeaders:
    """Adds each header the response does not set itself (a page with its own policy keeps
    it). ``strict_transport``: the service is reached over HTTPS ([api] secure_cookies)."""

    def __init__(self, app: ASGIApp, *, strict_transport: bool) -> None:
        self.app = app
        self.headers = _headers(strict_transport)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
