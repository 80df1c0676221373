"""An exchange delta on a big list, seen by serving processes (issue 16): after a delta of
10,000 entries lands on a list of 10 million, every serving process matches them within 1 s,
with no rebuild. Printed: the time to visible per process and the lookup rate during the
apply against the rate before it (the reference, same processes, same run).

    python -m benchmarks.bench_exchange_delta [--entries 10000000] [--delta 10000]
        [--deletions 1000] [--processes 2] [--database sqlite|postgresql]

Set-up (not the measured thing, but timed): the list of random PDQ hashes is filled either
by ``--setup fetch``, fetching an in-memory exchange through vigil.exchanges.fetching in pages
of ``--page``, or by ``--setup direct`` (the default, several times faster): Core bulk inserts
of ``--page`` rows a transaction, each stamped with change-feed numbers from
``allocate_change_seqs`` as the feed's contract asks of Core writes, but without the import's
upserts, jobs and entry events. Then one process opens the LiveIndex, which folds the feed into
a memory-mapped snapshot, and closes it.

Serving processes: ``--processes`` spawned processes, each opening the LiveIndex on that
snapshot (the first to open is the index writer, the others follow its log and the feed, as
`vigil serve` workers do) and looking up PDQ hashes in a loop through ``Matcher.screen`` with
``started`` taken just before, the call /v1/screen/hashes makes; the route's HTTP, JSON and
recording of each screening are left out, so the rate is the index's and the feed check's.
Half the lookups are listed hashes with up to 8 bits flipped, half random misses.

The delta: one more fetch of the same exchange, one page of ``--delta`` new entries and
``--deletions`` deletions (by the exchange's entry id) of entries fetched earlier, written
as every exchange page is: in one transaction with the checkpoint. Time to visible: from the
page's commit (a Session after_commit hook in the fetching process) to the end of the first
lookup in that process answered with the page applied; each process then checks that all the delta's
entries match (by entry id) and that no deleted one does.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, ClassVar

import numpy
import sqlalchemy
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from benchmarks.databases import fresh_database
from benchmarks.machine import describe, pin_single_thread
from vigil.exchanges.fetching import fetch_exchange
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
from vigil.index.snapshot import current
from vigil.lists.formats import ListRecord, SignalType
from vigil.screening.live_index import LiveIndex
from vigil.screening.matcher import Matcher
from vigil.screening.submission import SubmittedHashes
from vigil.store import Database, open_database
from vigil.store.evidence.keys import MasterKey
from vigil.store.exchanges.catalogue import create_exchange
from vigil.store.lists.catalogue import create_list
from vigil.store.lists.change_feed import allocate_change_seqs, last_committed_seq
from vigil.store.lists.planner_statistics import PlannerStatistics
from vigil.store.models import EntryStatus, HashList, ListEntry, utcnow

LIST, EXCHANGE, ACTOR = "exchange-delta", "bench-exchange", "bench"
SAMPLE = 4_000  # listed hashes kept for lookups and deletions
TARGET_SECONDS = 1.0


class PagedExchange:
    """An exchange client serving pages already made (or made as they are asked for)."""

    kind: ClassVar[ExchangeType] = ExchangeType.NCMEC
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    required_credentials: ClassVar[tuple[str, ...]] = ("username", "password")

    def __init__(self, pages: Iterator[list[ListRecord]], prefix: str) -> None:
        self.pages = pages
        self.prefix = prefix
        self.handed_out: list[float] = []  # time.monotonic() as each page is handed over

    def check(self) -> ExchangeHealth:
        return ExchangeHealth(True, "in memory")

    def fetch(self, checkpoint: str | None) -> Iterator[FetchedPage]:
        for number, page in enumerate(self.pages):
            self.handed_out.append(time.monotonic())
            yield FetchedPage(page, checkpoint=f"{self.prefix}{number}", through=datetime.now(UTC))

    def send_feedback(self, feedback: Feedback) -> None:
        raise ExchangeError(FailureKind.UNSUPPORTED, "no feedback")

    def submit(self, submission: Submission) -> None:
        raise ExchangeError(FailureKind.UNSUPPORTED, "no submissions")


def _random_hashes(count: int) -> list[str]:
    raw = os.urandom(32 * count).hex()
    return [raw[64 * n : 64 * (n + 1)] for n in range(count)]


def _record(external_id: str, pdq: str) -> ListRecord:
    return ListRecord(SignalType.PDQ, pdq, external_id=external_id, classification="A1")


def _flipped(pdq: str, bits: int) -> str:
    value = int(pdq, 16)
    for bit in secrets.SystemRandom().sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


@dataclass
class ListPlan:
    """What the set-up lists, and what is kept of it for lookups and deletions."""

    entries: int
    page: int
    sample: dict[str, str] = field(default_factory=dict)  # external id -> PDQ

    def pages(self) -> Iterator[list[tuple[str, str]]]:
        """Pages of (external id, PDQ): random hashes, but handed out in ascending order
        (sorted random 64-bit prefixes, random tails) with ascending ids, so the set-up
        appends to the table's indexes instead of writing all over them; the delta's
        hashes are random in any order."""
        every = max(1, self.entries // SAMPLE)
        prefixes = numpy.sort(numpy.random.default_rng().integers(0, 2**64, self.entries, "u8"))
        for start in range(0, self.entries, self.page):
            heads = prefixes[start : start + self.page].tolist()
            tails = os.urandom(24 * len(heads)).hex()
            page = [
                (f"e{start + n:09d}", f"{head:016x}{tails[48 * n : 48 * (n + 1)]}")
                for n, head in enumerate(heads)
            ]
            self.sample.update(page[-start % every :: every])
            yield page

    def record_pages(self) -> Iterator[list[ListRecord]]:
        for page in self.pages():
            yield [_record(external_id, pdq) for external_id, pdq in page]


def _create_exchange(database: Database) -> None:
    with database.transaction(write=True) as session:
        create_list(session, LIST, actor=ACTOR)
        create_exchange(
            session,
            EXCHANGE,
            kind="ncmec",
            base_url="https://exchange.example/hashsharing",
            credentials={"username": "platform", "password": "bench"},
            list_names=[LIST],
            master_key=MasterKey.generate(),
            actor=ACTOR,
        )


# Serving processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class ServingPlan:
    url: str
    root: str
    queries: list[str]
    delta: dict[str, str]  # external id -> PDQ, expected to match after the delta
    deleted: dict[str, str]  # external id -> PDQ, expected not to match after it


@dataclass
class ServingReport:
    writer: bool
    built_from_feed: bool
    snapshot_seq_before: int
    snapshot_seq_after: int
    done: list[float]  # time.monotonic() at the end of each lookup
    seqs: list[tuple[float, int]]  # (time, index seq) whenever the seq moved
    delta_matched: int
    deleted_matched: int
    peak_rss_mib: float


def _serve(plan: ServingPlan, ready: Event, stop: Event, out: Any) -> None:
    """One serving process: look up until told to stop, then check the delta and report."""
    pin_single_thread()
    with open_database(plan.url) as database, LiveIndex.open(database, Path(plan.root)) as live:
        matcher = Matcher(live)
        queries = [SubmittedHashes.from_mapping({"pdq": h}).to_fingerprint() for h in plan.queries]
        snapshot_before, seq = live.index.snapshot_seq, live.index.seq
        done: list[float] = []
        seqs = [(time.monotonic(), seq)]
        ready.set()
        n = 0
        while not stop.is_set():
            matcher.screen(queries[n % len(queries)], time.monotonic())
            now = time.monotonic()
            done.append(now)
            if live.index.seq != seq:
                seq = live.index.seq
                seqs.append((now, seq))
            n += 1
        out.put(
            ServingReport(
                writer=live.writer,
                built_from_feed=live.built_from_feed,
                snapshot_seq_before=snapshot_before,
                snapshot_seq_after=live.index.snapshot_seq,
                done=done,
                seqs=seqs,
                delta_matched=_matching(matcher, plan.delta),
                deleted_matched=_matching(matcher, plan.deleted),
                peak_rss_mib=_peak_rss_mib(),
            )
        )


def _peak_rss_mib() -> float:
    """This process's own high-water mark (VmHWM): ru_maxrss would carry the spawning
    process's peak (the set-up's) over fork and exec."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _matching(matcher: Matcher, entries: dict[str, str]) -> int:
    """How many of ``entries`` (external id -> PDQ) a lookup of their hash finds."""
    found = 0
    for external_id, pdq in entries.items():
        fingerprint = SubmittedHashes.from_mapping({"pdq": pdq}).to_fingerprint()
        if any(m.external_id == external_id for m in matcher.match(fingerprint)):
            found += 1
    return found


