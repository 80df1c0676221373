"""An ASGI application served by uvicorn on a free loopback port, in a thread of this process:
for real HTTP clients and browsers pointed at it (the browser tests, scripts/screenshots.py).
Not how the service runs (that is `vigil serve`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"
# A loaded machine (CI, several pytest workers) opens the database and index slowly.
START_SECONDS = 60.0
STOP_SECONDS = 10.0


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serves ``app`` until the block ends; yields its base URL once it accepts requests."""
    # The socket stays bound from here on and is handed to uvicorn: probing for a free port
    # and binding it again later could race another process (pytest-xdist workers).
    listening = socket.socket()
    try:
        listening.bind((HOST, 0))
        port = listening.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
        thread.start()
        try:
            _wait_until_started(server, thread)
            yield f"http://{HOST}:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=STOP_SECONDS)
    finally:
        listening.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the application did not start on {HOST}")
        time.sleep(0.05)
