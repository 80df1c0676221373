"""A fake ThreatExchange Graph API, written from the public description (python-threatexchange's
client, the Graph API's paging and error objects): ``/{privacy_group}/threat_updates``
with start_time/stop_time/limit/after, ``/{privacy_group}`` for its description,
``/{indicator}?fields=descriptors`` and ``POST /{descriptor}`` with ``reactions``.

The token is a query parameter (or a form field of a POST); a wrong one is answered as the
Graph API does, HTTP 400 with an OAuthException. Quirks on request: a cursor is valid only
for the window it was handed out in (facebook/ThreatExchange#1744); ``shuffle_pages`` sends
a page's updates out of time order; ``repeat_last`` repeats the previous page's last
update; the ``paging.next`` link repeats the token, as the real one does; ``faults`` queues
5xx, 429, broken bodies. Indicators are random hex, never media hashes.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.exchanges.fakes.faults import Faults
from tests.exchanges.fakes.serving import FakeRequest, FakeResponse, serving
from tests.exchanges.no_wait import quick_transport
from vigil.exchanges.protocol import ExchangeConfig
from vigil.exchanges.threatexchange import ThreatExchange

TOKEN = "1234567890|fake-access-token-abcdefghijkl"
GROUP = "303636684709969"
APP = "1234567890"
CREDENTIALS = {"access_token": TOKEN}
WRONG_CREDENTIALS = {"access_token": "1234567890|wrong-access-token-zyxwvu"}
ROOT = "/v21.0"


@dataclass
class Indicator:
    id: str
    indicator: str
    type: str
    last_updated: int
    descriptors: list[dict[str, Any]] = field(default_factory=list)
    should_delete: bool = False

    def as_json(self) -> dict[str, Any]:
        update: dict[str, Any] = {
            "id": self.id,
            "indicator": self.indicator,
            "type": self.type,
            "last_updated": self.last_updated,
            "should_delete": self.should_delete,
        }
        if self.descriptors:
            update["descriptors"] = {"data": self.descriptors}
        return update


@dataclass
class _Cursor:
    window: tuple[str | None, str | None]
    rows: list[dict[str, Any]]
    offset: int


class FakeThreatExchange:
    """Callable by ``serving``. Its clock is the wall clock, as the client's window ends
    now; a window includes both its bounds (the public material does not say)."""

    def __init__(self, *, page_size: int = 3, token: str = TOKEN) -> None:
        self.page_size = page_size
        self.token = token
        self.indicators: list[Indicator] = []
        self.faults = Faults()
        self.shuffle_pages = False
        self.repeat_last = False
        self.reactions: list[tuple[str, str]] = []
        self._cursors: dict[str, _Cursor] = {}
        self._ids = iter(range(10**15, 10**16))
        self._lock = threading.Lock()

    def add(
        self,
        kind: str,
        value: str,
        *,
        tags: tuple[str, ...] = (),
        owner: str = "555",
        age: int = 0,
        **extra: Any,
    ) -> Indicator:
        """An indicator with one descriptor by ``owner``, updated ``age`` seconds ago (many
        updates share one second)."""
        descriptor = {
            "id": str(next(self._ids)),
            "owner": {"id": owner},
            "tags": {"data": [{"id": str(next(self._ids)), "text": t} for t in tags]},
            "status": "MALICIOUS",
            "reactions": [],
        }
        updated = int(time.time()) - age
        indicator = Indicator(str(next(self._ids)), value, kind, updated, [descriptor], **extra)
        self.indicators.append(indicator)
        return indicator

    def share_too(self, indicator: Indicator, owner: str) -> str:
        """Another descriptor of ``indicator`` by ``owner``; its id."""
        descriptor = {
            **indicator.descriptors[0],
            "id": str(next(self._ids)),
            "owner": {"id": owner},
        }
        indicator.descriptors.append(descriptor)
        return str(descriptor["id"])

    def delete(self, indicator: Indicator) -> None:
        """A tombstone, as threat_updates sends for a removed indicator."""
        indicator.should_delete, indicator.descriptors = True, []
        indicator.last_updated = int(time.time())

    def touch(self, indicator: Indicator) -> None:
        indicator.last_updated = int(time.time())

    def expire_cursors(self) -> None:
        with self._lock:
            self._cursors.clear()

    def __call__(self, request: FakeRequest) -> FakeResponse:
        return self.faults.answer(request, lambda: self._answer(request))

    def _answer(self, request: FakeRequest) -> FakeResponse:
        form = parse_qs(request.body.decode()) if request.method == "POST" else {}
        token = request.param("access_token") or (form.get("access_token") or [None])[0]
        if token != self.token:
            return _error(400, 190, "OAuthException", "Invalid OAuth access token.")
        parts = [p for p in request.path.split("/") if p][1:]  # drop the version
        if request.method == "GET" and parts == [GROUP, "threat_updates"]:
            return self._updates(request)
        if request.method == "GET" and parts == [GROUP]:
            return _json(
                {"id": GROUP, "name": "Fake collaboration", "threat_updates_enabled": True}
            )
        if request.method == "GET" and len(parts) == 1:
            return self._indicator(parts[0])
        if request.method == "POST" and len(parts) == 1:
            return self._react(parts[0], form)
        return _error(400, 100, "GraphMethodException", "Unsupported request")

    def _updates(self, request: FakeRequest) -> FakeResponse:
        window = (request.param("start_time"), request.param("stop_time"))
        size = min(int(request.param("limit") or self.page_size), self.page_size)
        after = request.param("after")
        with self._lock:
            if after is not None:
                cursor = self._cursors.get(after)
                if cursor is None or cursor.window != window:
                    return _error(400, 100, "GraphMethodException", "Invalid cursor")
            else:
                cursor = _Cursor(window, self._snapshot(window), 0)
            page = cursor.rows[cursor.offset : cursor.offset + size]
            if self.repeat_last and cursor.offset > 0:
                page = [cursor.rows[cursor.offset - 1], *page]
            if self.shuffle_pages:
                page = random.sample(page, len(page))
            following = cursor.offset + size
            paging: dict[str, Any] = {}
            if following < len(cursor.rows):
                token = secrets.token_urlsafe(12)
                self._cursors[token] = _Cursor(window, cursor.rows, following)
                query = {**{k: v[0] for k, v in request.query.items()}, "after": token}
                paging = {
                    "cursors": {"before": "b", "after": token},
                    "next": f"https://graph.facebook.com{request.path}?{urlencode(query)}",
                }
        return _json({"data": page, "paging": paging})

    def _snapshot(self, window: tuple[str | None, str | None]) -> list[dict[str, Any]]:
        start = int(window[0] or 0)
        stop = int(window[1]) if window[1] else int(time.time())
        rows = [i for i in self.indicators if start <= i.last_updated <= stop]
        return [i.as_json() for i in sorted(rows, key=lambda i: i.last_updated)]

    def _indicator(self, entry: str) -> FakeResponse:
        found = next((i for i in self.indicators if i.id == entry), None)
        if found is None:
            return _error(400, 100, "GraphMethodException", "Object does not exist")
        shown = [{"id": d["id"], "owner": d["owner"]} for d in found.descriptors]
        return _json({"id": entry, "descriptors": {"data": shown}})

    def _react(self, descriptor: str, form: dict[str, list[str]]) -> FakeResponse:
        known = {d["id"] for i in self.indicators for d in i.descriptors}
        if descriptor not in known:
            return _error(400, 100, "GraphMethodException", "Object does not exist")
        reaction = (form.get("reactions") or [""])[0]
        self.reactions.append((descriptor, reaction))
        return _json({"success": True})


def _json(body: object, status: int = 200) -> FakeResponse:
    return FakeResponse(status, json.dumps(body).encode())


def _error(status: int, code: int, kind: str, message: str) -> FakeResponse:
    return _json({"error": {"message": message, "type": kind, "code": code}}, status)


@contextmanager
def sample_service(entries: int = 20, page_size: int = 4) -> Iterator[str]:
    """A running fake holding a few pages of random hashes; yields its root URL."""
    fake = FakeThreatExchange(page_size=page_size)
    for number in range(entries):
        if number % 5 == 4:
            fake.add("HASH_MD5", secrets.token_hex(16), owner="777", age=60)
        else:
            fake.add("HASH_PDQ", secrets.token_hex(32), tags=("sample",), age=60)
    with serving(fake) as service:
        yield service.url(ROOT)


def sample_client(root: str, credentials: Mapping[str, str]) -> ThreatExchange:
    config = ExchangeConfig(
        base_url=root,
        credentials=dict(credentials),
        options={"privacy_group": GROUP},
        timeout_seconds=5,
    )
    return ThreatExchange(config, quick_transport(config))