# The run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeltaTimes:
    fetch_started: float
    committed: float  # right after the page's transaction committed
    seq: int  # the feed's committed seq after the delta


def _apply_delta(database: Database, delta: dict[str, str], deleted: Sequence[str]) -> DeltaTimes:
    page = [_record(external_id, pdq) for external_id, pdq in delta.items()]
    page += [ListRecord(None, None, external_id=e, deleted=True) for e in deleted]
    commits: list[tuple[float, int]] = []  # (time right after a commit, feed seq then)

    def committed(_session: Session) -> None:
        now = time.monotonic()
        with database.engine.connect() as connection:
            commits.append((now, last_committed_seq(connection)))

    with database.engine.connect() as connection:
        before = last_committed_seq(connection)
    started = time.monotonic()
    event.listen(Session, "after_commit", committed)
    try:
        client = PagedExchange(iter([page]), "delta-")
        report = fetch_exchange(database, EXCHANGE, client, actor=ACTOR)
    finally:
        event.remove(Session, "after_commit", committed)
    if not report.succeeded or report.error_count:
        raise SystemExit(f"the delta fetch failed: {report.failure} {report.errors[:3]}")
    at, seq = next((t, s) for t, s in commits if s > before)  # the page's transaction
    return DeltaTimes(started, at, seq)


