"""A resumable scan: hash files in worker processes, match them here, report every file.

Files finished by an earlier attempt of the same run are not hashed again: their stored
report line is emitted as it is, so the new report is complete. Nothing is kept per file
beyond the hashing window and one batch of items, so memory does not grow with the scan.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from vigil.fingerprint import batch
from vigil.fingerprint.pipeline import FingerprintOptions
from vigil.fingerprint.record import Fingerprint
from vigil.screening.matcher import ListMatch, Matcher
from vigil.screening.scan_runs import FileState, ItemRecorder, finished_results
from vigil.store.models import ScanItemStatus

LOOKUP_CHUNK = 256  # paths whose stored state is read in one query
REPORTED_FIELDS = ("list", "entry_id", "external_id", "signal_type", "distance", "variant")
# Where each matched entry came from (issue 16); after the fields above, so that the CSV
# columns readers already know keep their places.
PROVENANCE_FIELDS = ("classification", "exchange", "exchange_kind", "member", "tags", "source")

ScanInput = Path | Fingerprint  # a file, or a failure met while listing files
Emit = Callable[[dict[str, Any]], None]


class ScanStopped(Exception):
    """The scan stopped before its end (the ``stop_after`` limit); the run can resume."""


@dataclass(slots=True)
class ScanTally:
    hashed: int = 0
    reused: int = 0  # finished by an earlier attempt
    failed: int = 0
    matched: int = 0

    def count(self, line: dict[str, Any]) -> None:
        self.failed += line["error"] is not None
        self.matched += bool(line["matches"])


@dataclass(frozen=True, slots=True)
class ScanSettings:
    options: FingerprintOptions
    workers: int = 1
    timeout: float = batch.DEFAULT_TIMEOUT
    stop_after: int | None = None  # files to hash before stopping (tests, dry runs)


def report_line(
    path: str, matches: Iterable[ListMatch], suppressed: Iterable[ListMatch], error: str | None
) -> dict[str, Any]:
    return {
        "path": path,
        "matches": [_reported(m) for m in matches],
        "error": error,
        "suppressed_by": [_reported(m) for m in suppressed],
    }


def _reported(match: ListMatch) -> dict[str, Any]:
    reported = {name: getattr(match, name) for name in (*REPORTED_FIELDS, *PROVENANCE_FIELDS)}
    reported["tags"] = list(match.tags)
    return reported


class Scan:
    def __init__(
        self,
        matcher: Matcher,
        recorder: ItemRecorder,
        settings: ScanSettings,
        emit: Emit,
        tick: Callable[[], None] = lambda: None,
    ) -> None:
        self.matcher = matcher
        self.recorder = recorder
        self.settings = settings
        self.emit = emit
        self.tick = tick
        self.tally = ScanTally()
        self._waiting: deque[FileState] = deque()  # handed to the hashers, in order

    def run(self, inputs: Iterable[ScanInput]) -> ScanTally:
        """Raises ScanStopped at the ``stop_after`` limit; finished items are saved first."""
        settings = self.settings
        records = batch.fingerprint_many(
            self._to_hash(inputs), settings.options, settings.workers, timeout=settings.timeout
        )
        try:
            with contextlib.closing(records):
                for record in records:
                    self._finish(self._waiting.popleft(), record)
                    if settings.stop_after is not None and self.tally.hashed >= settings.stop_after:
                        raise ScanStopped(f"stopped after {self.tally.hashed} files")
        finally:
            self.recorder.flush()
        return self.tally

    def _to_hash(self, inputs: Iterable[ScanInput]) -> Iterator[Path]:
        """The files that need hashing; the others are reported on the way."""
        for chunk in _chunks(inputs, LOOKUP_CHUNK):
            states = {str(i): FileState.of(i) for i in chunk if isinstance(i, Path)}
            stored = finished_results(
                self.matcher.live.database, self.recorder.run_id, states.values()
            )
            for item in chunk:
                if isinstance(item, Fingerprint):
                    self._record(FileState(item.path, None, None), self._line(item))
                elif str(item) in stored:
                    self._reuse(stored[str(item)])
                else:
                    self._waiting.append(states[str(item)])
                    yield item

    def _finish(self, state: FileState, record: Fingerprint) -> None:
        self.tally.hashed += 1
        self._record(state, self._line(record))

    def _line(self, record: Fingerprint) -> dict[str, Any]:
        # A file that could not be decoded still matches on its digests; the error stays.
        screening = self.matcher.screen(record.matchable())
        return report_line(record.path, screening.matches, screening.suppressed_by, record.error)

    def _record(self, state: FileState, line: dict[str, Any]) -> None:
        failed = line["error"] is not None
        self.recorder.add(state, ScanItemStatus.FAILED if failed else ScanItemStatus.DONE, line)
        self._report(line)

    def _reuse(self, line: dict[str, Any]) -> None:
        self.tally.reused += 1
        self._report(line)

    def _report(self, line: dict[str, Any]) -> None:
        self.tally.count(line)
        self.emit(line)
        self.tick()


def _chunks(items: Iterable[ScanInput], size: int) -> Iterator[list[ScanInput]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
