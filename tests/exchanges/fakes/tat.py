"""A fake Tech Against Terrorism hash list (TCAP), written from the public description
(python-threatexchange's client): ``POST /token-auth/tcap/`` gives a bearer token for a
username and password (a wrong pair is a 400, as the sign-in answers it); ``GET
/api/hash-list/v2/all`` pages entries in (updated_on, id) order after a checkpoint
"<updated_on>,<id>", with a ``next`` offset link while more remain.

Quirks on request: many entries share one updated_on; ``expire_tokens()`` makes the tokens
handed out so far answer 403 as expired; ``repeat_last`` repeats the previous page's last entry;
``faults`` queues 5xx, 429, broken bodies. Hashes are random hex, never media hashes.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.exchanges.fakes.faults import Faults
from tests.exchanges.fakes.serving import FakeRequest, FakeResponse, serving
from tests.exchanges.no_wait import quick_transport
from vigil.exchanges.protocol import ExchangeConfig
from vigil.exchanges.tat import TechAgainstTerrorism

USERNAME = "platform-user"
PASSWORD = "tcap-Pa55word-0123"
CREDENTIALS = {"username": USERNAME, "password": PASSWORD}
WRONG_CREDENTIALS = {"username": USERNAME, "password": "wrong-tcap-Pa55word"}


@dataclass
class Entry:
    id: int
    hash_digest: str
    algorithm: str
    ideology: str
    file_type: str
    updated_on: float
    deleted: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "hash_digest": self.hash_digest,
            "algorithm": self.algorithm,
            "ideology": self.ideology,
            "file_type": self.file_type,
            "deleted": self.deleted,
            "updated_on": self.updated_on,
            "created_on": "2025-03-03T23:05:22.587000",
            "id": self.id,
        }

    @property
    def key(self) -> tuple[float, int]:
        return (self.updated_on, self.id)


class FakeTat:
    """Callable by ``serving``; ``now`` is the list's clock (updated_on of the next change)."""

    def __init__(self, *, page_size: int = 3) -> None:
        self.page_size = page_size
        self.now = 1_704_901_040.25
        self.entries: list[Entry] = []
        self.faults = Faults()
        self.repeat_last = False
        self.sign_ins = 0
        self._tokens: set[str] = set()
        self._expired: set[str] = set()
        self._ids = iter(range(2800, 10**9))
        self._lock = threading.Lock()

    def add(
        self, algorithm: str, digest: str, *, ideology: str = "islamist", file_type: str = "mp4"
    ) -> Entry:
        """An entry updated now; the clock stays, so many entries share one updated_on."""
        entry = Entry(next(self._ids), digest, algorithm, ideology, file_type, self.now)
        self.entries.append(entry)
        return entry

    def tick(self) -> None:
        self.now = round(self.now + 0.75, 6)

    def delete(self, entry: Entry) -> None:
        self.tick()
        entry.deleted, entry.updated_on = True, self.now

    def expire_tokens(self) -> None:
        """The tokens handed out so far expire (answered 403, as TCAP documents)."""
        with self._lock:
            self._expired |= self._tokens
            self._tokens.clear()

    def __call__(self, request: FakeRequest) -> FakeResponse:
        return self.faults.answer(request, lambda: self._answer(request))

    def _answer(self, request: FakeRequest) -> FakeResponse:
        if request.method == "POST" and request.path == "/token-auth/tcap/":
            return self._sign_in(request)
        if request.method == "GET" and request.path == "/api/hash-list/v2/all":
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            with self._lock:
                known = scheme == "Bearer" and token in self._tokens
                expired = scheme == "Bearer" and token in self._expired
            if expired:
                return FakeResponse(
                    403, b"Authentication error: Token has expired. Please refresh."
                )
            if not known:
                return _json(401, {"detail": "Given token not valid for any token type"})
            return self._page(request)
        return _json(404, {"detail": "Not found."})

    def _sign_in(self, request: FakeRequest) -> FakeResponse:
        if request.headers.get("content-type", "").startswith("application/json"):
            form = json.loads(request.body)
        else:
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
            return _json(400, {"non_field_errors": ["Unable to log in with provided credentials."]})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
            self.sign_ins += 1
        return _json(200, {"token": token, "user": {"username": USERNAME}})

    def _page(self, request: FakeRequest) -> FakeResponse:
        after = request.param("after") or ""
        offset = int(request.param("offset") or 0)
        limit = min(int(request.param("limit") or self.page_size), self.page_size)
        rows = sorted((e for e in self.entries if e.key > _key(after)), key=lambda e: e.key)
        page = rows[offset : offset + limit]
        if self.repeat_last and after and page:
            previous = [e for e in self.entries if e.key == _key(after)]
            page = previous + page
        following = None
        if offset + limit < len(rows):
            query = {"order": "asc", "after": after, "limit": limit, "offset": offset + limit}
            following = f"http://testserver/api/hash-list/v2/all?{urlencode(query)}"
        checkpoint = f"{page[-1].updated_on},{page[-1].id}" if page else after
        body = {
            "count": len(rows),
            "next": following,
            "previous": None,
            "checkpoint": checkpoint,
            "results": [e.as_json() for e in page],
        }
        return _json(200, body)


def _key(after: str) -> tuple[float, int]:
    if not after:
        return (-1.0, -1)
    stamp, _, entry = after.partition(",")
    return (float(stamp), int(entry))


def _json(status: int, body: object) -> FakeResponse:
    return FakeResponse(status, json.dumps(body).encode())


@contextmanager
def sample_service(entries: int = 20, page_size: int = 4) -> Iterator[str]:
    """A running fake holding a few pages of random hashes (several per instant); yields
    its root URL."""
    fake = FakeTat(page_size=page_size)
    for number in range(entries):
        if number % 3 == 0:
            fake.tick()
        if number % 4 == 3:
            fake.add("MD5", secrets.token_hex(16), ideology="far-right")
        else:
            fake.add("PDQ", secrets.token_hex(32), file_type="png")
    with serving(fake) as service:
        yield service.url("")


def sample_client(root: str, credentials: Mapping[str, str]) -> TechAgainstTerrorism:
    config = ExchangeConfig(base_url=root, credentials=dict(credentials), timeout_seconds=5)
    return TechAgainstTerrorism(config, quick_transport(config))