def _rate(done: list[float], start: float, end: float) -> float:
    if end <= start:
        return float("nan")
    return sum(1 for t in done if start <= t < end) / (end - start)


def _visible_at(report: ServingReport, seq: int) -> float | None:
    return next((t for t, s in report.seqs if s >= seq), None)


@dataclass
class Outcome:
    visible: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    reference: float = 0.0
    during: float = 0.0  # from the fetch's start until the process matches the delta
    applying: float = 0.0  # from the page's commit until then
    all_matched: bool = True  # every delta entry matched, no deleted one, in every process


def _judge(reports: list[ServingReport], times: DeltaTimes, args: argparse.Namespace) -> Outcome:
    outcome = Outcome()
    before = times.fetch_started - args.reference_seconds
    for number, report in enumerate(reports):
        at = _visible_at(report, times.seq)
        if at is None:
            outcome.lines.append(f"process {number}: the delta was NOT visible by the end")
            outcome.visible.append(float("inf"))
            outcome.all_matched = False
            continue
        outcome.visible.append(at - times.committed)
        if report.delta_matched != args.delta or report.deleted_matched:
            outcome.all_matched = False
        reference = _rate(report.done, before, times.fetch_started)
        during = _rate(report.done, times.fetch_started, at)
        applying = _rate(report.done, times.committed, at)
        outcome.reference += reference
        outcome.during += during
        outcome.applying += applying if applying == applying else 0.0  # NaN: no window
        rebuilt = report.built_from_feed or report.snapshot_seq_after != report.snapshot_seq_before
        outcome.lines.append(
            f"process {number} ({'index writer' if report.writer else 'reader'}): "
            f"visible {at - times.committed:.3f} s after the commit "
            f"({at - times.fetch_started:.3f} s after the fetch started); "
            f"lookups/s before {reference:,.0f}, during {during:,.0f} "
            f"(commit to visible: {applying:,.0f}); "
            f"delta matched {report.delta_matched:,}/{args.delta:,}, "
            f"deleted still matched {report.deleted_matched}/{args.deletions}; "
            f"rebuild or snapshot reload: {'YES' if rebuilt else 'no'}; "
            f"peak RSS {report.peak_rss_mib:,.0f} MiB"
        )
    return outcome


def _start_serving(plan: ServingPlan, processes: int) -> tuple[list[Any], Event, Any]:
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    workers = []
    for _ in range(processes):
        ready = context.Event()
        worker = context.Process(target=_serve, args=(plan, ready, stop, out))
        worker.start()
        if not ready.wait(timeout=600):
            raise SystemExit("a serving process did not start within 10 minutes")
        workers.append(worker)
    return workers, stop, out


def _fetch_list(database: Database, plan: ListPlan) -> None:
    report = fetch_exchange(
        database, EXCHANGE, PagedExchange(plan.record_pages(), "setup-"), actor=ACTOR
    )
    if not report.succeeded or report.error_count:
        raise SystemExit(f"the set-up fetch failed: {report.failure} {report.errors[:3]}")


