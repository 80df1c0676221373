"""A fake StopNCII hash API, written from the public description (python-threatexchange's
client): FetchHashes pages by token within a sequence started at ``startTimestamp``,
SubmitHashes and SubmitFeedback; each endpoint checks the subscription key and its own
function key.

Quirks on request: ``repeat_last`` starts every page with the previous page's last record
(a page that repeats a hash); ``expire_tokens()`` makes the tokens handed out so far
answer 400; ``faults`` queues 5xx, 429, broken bodies. Hashes are random hex, never media.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.exchanges.fakes.faults import Faults
from tests.exchanges.fakes.serving import FakeRequest, FakeResponse, serving
from tests.exchanges.no_wait import quick_transport
from vigil.exchanges.protocol import ExchangeConfig
from vigil.exchanges.stopncii import StopNcii

KEYS = {
    "subscription_key": "sub-key-0123456789",
    "fetch_function_key": "fetch-key-0123456789",
    "submit_function_key": "submit-key-0123456789",
    "feedback_function_key": "feedback-key-0123456789",
}
WRONG_KEYS = {**KEYS, "fetch_function_key": "wrong-fetch-key-98765"}
ROOT = "/v1"
_ENDPOINT_KEYS = {
    "FetchHashes": "fetch_function_key",
    "SubmitHashes": "submit_function_key",
    "SubmitFeedback": "feedback_function_key",
}


@dataclass
class StoredHash:
    signal_type: str
    value: str
    status: str
    modified: int
    feedbacks: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "lastModtimestamp": self.modified,
            "signalType": self.signal_type,
            "hashValue": self.value,
            "hashStatus": self.status,
            "caseNumbers": self.cases,
            "CSPFeedbacks": self.feedbacks,
        }


@dataclass
class _Sequence:
    rows: list[dict[str, Any]]
    next_set: int
    offset: int = 0


class FakeStopNcii:
    """Callable by ``serving``; ``now`` is the service's clock (a sequence covers records
    modified in [startTimestamp, now))."""

    def __init__(self, *, page_size: int = 3, keys: dict[str, str] | None = None) -> None:
        self.page_size = page_size
        self.keys = dict(keys or KEYS)
        self.now = 1_700_000_000
        self.hashes: list[StoredHash] = []
        self.faults = Faults()
        self.repeat_last = False
        self.submitted: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self._sequences: dict[str, _Sequence] = {}
        self._lock = threading.Lock()

    def add(self, signal_type: str, value: str, status: str = "Active", **extra: Any) -> StoredHash:
        """A hash modified now; the clock then moves on a second."""
        stored = StoredHash(signal_type, value, status, self.now, **extra)
        self.hashes.append(stored)
        self.now += 1
        return stored

    def change(self, stored: StoredHash, status: str) -> None:
        stored.status, stored.modified = status, self.now
        self.now += 1

    def expire_tokens(self) -> None:
        with self._lock:
            self._sequences.clear()

    def __call__(self, request: FakeRequest) -> FakeResponse:
        return self.faults.answer(request, lambda: self._answer(request))

    def _answer(self, request: FakeRequest) -> FakeResponse:
        endpoint = request.path.rstrip("/").rsplit("/", 1)[-1]
        if endpoint not in _ENDPOINT_KEYS:
            return _json(404, {"error": "no such endpoint"})
        if request.headers.get("ocp-apim-subscription-key") != self.keys["subscription_key"]:
            return _json(401, {"error": "Access denied due to invalid subscription key."})
        if request.headers.get("x-functions-key") != self.keys[_ENDPOINT_KEYS[endpoint]]:
            return _json(403, {"error": "function key refused"})
        if endpoint == "FetchHashes" and request.method == "GET":
            return self._fetch(request)
        if endpoint == "SubmitHashes" and request.method == "POST":
            self.submitted.append(json.loads(request.body))
            return _json(200, {})
        if endpoint == "SubmitFeedback" and request.method == "POST":
            self.feedback.append(json.loads(request.body))
            return _json(200, {})
        return _json(405, {"error": "method not allowed"})

    def _fetch(self, request: FakeRequest) -> FakeResponse:
        start = int(request.param("startTimestamp") or 0)
        size = min(int(request.param("pageSize") or self.page_size), self.page_size)
        token = request.param("nextPageToken")
        with self._lock:
            if token:
                sequence = self._sequences.get(token)
                if sequence is None:
                    return _json(400, {"error": "nextPageToken is invalid or expired"})
            else:
                sequence = self._start(start)
            page = sequence.rows[sequence.offset : sequence.offset + size]
            if self.repeat_last and sequence.offset > 0:
                page = [sequence.rows[sequence.offset - 1], *page]
            following = sequence.offset + size
            has_more = following < len(sequence.rows)
            next_token = None
            if has_more:
                next_token = secrets.token_urlsafe(12)
                self._sequences[next_token] = _Sequence(sequence.rows, sequence.next_set, following)
        body = {
            "count": len(page),
            "nextPageToken": next_token,
            "nextSetTimestamp": sequence.next_set,
            "hasMoreRecords": has_more,
            "hashRecords": page,
        }
        return _json(200, body)

    def _start(self, start: int) -> _Sequence:
        """A snapshot of the records modified in [start, now), oldest first."""
        rows = sorted((h for h in self.hashes if start <= h.modified < self.now), key=_order)
        return _Sequence([h.as_json() for h in rows], self.now)


def _order(stored: StoredHash) -> int:
    return stored.modified


def _json(status: int, body: object) -> FakeResponse:
    return FakeResponse(status, json.dumps(body).encode())


@contextmanager
def sample_service(entries: int = 20, page_size: int = 4) -> Iterator[str]:
    """A running fake holding a few pages of random hashes; yields its root URL."""
    fake = FakeStopNcii(page_size=page_size)
    for number in range(entries):
        if number % 4 == 3:
            fake.add("VideoMD5", secrets.token_hex(16))
        else:
            fake.add("ImagePDQ", secrets.token_hex(32), cases={f"case-{number}": "Active"})
    with serving(fake) as service:
        yield service.url(ROOT)


def sample_client(root: str, credentials: Mapping[str, str]) -> StopNcii:
    config = ExchangeConfig(base_url=root, credentials=dict(credentials), timeout_seconds=5)
    return StopNcii(config, quick_transport(config))
