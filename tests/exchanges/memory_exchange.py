"""An exchange client held in memory, for the tests of what Vigil does with the pages: pages
from a list, an ExchangeError at a chosen page, a crash after a chosen number of pages, a
hook called as each page is handed out. It speaks no protocol; its checkpoint is the index
of the next page."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from vigil.exchanges.protocol import (
    Capability,
    ExchangeError,
    ExchangeHealth,
    ExchangeType,
    FailureKind,
    Feedback,
    FetchedPage,
    Submission,
)
from vigil.lists.formats import ListRecord, ReadItem, SignalType

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Crash(BaseException):
    """The process died: no ``except Exception`` may see it, as none would see a kill."""


class MemoryExchange:
    kind: ClassVar[ExchangeType] = ExchangeType.NCMEC
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.FEEDBACK})
    required_credentials: ClassVar[tuple[str, ...]] = ("username", "password")

    def __init__(
        self,
        pages: Sequence[Sequence[ReadItem]],
        *,
        fail_at: int | None = None,
        failure: ExchangeError | None = None,
        crash_after: int | None = None,
        on_page: Callable[[int], None] | None = None,
    ) -> None:
        self.pages = [tuple(page) for page in pages]
        self.fail_at = fail_at  # the index of the page that cannot be had
        self.failure = failure or ExchangeError(FailureKind.SERVER, "the service answered 503")
        self.crash_after = crash_after  # pages handed out (and stored) before the crash
        self.on_page = on_page
        self.feedback: list[Feedback] = []
        self.fetched_from: list[str | None] = []
        self.closed = 0  # how many times close() was called

    def check(self) -> ExchangeHealth:
        return ExchangeHealth(True, "in memory")

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        self.fetched_from.append(checkpoint)
        start = self._start(checkpoint)
        total = sum(len(page) for page in self.pages)
        for handed, index in enumerate(range(start, len(self.pages))):
            if self.crash_after is not None and handed >= self.crash_after:
                raise Crash
            if self.fail_at == index:
                raise self.failure
            if self.on_page is not None:
                self.on_page(index)
            yield FetchedPage(
                self.pages[index],
                checkpoint=str(index + 1),
                through=EPOCH + timedelta(hours=index),
                estimated_total=total,
            )
        if self.crash_after is not None and len(self.pages) - start >= self.crash_after:
            raise Crash  # after the last page, before the fetch could finish

    def send_feedback(self, feedback: Feedback) -> None:
        self.feedback.append(feedback)

    def submit(self, submission: Submission) -> None:
        raise ExchangeError(FailureKind.UNSUPPORTED, "this exchange takes no submissions")

    def close(self) -> None:
        self.closed += 1

    def _start(self, checkpoint: str | None) -> int:
        if checkpoint is None:
            return 0
        if not checkpoint.isdigit() or int(checkpoint) > len(self.pages):
            raise ExchangeError(FailureKind.CHECKPOINT, "not a checkpoint of this exchange")
        return int(checkpoint)


def record(
    entry: str,
    signal: str,
    signal_type: SignalType = SignalType.MD5,
    *,
    classification: str | None = "A1",
    member: str | None = "member-1",
    tags: tuple[str, ...] = (),
    position: int = 0,
) -> ListRecord:
    return ListRecord(
        signal_type,
        signal,
        external_id=entry,
        classification=classification,
        member=member,
        tags=tags,
        position=position,
    )


def deletion(entry: str, position: int = 0) -> ListRecord:
    return ListRecord(None, None, external_id=entry, deleted=True, position=position)


def md5(number: int) -> str:
    return f"{number:032x}"