def _insert_list(database: Database, plan: ListPlan) -> None:
    """Bulk rows as an exchange fetch would leave them, feed-stamped in their transaction
    (Core on the table: the ORM's bulk path costs more than SQLite's own insert)."""
    with database.transaction() as session:
        list_id = session.scalars(sqlalchemy.select(HashList.id).where(HashList.name == LIST)).one()
    statistics = PlannerStatistics(database)
    fixed = {
        "list_id": list_id,
        "signal_type": SignalType.PDQ,
        "classification": "A1",
        "source": f"exchange:{EXCHANGE}",
        "added_at": utcnow(),
        "status": EntryStatus.ACTIVE,
        "match_count": 0,
    }
    for page in plan.pages():
        with database.transaction(write=True) as session:
            seqs = allocate_change_seqs(session, len(page))
            rows = [
                {**fixed, "signal": pdq, "external_id": external_id, "change_seq": seq}
                for (external_id, pdq), seq in zip(page, seqs, strict=True)
            ]
            session.connection().execute(insert(ListEntry.__table__), rows)
        statistics.note_writes(len(rows))


def _set_up(database: Database, args: argparse.Namespace, root: Path) -> ListPlan:
    _create_exchange(database)
    plan = ListPlan(args.entries, args.page)
    started = time.monotonic()
    (_fetch_list if args.setup == "fetch" else _insert_list)(database, plan)
    stored = time.monotonic() - started
    started = time.monotonic()
    with LiveIndex.open(database, root) as live:
        assert live.built_from_feed
    built = time.monotonic() - started
    print(
        f"set-up ({args.setup}): {args.entries:,} entries stored in {stored:,.1f} s "
        f"({args.entries / stored:,.0f} entries/s, {args.page:,} a transaction); "
        f"snapshot built from the feed in {built:,.1f} s"
    )
    return plan


def main() -> None:
    pin_single_thread()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--delta", type=int, default=10_000)
    parser.add_argument("--deletions", type=int, default=1_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--setup", choices=("direct", "fetch"), default="direct")
    parser.add_argument("--page", type=int, default=50_000, help="set-up rows a transaction")
    parser.add_argument("--reference-seconds", type=float, default=5.0)
    parser.add_argument("--after-seconds", type=float, default=3.0)
    args = parser.parse_args()
    if args.deletions > SAMPLE // 2 or args.entries < SAMPLE:
        parser.error(f"needs --entries >= {SAMPLE} and --deletions <= {SAMPLE // 2}")
    print(describe())
    with (
        tempfile.TemporaryDirectory() as scratch,
        fresh_database(args.database, Path(scratch), "delta") as url,
    ):
        root = Path(scratch) / "index"
        with open_database(url) as database:
            listed = _set_up(database, args, root)
            snapshot = current(root)
            sample = list(listed.sample.items())
            deleted = dict(sample[: args.deletions])
            queries = [_flipped(pdq, n % 9) for n, (_, pdq) in enumerate(sample[args.deletions :])]
            queries += _random_hashes(len(queries))
            delta = {f"d{n}": pdq for n, pdq in enumerate(_random_hashes(args.delta))}
            plan = ServingPlan(url, str(root), queries, delta, deleted)
            workers, stop, out = _start_serving(plan, args.processes)
            time.sleep(args.reference_seconds)
            times = _apply_delta(database, delta, list(deleted))
            time.sleep(args.after_seconds)
            stop.set()
            reports = [out.get(timeout=600) for _ in workers]
            for worker in workers:
                worker.join()
            same_snapshot = current(root) == snapshot
        _print(args, _judge(reports, times, args), same_snapshot)


def _print(args: argparse.Namespace, outcome: Outcome, same_snapshot: bool) -> None:
    print(
        f"database {args.database}; list of {args.entries:,} PDQ entries; delta of "
        f"{args.delta:,} new entries and {args.deletions:,} deletions in one exchange page; "
        f"{args.processes} serving processes"
    )
    for line in outcome.lines:
        print("  " + line)
    ratio = outcome.during / outcome.reference if outcome.reference else float("nan")
    print(
        f"lookups/s before the delta (reference): {outcome.reference:,.0f} / during the apply: "
        f"{outcome.during:,.0f} / ratio: {ratio:.2f}  (all processes together; the apply: "
        f"from the fetch's start to visible)"
    )
    print(
        f"lookups/s from the commit to visible: {outcome.applying:,.0f} / ratio: "
        f"{outcome.applying / outcome.reference if outcome.reference else float('nan'):.2f}"
    )
    worst = max(outcome.visible)
    verdict = "PASS" if worst <= TARGET_SECONDS and outcome.all_matched else "FAIL"
    print(
        f"time to visible: p50 {statistics.median(outcome.visible):.3f} s / max {worst:.3f} s "
        f"over processes (target {TARGET_SECONDS:g} s) {verdict}"
    )
    unchanged = "yes" if same_snapshot else "NO"
    print(f"index snapshot unchanged through the delta (no rebuild): {unchanged}")


if __name__ == "__main__":
    main()
