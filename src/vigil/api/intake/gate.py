"""In front of everything else for /ispws paths: a Request-ID header on every answer (the
documentation asks reporters to quote it), and the intake's own body limit, answered with the
documented error document instead of the JSON the rest of the API uses."""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.api.intake.documents import MEDIA_TYPE, error_body
from vigil.clearinghouse.codes import ResponseCode
from vigil.http.body_limit import declared_length

REQUEST_ID_HEADER = "Request-ID"
INTAKE_PATH = "/ispws"
FINISH_PATH = INTAKE_PATH + "/finish"  # answered with <reportDoneResponse>, errors too


class _TooLarge(Exception):
    pass


class IntakeGate:
    """ASGI middleware; other paths pass untouched."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == INTAKE_PATH or path.startswith(INTAKE_PATH + "/")
        ):
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())
        declared = declared_length(scope)
        done = path.rstrip("/") == FINISH_PATH
        if declared is not None and declared > self.max_bytes:
            await self._too_large(send, header, done)
            return
        started = False
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def identified_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, bounded_receive, identified_send)
        except _TooLarge:
            if not started:
                await self._too_large(send, header, done)

    async def _too_large(self, send: Send, header: tuple[bytes, bytes], done: bool) -> None:
        body = error_body(
            ResponseCode.INVALID_REQUEST,
            f"Invalid request: the request body exceeds {self.max_bytes} bytes",
            done=done,
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    header,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
