"""Runs a fake exchange service on 127.0.0.1 in a thread, for tests over real HTTP.

A fake is any callable taking a ``FakeRequest`` and returning a ``FakeResponse``. The
standard library's threading HTTP server is used rather than an ASGI app: it lets a fake
send raw, broken answers (a body cut short, a connection that never answers), which is
what the bad-input tests need, and it starts in milliseconds on a port the OS picks
(binding port 0, so no race with another test for a "free" port).

    with serving(fake) as service:
        client = SomeExchange(ExchangeConfig(base_url=service.url("/root")))
        ...
        assert service.requests[-1].path == "/root/v2/status"
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HANG_LIMIT_SECONDS = 60.0  # a hanging answer gives up on its own if the test forgets it


@dataclass(frozen=True)
class FakeRequest:
    method: str
    target: str  # path and query as sent
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def basic_auth(self) -> tuple[str, str] | None:
        """The (user, password) of an HTTP basic Authorization header, if one was sent."""
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(token).decode().partition(":")
        except ValueError:
            return None
        return (user, password) if sep else None


@dataclass
class FakeResponse:
    """What to answer. ``truncate_to``: send only this many bytes of the body, although the
    Content-Length announces all of it, then close. ``hang``: answer nothing until the
    service stops (a server that never answers)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    truncate_to: int | None = None
    hang: bool = False


Fake = Callable[[FakeRequest], FakeResponse]


class FakeService:
    """A running fake: its base URL and every request it received, in order."""

    def __init__(self, server: ThreadingHTTPServer, stopping: threading.Event) -> None:
        self._server = server
        self._stopping = stopping
        self.requests: list[FakeRequest] = []
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    def url(self, path: str = "") -> str:
        return self.base_url + path


@contextmanager
def serving(fake: Fake) -> Iterator[FakeService]:
    """Serve ``fake`` on loopback until the block ends; hanging answers are released then."""
    stopping = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(fake, stopping))
    server.daemon_threads = True
    service = FakeService(server, stopping)
    server.service = service  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-exchange", daemon=True
    )
    thread.start()
    try:
        yield service
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _handler_class(fake: Fake, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and
            # the client's delayed ACK hold every answer back ~40 ms.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # the name http.server dispatches to
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def do_DELETE(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: object) -> None:
            return  # keep test output clean

        def _answer(self) -> None:
            request = self._request()
            self.server.service.requests.append(request)  # type: ignore[attr-defined]
            try:
                response = fake(request)
            except Exception as exc:  # a broken fake shows as a 500 naming the bug
                response = FakeResponse(500, f"fake failed: {exc!r}".encode(), "text/plain")
            if response.hang:
                stopping.wait(HANG_LIMIT_SECONDS)
                self.close_connection = True
                return
            self._send(response)

        def _request(self) -> FakeRequest:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            return FakeRequest(
                method=self.command,
                target=self.path,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )

        def _send(self, response: FakeResponse) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.truncate_to is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            body = response.body
            if response.truncate_to is not None:
                body = body[: response.truncate_to]
                self.close_connection = True
            self.wfile.write(body)
            self.wfile.flush()

    return Handler
