"""Fetching a whole NCMEC exchange (issue 16): fetch and apply 1,000,000 entries from the fake
NCMEC server at >= 20,000 entries/s on SQLite and on PostgreSQL, memory flat, resumable mid-way
with the same final list.

    python -m benchmarks.bench_exchange_fetch [--entries 1000000] [--database sqlite|postgresql]
        [--page 1000]

The server is the test suite's fake (tests/exchanges/fakes/ncmec.py, as other benchmarks
import their fixtures from tests/) over real HTTP on loopback, in a process of its own so its
entries do not count in the fetcher's memory. One change for size: each window's entries are
found once with a bisect instead of a scan of all N entries per page, which would make the
fake, not Vigil, the thing measured. NCMEC entries are images (MD5, SHA-1, PDQ) and videos
(MD5), so an entry becomes 1 to 3 list rows; both rates are printed.

Printed, each phase in a fresh process:
* fetch: ``vigil.exchanges.fetching.fetch_exchange`` with the NCMEC client into an empty
  list: entries/s, list rows/s, pages (empty windows count too), peak RSS (getrusage) and
  the RSS after 10/50/100 % of the rows (flat memory);
* reference, same run: the same records imported from a local JSON lines file with the
  ``vigil lists import`` path (store/lists/importing.import_file) into another empty list:
  the ratio is the exchange's overhead (HTTP, XML, pages and checkpoints);
* resume: another exchange on the same server, its fetch killed (SIGKILL) just after the
  page half way committed, then fetched again; its list must equal the whole fetch's list
  (EXCEPT both ways on type, hash, entry id, classification and status).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import multiprocessing
import os
import resource
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.databases import fresh_database
from benchmarks.machine import describe
from tests.exchanges.fakes.ncmec import (
    MEMBERS,
    PASSWORD,
    ROOT,
    USERNAME,
    FakeEntry,
    FakeNcmec,
    _page_xml,
    _parse,
    _xml,
)
from tests.exchanges.fakes.serving import FakeRequest, FakeResponse, serving
from vigil.exchanges.fetching import FetchProgress, fetch_exchange
from vigil.exchanges.ncmec import NcmecExchange
from vigil.exchanges.protocol import ExchangeConfig
from vigil.lists.formats.records import ListRecord, SignalType
from vigil.lists.formats.writers import write_json_lines
from vigil.lists.sources import LocalFileSource
from vigil.store import open_database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.importing import import_file

ACTOR = "bench"
TARGET = 20_000  # NCMEC entries a second
RSS_MARKS = (0.1, 0.5, 1.0)
KILLED = -signal.SIGKILL


class IndexedNcmec(FakeNcmec):
    """The fake NCMEC service, finding a window's entries once per window, not per page."""

    _window: tuple[Any, ...] | None = None
    _rows: list[int]
    _window_entries: list[FakeEntry]

    def _entries(self, request: FakeRequest) -> FakeResponse:
        try:
            start_time = _parse(request.param("from"))
            end_time = _parse(request.param("to"))
        except ValueError:
            return FakeResponse(400, b"<error>bad from/to</error>", "application/xml")
        if self._window != (start_time, end_time, len(self.entries)):
            self._window = (start_time, end_time, len(self.entries))
            self._window_entries = [e for e in self.entries if start_time <= e.timestamp < end_time]
            self._rows = [e.row for e in self._window_entries]
        start_param = request.param("start")
        if start_param is None:
            start, top = 1, self._rows[-1] if self._rows else 0
        else:
            cursor = self._cursor(
                request.param("from"), request.param("to"), start_param, request.param("max")
            )
            if cursor != request.param("cursor"):
                return FakeResponse(400, b"<error>invalid paging link</error>", "application/xml")
            start, top = int(start_param), int(request.param("max") or 0)
        first = bisect.bisect_left(self._rows, start)
        last = bisect.bisect_right(self._rows, top)
        page = self._window_entries[first : min(last, first + self.page_size)]
        link = None
        if first + self.page_size < last:
            link = self._link(start_time, end_time, self._rows[first + self.page_size], top)
        return _xml(_page_xml(page, link))


def _records(entry: FakeEntry) -> Iterator[ListRecord]:
    """The list records the NCMEC client makes of one entry (for the reference file)."""
    kind = "video" if entry.video else "image"
    for name in ("md5", "sha1", "pdq"):
        value = entry.fingerprints.get(name)
        if value is None or (name == "pdq" and entry.video):
            continue
        yield ListRecord(
            SignalType(name),
            value,
            entry.external_id,
            entry.classification,
            member=MEMBERS[entry.member_id],
            tags=(kind,),
        )


