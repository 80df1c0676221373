"""The interface every hash exchange client implements, and the values it hands out.

A client knows one service's protocol and nothing of Vigil's database: it turns a stored
checkpoint into pages of list records, each page with the checkpoint that follows it. The
caller (vigil.exchanges.fetching) stores a page's records and its checkpoint in one
transaction, so a fetch interrupted at any point resumes after the last stored page and a
page applied twice changes nothing (records are upserts and deletions by entry id).

Records carry their provenance (``external_id`` is the exchange's entry id; ``member``,
``classification`` and ``tags`` as the exchange gives them); deletions travel as records
with ``deleted=True``. Per-record problems are ``RecordError`` items in the page; a
problem with the whole page (unreachable, refused credentials, malformed answer) is an
``ExchangeError``, raised before the page is handed out, so the checkpoint never moves
past what was stored. Tests: tests/exchanges/test_conformance.py runs the same checks
against every client and its fake server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol

from vigil.lists.formats import ReadItem, SignalType


class ExchangeType(StrEnum):
    """The services Vigil has a client for; the value names it in commands and the database."""

    NCMEC = "ncmec"
    STOPNCII = "stopncii"
    THREATEXCHANGE = "threatexchange"
    TAT = "tat"


class Capability(StrEnum):
    """What a service takes besides fetching."""

    FEEDBACK = "feedback"  # affirmative/negative feedback on an entry
    SUBMIT = "submit"  # new hashes from this platform


class FailureKind(StrEnum):
    """Why a call failed, so status pages and retries can tell them apart."""

    UNREACHABLE = "unreachable"  # connection refused, timed out, DNS
    CREDENTIALS = "credentials"  # 401/403: the credentials are wrong or revoked
    RATE_LIMITED = "rate_limited"  # 429 after the allowed waits
    SERVER = "server"  # 5xx after the allowed retries
    MALFORMED = "malformed"  # an answer that cannot be read (bad XML/JSON, truncated, too big)
    REFUSED = "refused"  # another 4xx: the request itself was refused
    CHECKPOINT = "checkpoint"  # the stored checkpoint is not one this client wrote
    UNSUPPORTED = "unsupported"  # the service does not take this (feedback, submission)


class ExchangeError(Exception):
    """A call to an exchange failed; ``str(error)`` is fit for an operator and holds no
    credential. ``retryable``: the same call may succeed later (the next scheduled fetch
    retries it anyway; a feedback stays queued)."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def retryable(self) -> bool:
        return self.kind in {FailureKind.UNREACHABLE, FailureKind.RATE_LIMITED, FailureKind.SERVER}


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """How to reach one configured exchange. ``base_url`` is the service root as published
    (e.g. https://report.cybertip.org/hashsharing for NCMEC); ``credentials`` holds the
    fields the service needs (see ``REQUIRED_CREDENTIALS`` of each client) and is left out
    of ``repr`` so it cannot reach a log."""

    base_url: str
    credentials: Mapping[str, str] = field(repr=False, default_factory=dict)
    environment: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)  # e.g. a privacy group id
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One page of changes. Store ``items`` and then ``checkpoint`` in one transaction;
    pass the checkpoint to the next ``fetch``. ``through`` is how far in the service's time
    the fetch has come (for progress; None when the service does not say)."""

    items: tuple[ReadItem, ...]
    checkpoint: str
    through: datetime | None = None
    estimated_total: int | None = None  # entries the whole fetch should bring, if known


class FeedbackVerdict(StrEnum):
    AFFIRMATIVE = "affirmative"  # a reviewer confirmed the entry's content is what it says
    NEGATIVE = "negative"  # a reviewer found a false positive or a wrong classification


@dataclass(frozen=True, slots=True)
class Feedback:
    """A reviewer's verdict on one exchange entry, for the service that shared it."""

    entry_id: str  # the exchange's id (the record's external_id)
    signal_type: SignalType
    signal: str
    verdict: FeedbackVerdict
    reason: str | None = None  # for a negative verdict: the service's reason code or text


@dataclass(frozen=True, slots=True)
class Submission:
    """A hash this platform shares with the exchange."""

    signal_type: SignalType
    signal: str
    classification: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExchangeHealth:
    """What a status call found: reachable with these credentials, and what the service says."""

    reachable: bool
    detail: str = ""


class Exchange(Protocol):
    """One client of one hash-sharing service, configured for one account."""

    kind: ClassVar[ExchangeType]
    capabilities: ClassVar[frozenset[Capability]]
    required_credentials: ClassVar[tuple[str, ...]]

    def check(self) -> ExchangeHealth:
        """Ask the service whether it is reachable and takes these credentials."""
        ...

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        """Pages of changes since ``checkpoint`` (None: from the beginning), until the
        service has nothing newer. Raises ExchangeError for a page that cannot be had."""
        ...

    def send_feedback(self, feedback: Feedback) -> None:
        """Send one verdict; raises ExchangeError (UNSUPPORTED when the service takes none)."""
        ...

    def submit(self, submission: Submission) -> None:
        """Share one hash; raises ExchangeError (UNSUPPORTED when the service takes none)."""
        ...

    def close(self) -> None:
        """Let go of the connection to the service; closing twice does nothing more.
        Whoever builds a client for a round closes it when the round ends, so no socket
        waits for garbage collection."""
        ...
