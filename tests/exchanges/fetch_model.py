"""What the caller of an exchange client does with its pages, reduced to a dict: store a
page's records and then its checkpoint, resume from the checkpoint. The StopNCII,
ThreatExchange and TAT tests use it to compare an interrupted fetch with a whole one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.exchanges.protocol import ExchangeConfig, ExchangeError, FetchedPage
from vigil.exchanges.transport import RetryPolicy, Transport
from vigil.lists.formats.records import FormatWarning, ListRecord, RecordError

NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=0.0, max_retry_after=0.0)


@dataclass
class StoredList:
    """The records a fetch left, by external id, and the checkpoint stored with them."""

    records: dict[str, ListRecord] = field(default_factory=dict)
    checkpoint: str | None = None
    pages: int = 0
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[FormatWarning] = field(default_factory=list)

    def apply(self, page: FetchedPage) -> None:
        for item in page.items:
            if isinstance(item, RecordError):
                self.errors.append(item)
            elif isinstance(item, FormatWarning):
                self.warnings.append(item)
            elif item.deleted:
                assert item.external_id is not None
                self.records.pop(item.external_id, None)
            else:
                assert item.external_id is not None
                self.records[item.external_id] = item
        self.checkpoint = page.checkpoint
        self.pages += 1

    def signals(self) -> set[tuple[str, str]]:
        return {(str(r.signal_type), str(r.signal)) for r in self.records.values()}


class Crash(Exception):
    """The process died between two pages."""


def fetch_into(
    stored: StoredList,
    fetch: Callable[[str | None], object],
    *,
    crash_after: int | None = None,
) -> StoredList:
    """Run one fetch from the stored checkpoint, storing every page; with ``crash_after``,
    stop (as a crash would) once that many pages of this run are stored."""
    pages = fetch(stored.checkpoint)
    assert hasattr(pages, "__iter__")
    for count, page in enumerate(pages, start=1):
        assert isinstance(page, FetchedPage)
        stored.apply(page)
        if crash_after is not None and count >= crash_after:
            pages.close()  # type: ignore[attr-defined]
            raise Crash
    return stored


def failure_of(stored: StoredList, fetch: Callable[[str | None], object]) -> ExchangeError:
    """The error a fetch ends with; the pages before it are stored."""
    try:
        fetch_into(stored, fetch)
    except ExchangeError as error:
        return error
    raise AssertionError("the fetch did not fail")


def quick_transport(config: ExchangeConfig) -> Transport:
    """A transport that retries at once: tests wait for nothing."""
    return Transport(config, policy=NO_WAIT, sleep=lambda _: None)