# The server process ------------------------------------------------------------------------


def _serve(entries: int, page: int, reference: Path, ready: Connection) -> None:
    """Generate the entries, write the reference file, serve until the parent hangs up."""
    fake = IndexedNcmec(page_size=page)
    fake.generate(entries)
    with reference.open("w", encoding="utf-8", newline="") as out:
        rows = write_json_lines((r for e in fake.entries for r in _records(e)), out)
    with serving(fake) as service:
        ready.send((service.url(ROOT), rows))
        with contextlib.suppress(EOFError):
            ready.recv()


# Measured phases, each in a process of its own ---------------------------------------------


@dataclass(frozen=True)
class Phase:
    seconds: float
    rows: int
    pages: int
    peak_rss_mb: float
    marks: tuple[float, ...]  # RSS in MB after each of RSS_MARKS of the rows


def _in_child(work: Callable[[], Phase | None]) -> tuple[int, Phase | None]:
    """Run ``work`` in a forked process; its exit code and what it returned."""
    reader, writer = multiprocessing.Pipe(duplex=False)

    def run() -> None:
        writer.send(work())

    process = multiprocessing.get_context("fork").Process(target=run)
    process.start()
    writer.close()
    try:
        result = reader.recv()
    except EOFError:
        result = None
    process.join()
    return process.exitcode or 0, result


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _client(url: str) -> NcmecExchange:
    return NcmecExchange(
        ExchangeConfig(base_url=url, credentials={"username": USERNAME, "password": PASSWORD})
    )


def _add_exchange(url: str, db_url: str, name: str, list_name: str) -> None:
    with open_database(db_url) as database, database.transaction(write=True) as session:
        create_list(session, list_name, actor=ACTOR)
        create_exchange(
            session,
            name,
            kind="ncmec",
            base_url=url,
            credentials={"username": USERNAME, "password": PASSWORD},
            list_names=[list_name],
            master_key=MasterKey.generate(),
            actor=ACTOR,
        )


def _fetch(url: str, db_url: str, name: str, rows: int, kill_after: int | None) -> Phase:
    """Fetch ``name`` (``rows`` list rows expected); with ``kill_after``, SIGKILL the process
    once that many rows are stored."""
    marks = [max(1, round(rows * share)) for share in RSS_MARKS]
    rss: list[float] = []

    def progress(done: FetchProgress) -> None:
        while len(rss) < len(marks) and done.entries >= marks[len(rss)]:
            rss.append(_rss_mb())
        if kill_after is not None and done.entries >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # just after the page committed

    with open_database(db_url) as database:
        started = time.perf_counter()
        report = fetch_exchange(database, name, _client(url), actor=ACTOR, on_progress=progress)
        seconds = time.perf_counter() - started
    if report.failure is not None:
        raise RuntimeError(f"the fetch failed: {report.failure}")
    return Phase(seconds, report.entries, report.pages, _peak_rss_mb(), tuple(rss))


def _import_reference(db_url: str, path: Path, list_name: str) -> Phase:
    with open_database(db_url) as database:
        with database.transaction(write=True) as session:
            create_list(session, list_name, actor=ACTOR)
        started = time.perf_counter()
        report = import_file(database, list_name, LocalFileSource(path), actor=ACTOR)
        seconds = time.perf_counter() - started
    return Phase(seconds, report.records_read, 0, _peak_rss_mb(), ())


def _list_difference(db_url: str, one: str, other: str) -> tuple[int, int, int, int]:
    """Rows of each list, and rows in one and not the other, both ways."""
    columns = "signal_type, signal, external_id, classification, status"

    def rows_of(name: str) -> str:
        return (
            f"SELECT {columns} FROM list_entries WHERE list_id = "
            f"(SELECT id FROM hash_lists WHERE name = '{name}')"
        )

    with open_database(db_url) as database, database.transaction() as session:
        counts = [
            session.execute(text(f"SELECT count(*) FROM ({rows_of(n)}) AS r")).scalar_one()
            for n in (one, other)
        ]
        missing = [
            session.execute(
                text(f"SELECT count(*) FROM ({rows_of(a)} EXCEPT {rows_of(b)}) AS d")
            ).scalar_one()
            for a, b in ((one, other), (other, one))
        ]
    return counts[0], counts[1], missing[0], missing[1]


# The run -----------------------------------------------------------------------------------


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "inf"


