"""What the caller of an exchange client does with its pages, kept in memory: store each
page's records, then its checkpoint; resume from the stored checkpoint. Used to compare an
interrupted fetch with a whole one.

An entry may carry several hashes (NCMEC: MD5, SHA-1 and PDQ of one image), so records are
kept per entry: the records a page brings for an entry replace the entry's earlier ones,
and a deletion removes the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from vigil.exchanges.protocol import ExchangeError, FetchedPage
from vigil.lists.formats.records import FormatWarning, ListRecord, RecordError


class Crash(Exception):
    """The process died between two stored pages."""


@dataclass
class Replica:
    entries: dict[str, dict[tuple[str, str], ListRecord]] = field(default_factory=dict)
    checkpoint: str | None = None
    pages: int = 0
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[FormatWarning] = field(default_factory=list)

    def apply(self, page: FetchedPage) -> None:
        fresh: dict[str, dict[tuple[str, str], ListRecord]] = {}
        for item in page.items:
            if isinstance(item, RecordError):
                self.errors.append(item)
            elif isinstance(item, FormatWarning):
                self.warnings.append(item)
            else:
                assert item.external_id, "every exchange record names its entry"
                if item.deleted:
                    fresh.pop(item.external_id, None)
                    self.entries.pop(item.external_id, None)
                else:
                    key = (str(item.signal_type), str(item.signal))
                    fresh.setdefault(item.external_id, {})[key] = item
        self.entries.update(fresh)
        self.checkpoint = page.checkpoint
        self.pages += 1

    def records(self) -> Iterator[ListRecord]:
        for hashes in self.entries.values():
            yield from hashes.values()

    def signals(self) -> set[tuple[str, str, str]]:
        """(external id, signal type, signal) of every record held."""
        return {(str(r.external_id), str(r.signal_type), str(r.signal)) for r in self.records()}


def fetch_into(
    replica: Replica,
    fetch: Callable[[str | None], Iterator[FetchedPage]],
    *,
    crash_after: int | None = None,
) -> Replica:
    """One fetch from the stored checkpoint, storing every page; with ``crash_after``, the
    process dies once that many pages of this run are stored."""
    pages = fetch(replica.checkpoint)
    for count, page in enumerate(pages, start=1):
        replica.apply(page)
        if crash_after is not None and count >= crash_after:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
            raise Crash
    return replica


def failure_of(
    replica: Replica, fetch: Callable[[str | None], Iterator[FetchedPage]]
) -> ExchangeError:
    """The error a fetch ends with; the pages before it are stored."""
    try:
        fetch_into(replica, fetch)
    except ExchangeError as error:
        return error
    raise AssertionError("the fetch did not fail")