def _report_fetch(entries: int, phase: Phase) -> None:
    rate = entries / phase.seconds
    marks = " / ".join(f"{m:,.0f}" for m in phase.marks)
    print(
        f"fetch: {entries:,} NCMEC entries ({phase.rows:,} list rows) in {phase.pages:,} pages, "
        f"{phase.seconds:.1f} s: {rate:,.0f} entries/s, {_rate(phase.rows, phase.seconds)} "
        f"rows/s (target {TARGET:,} entries/s: {'met' if rate >= TARGET else 'NOT met'})"
    )
    print(
        f"fetch memory: peak RSS {phase.peak_rss_mb:,.0f} MB; RSS after 10% / 50% / 100% "
        f"of the rows: {marks} MB"
    )


def run(arguments: argparse.Namespace) -> int:
    entries, page = arguments.entries, arguments.page
    print(f"machine: {describe()}")
    print(f"database: {arguments.database}; {entries:,} entries, pages of {page:,}")
    with (
        tempfile.TemporaryDirectory(prefix="vigil-bench-fetch-") as folder,
        fresh_database(arguments.database, Path(folder), "fetch") as db_url,
    ):
        reference = Path(folder) / "reference.jsonl"
        parent_end, server_end = multiprocessing.Pipe()
        server = multiprocessing.get_context("fork").Process(
            target=_serve, args=(entries, page, reference, server_end), daemon=True
        )
        started = time.perf_counter()
        server.start()
        url, rows = parent_end.recv()
        print(
            f"set-up: fake server with {entries:,} entries in {time.perf_counter() - started:.1f} s"
        )
        try:
            return _phases(arguments, url, db_url, reference, rows)
        finally:
            parent_end.send("stop")
            server.join(timeout=10)


def _phases(
    arguments: argparse.Namespace, url: str, db_url: str, reference: Path, rows: int
) -> int:
    entries = arguments.entries
    _add_exchange(url, db_url, "ncmec-whole", "ncmec-whole")
    code, fetched = _in_child(lambda: _fetch(url, db_url, "ncmec-whole", rows, None))
    if code or fetched is None:
        print(f"fetch: FAILED (exit code {code})")
        return 1
    _report_fetch(entries, fetched)
    code, imported = _in_child(lambda: _import_reference(db_url, reference, "file-import"))
    if code or imported is None:
        print(f"reference: FAILED (exit code {code})")
        return 1
    print(
        f"reference (same run): `vigil lists import` path, the same {imported.rows:,} records "
        f"from a JSON lines file: {imported.seconds:.1f} s, "
        f"{_rate(imported.rows, imported.seconds)} rows/s, peak RSS "
        f"{imported.peak_rss_mb:,.0f} MB; fetch / import time: "
        f"{fetched.seconds / imported.seconds:.2f}"
    )
    if arguments.skip_resume:
        return 0 if fetched.rows == rows else 1
    return _resume_check(url, db_url, rows)


def _resume_check(url: str, db_url: str, rows: int) -> int:
    _add_exchange(url, db_url, "ncmec-resumed", "ncmec-resumed")
    kill_after = max(1, rows // 2)
    code, _ = _in_child(lambda: _fetch(url, db_url, "ncmec-resumed", rows, kill_after))
    with open_database(db_url) as database, database.transaction() as session:
        stored = session.execute(
            text(
                "SELECT count(*) FROM list_entries WHERE list_id = "
                "(SELECT id FROM hash_lists WHERE name = 'ncmec-resumed')"
            )
        ).scalar_one()
    killed = "killed (SIGKILL)" if code == KILLED else f"ended with exit code {code}"
    print(f"resume: first fetch {killed} once half the rows were stored: {stored:,} of {rows:,}")
    code, resumed = _in_child(lambda: _fetch(url, db_url, "ncmec-resumed", rows, None))
    if code or resumed is None:
        print(f"resume: the resumed fetch FAILED (exit code {code})")
        return 1
    whole, again, only_whole, only_resumed = _list_difference(
        db_url, "ncmec-whole", "ncmec-resumed"
    )
    same = whole == again == rows and only_whole == only_resumed == 0
    print(
        f"resume: resumed fetch stored {resumed.rows:,} rows in {resumed.pages:,} pages; "
        f"final lists: whole {whole:,} rows, resumed {again:,} rows, expected {rows:,}; "
        f"only in whole {only_whole:,}, only in resumed {only_resumed:,}: "
        f"{'same final list' if same else 'DIFFERENT'}"
    )
    print(json.dumps({"same_final_list": same}))
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=1000, help="entries per page (NCMEC: 1000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--skip-resume", action="store_true", help="only fetch and reference")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
