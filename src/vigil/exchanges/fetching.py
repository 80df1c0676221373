"""Fetching one exchange into the lists it feeds: resumable, idempotent, one process at a time.

* One at a time: a fetch runs only while it holds the exchange's database-level lock
  (vigil.store.job_locks); a second fetch of the same exchange, in any process, is refused
  with FetchAlreadyRunning rather than waiting.
* Resumable: the client starts from the stored checkpoint; a few pages' entries (into every
  list the exchange feeds) and the last of those pages' checkpoint are written in ONE
  transaction, so after a crash at any point the checkpoint names exactly what is stored and
  the next fetch goes on from there. Pages are grouped (``_Group``: up to GROUP_RECORDS
  records, for as long as the next page comes within NEXT_PAGE_SECONDS, GROUP_SECONDS at
  most) because a commit per page cost a tenth of a fetch. Another thread reads the
  client's pages a few ahead (vigil.exchanges.page_prefetch): the service's answers and
  their parsing overlap the writes, and pages received are stored even while the service
  hangs on the next one. No transaction is open while a page is waited for; a Ctrl-C
  (held while a group is prepared or written) stores the pages received, closes the
  client and stops the reader.
* Idempotent: entries are written by the list import's bulk writer (upserts on the hash,
  deletions by the exchange's entry id), so a page applied twice changes nothing.
  Unlike a list file, an exchange's later record of an entry wins (an update may change a
  classification). An entry's records in a page replace that entry's earlier hashes (an
  update that drops a hash deletes it), and a deletion removes the whole entry, as
  tests/exchanges/replica.py models it.
* Errors: an ExchangeError stops the fetch; its kind and message go on the exchange (state
  failed), the checkpoint stays at the last stored page, and nothing stored is lost. Bad
  records (RecordError items, or records the store cannot hold) are counted, the first
  ``MAX_KEPT_ERRORS`` kept, and the rest of the page is stored.
* Audited once per fetch, whatever its number of pages; new and changed entries reach
  every process's match index through the change feed, with no rebuild.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.core.periodic import safe_description
from vigil.exchanges.held_interrupt import HeldInterrupt
from vigil.exchanges.page_prefetch import PagePrefetch, Pending
from vigil.exchanges.protocol import Exchange as ExchangeClient
from vigil.exchanges.protocol import ExchangeError, FetchedPage
from vigil.lists.formats import FormatWarning, ListRecord, RecordError
from vigil.store.database import Database
from vigil.store.errors import StoreError
from vigil.store.exchanges.audit_trail import checked_actor, record_fetch
from vigil.store.exchanges.catalogue import exchange_by_id, get_exchange
from vigil.store.exchanges.fetch_state import begin_fetch, fail_fetch, finish_fetch, store_page
from vigil.store.job_locks import held_alone
from vigil.store.lists.import_batch import (
    BatchContext,
    BatchCounts,
    Offer,
    PendingBatch,
    write_batch,
)
from vigil.store.lists.import_jobs import fail_job, finish_job, record_progress, start_job
from vigil.store.lists.import_records import EntryKey, EntryRecord, Metadata, entry_record
from vigil.store.lists.planner_statistics import PlannerStatistics
from vigil.store.models import (
    EntryStatus,
    HashList,
    ImportJob,
    ImportStatus,
    ListEntry,
    utcnow,
)

MAX_KEPT_ERRORS = 100  # record errors kept with their positions; the rest are counted
IN_CHUNK = 900  # external ids per IN (...) list
INTERNAL_FAILURE = "internal"  # the kind recorded for a failure that is not the service's
GROUP_RECORDS = 10_000  # records written in one transaction: about four NCMEC pages
GROUP_SECONDS = 1.0  # nor does a page wait longer than this for the pages after it
NEXT_PAGE_SECONDS = 0.05  # a group waits this long for a next page that has not come yet


class FetchRefused(StoreError):
    """The fetch did not start: the exchange is disabled."""


class FetchAlreadyRunning(FetchRefused):
    """Another process (or thread) is fetching this exchange now."""


@dataclass(frozen=True, slots=True)
class FetchProgress:
    """After each stored page: records stored so far by this fetch, pages, how far in the
    service's time it has come, and the whole fetch's size when the service says."""

    entries: int
    pages: int
    through: datetime | None
    estimated_total: int | None


@dataclass(slots=True)
class FetchReport:
    exchange: str
    pages: int = 0
    entries: int = 0  # records stored: additions, updates and deletions
    deletions: int = 0  # of those, deletions
    counts: dict[str, BatchCounts] = field(default_factory=dict)  # per list fed
    errors: list[RecordError] = field(default_factory=list)  # the first MAX_KEPT_ERRORS
    error_count: int = 0
    warning_count: int = 0
    failure: ExchangeError | None = None  # what stopped the fetch, if anything did
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.failure is None

    def note(self, item: RecordError | FormatWarning) -> None:
        if isinstance(item, FormatWarning):
            self.warning_count += 1
            return
        self.error_count += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(item)


ProgressCallback = Callable[[FetchProgress], None]


def fetch_lock_name(exchange_id: int) -> str:
    """The job-lock name of one exchange's fetches (also a lock file's name on SQLite)."""
    return f"exchange-fetch-{exchange_id}"


def fetch_exchange(
    database: Database,
    name: str,
    client: ExchangeClient,
    *,
    actor: str,
    on_progress: ProgressCallback | None = None,
) -> FetchReport:
    """Fetch what ``client`` has new since the stored checkpoint into the exchange's lists.

    Returns the report, also when an ExchangeError stopped the fetch (``report.failure``:
    recorded on the exchange, the next fetch resumes). Raises FetchRefused (disabled),
    FetchAlreadyRunning, UnknownExchange; any other error is recorded as an internal
    failure and raised."""
    actor = checked_actor(actor)
    with database.transaction() as session:
        exchange = get_exchange(session, name)
        exchange_id, exchange_name, enabled = exchange.id, exchange.name, exchange.enabled
    if not enabled:
        raise FetchRefused(f"exchange {exchange_name!r} is disabled; enable it to fetch")
    with held_alone(database, fetch_lock_name(exchange_id)) as held:
        if not held:
            raise FetchAlreadyRunning(
                f"exchange {exchange_name!r} is being fetched by another process; "
                "this fetch did not start"
            )
        run = _Run.start(database, exchange_id, actor)
        return run.execute(client, on_progress)


@dataclass(frozen=True, slots=True)
class _Target:
    """One list the exchange feeds, and the import job this fetch writes it under."""

    list_name: str
    context: BatchContext


class _Run:
    def __init__(
        self,
        database: Database,
        exchange_id: int,
        checkpoint: str | None,
        targets: list[_Target],
        report: FetchReport,
        actor: str,
    ) -> None:
        self.database = database
        self.exchange_id = exchange_id
        self.checkpoint = checkpoint
        self.targets = targets
        self.report = report
        self.actor = actor
        self.statistics = PlannerStatistics(database)
        self.pending_lists: list[tuple[int, str]] = []  # (id, name) of the lists fed
        self.kind = ""

    @classmethod
    def start(cls, database: Database, exchange_id: int, actor: str) -> _Run:
        """Read the checkpoint and the lists fed, and mark the fetch running."""
        with database.transaction(write=True) as session:
            exchange = exchange_by_id(session, exchange_id)
            begin_fetch(session, exchange_id)
            lists = [(link.list_id, link.hash_list.name) for link in exchange.lists]
            _close_interrupted_jobs(session, [list_id for list_id, _ in lists], exchange.name)
            report = FetchReport(exchange.name, counts={name: BatchCounts() for _, name in lists})
            run = cls(database, exchange_id, exchange.checkpoint, [], report, actor)
            run.pending_lists, run.kind = lists, exchange.kind
            return run

    def _open_jobs(self, session: Session) -> list[_Target]:
        """An import job per list, opened with the first page (an empty fetch leaves no
        job in the lists' import history): entries are stamped with it."""
        targets = []
        source = f"exchange:{self.report.exchange}"[:500]
        for list_id, list_name in self.pending_lists:
            job = start_job(
                session,
                session.get_one(HashList, list_id),
                resume_key=None,
                format_label=f"exchange:{self.kind}"[:32],
                file_name=source,
            )
            context = BatchContext(list_id, job.id, source, source[:200], newest_wins=True)
            targets.append(_Target(list_name, context))
        return targets

    def execute(self, client: ExchangeClient, on_progress: ProgressCallback | None) -> FetchReport:
        started = time.monotonic()
        try:
            with HeldInterrupt() as interrupt, PagePrefetch(client, self.checkpoint) as pages:
                self._store_all(pages, interrupt, on_progress)
        except ExchangeError as error:
            self.report.failure = error
            self.report.seconds = time.monotonic() - started
            self._finish(error.kind.value, str(error))
            return self.report
        except Exception as exc:
            self.report.seconds = time.monotonic() - started
            self._finish_after_internal_failure(exc)
            raise
        self.report.seconds = time.monotonic() - started
        self._finish(None, None)
        return self.report

    def _store_all(
        self,
        pages: PagePrefetch,
        interrupt: HeldInterrupt,
        on_progress: ProgressCallback | None,
    ) -> None:
        """Pages in groups of a few, each group in one transaction (see _Group); no
        transaction is open while the next page is waited for, the one place a Ctrl-C
        takes effect (vigil.exchanges.held_interrupt)."""
        group = _Group()
        while True:
            try:
                with interrupt.waiting():
                    page = pages.next_page(group.patience())
            except BaseException:
                # The pages the client gave before it failed (or before a Ctrl-C) are
                # whole: store them first.
                self._store(group, on_progress)
                raise
            if page is Pending.ENDED:
                break
            if page is not Pending.NOT_YET:
                group.add(self._prepared(page))
                if not group.due():
                    continue
            self._store(group, on_progress)
            group = _Group()
        self._store(group, on_progress)

    def _prepared(self, page: FetchedPage) -> _Prepared:
        """A page's records, batched, before any transaction (bad records are noted)."""
        errors_before = self.report.error_count
        records = self._records(page)
        return _Prepared(
            page,
            len(records),
            _batches(records),
            _replacements(records),
            sum(1 for record in records if record.deleted),
            self.report.error_count - errors_before,
        )

    def _store(self, group: _Group, on_progress: ProgressCallback | None) -> None:
        """The group's pages, in order, into every list, and the last page's checkpoint, in
        one transaction; then the report and a progress call per page."""
        if not group.pages:
            return
        with self.database.transaction(write=True) as session:
            targets = self.targets or self._open_jobs(session)
            group_counts = [BatchCounts() for _ in targets]
            for prepared in group.pages:
                for target, counts in zip(targets, group_counts, strict=True):
                    _write_page(session, target.context, prepared, counts)
            for target in targets:
                record_progress(
                    session,
                    target.context.job_id,
                    self.report.entries + group.records,
                    self.report.error_count,
                )
            store_page(
                session,
                self.exchange_id,
                group.pages[-1].page.checkpoint,
                fetched=group.records - group.deletions,
                deleted=group.deletions,
                errors=group.errors,
            )
        self.targets = targets  # committed: the jobs exist
        for target, counts in zip(targets, group_counts, strict=True):
            self.report.counts[target.list_name].add(counts)
            self.statistics.note_writes(counts.added)
        for prepared in group.pages:
            self.checkpoint = prepared.page.checkpoint
            self.report.pages += 1
            self.report.entries += prepared.records
            self.report.deletions += prepared.deletions
            if on_progress is not None:
                on_progress(self._progress(prepared.page))

    def _records(self, page: FetchedPage) -> list[EntryRecord]:
        records: list[EntryRecord] = []
        for item in page.items:
            if not isinstance(item, ListRecord):
                self.report.note(item)
                continue
            record = entry_record(item)
            if isinstance(record, RecordError):
                self.report.note(record)
            elif record.deleted and record.metadata.external_id:
                # A deletion removes the whole entry, whichever of its hashes it names.
                records.append(EntryRecord(None, record.metadata, True, record.position))
            else:
                records.append(record)
        return records

    def _progress(self, page: FetchedPage) -> FetchProgress:
        return FetchProgress(
            self.report.entries, self.report.pages, page.through, page.estimated_total
        )

    def _finish(self, failure_kind: str | None, message: str | None) -> None:
        """State, import jobs and the fetch's one audit record, in one transaction."""
        with self.database.transaction(write=True) as session:
            if failure_kind is None:
                finish_fetch(session, self.exchange_id)
            else:
                fail_fetch(session, self.exchange_id, kind=failure_kind, message=message or "")
            for target in self.targets:
                job_id = target.context.job_id
                if failure_kind is None:
                    finish_job(session, job_id, self.report.entries, self.report.error_count, None)
                else:
                    fail_job(session, job_id, message or failure_kind)
            record_fetch(session, self.report.exchange, actor=self.actor, outcome=self._outcome())

    def _finish_after_internal_failure(self, exc: Exception) -> None:
        """Best effort: the database may be what failed; the checkpoint is safe either way."""
        with contextlib.suppress(StoreError, SQLAlchemyError):
            self._finish(INTERNAL_FAILURE, safe_description(exc))

    def _outcome(self) -> dict[str, object]:
        failure = self.report.failure
        return {
            "state": "succeeded" if failure is None else "failed",
            "failure_kind": None if failure is None else failure.kind.value,
            "pages": self.report.pages,
            "entries": self.report.entries,
            "deletions": self.report.deletions,
            "record_errors": self.report.error_count,
            "lists": {
                name: {"added": counts.added, "updated": counts.updated, "deleted": counts.deleted}
                for name, counts in self.report.counts.items()
            },
        }


def _close_interrupted_jobs(session: Session, list_ids: list[int], exchange_name: str) -> None:
    """Jobs of an earlier fetch whose process died are marked failed: this fetch holds the
    lock, so none of them is running (their entries are stored; the checkpoint covers them)."""
    session.execute(
        update(ImportJob)
        .where(
            ImportJob.list_id.in_(list_ids),
            ImportJob.file_name == f"exchange:{exchange_name}"[:500],
            ImportJob.status == ImportStatus.RUNNING,
        )
        .values(
            status=ImportStatus.FAILED,
            last_error="interrupted: the fetch stopped before it finished",
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def _batches(records: list[EntryRecord]) -> list[PendingBatch]:
    """The page's records in order, in as few batches as the writer allows: a record that
    repeats or depends on a pending one starts the next batch, so the later one wins."""
    batches = [PendingBatch()]
    for record in records:
        if batches[-1].offer(record) is not Offer.TAKEN:
            batches.append(PendingBatch())
            batches[-1].offer(record)
    return batches


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One page as it will be written: its records in batches, and what it counts."""

    page: FetchedPage
    records: int
    batches: list[PendingBatch]
    replaced: dict[str, set[EntryKey]]
    deletions: int
    errors: int


@dataclass(slots=True)
class _Group:
    """Pages written in one transaction. A transaction per page cost a commit (an fsync on
    SQLite) and its bookkeeping per page; a few pages together cost it once, while the
    checkpoint stored is still the last written page's, in the transaction of its rows.
    A group is written once it holds GROUP_RECORDS records, once the next page has not come
    within NEXT_PAGE_SECONDS (the service is slower than the writes, or hangs: a page
    received is stored at once rather than lost to a kill while the service is waited for)
    or its first page has waited GROUP_SECONDS, and when the client ends or fails. Pages
    are read ahead by another thread (vigil.exchanges.page_prefetch), so the next pages
    come while a group is written, and no transaction is open while one is waited for."""

    pages: list[_Prepared] = field(default_factory=list)
    records: int = 0
    deletions: int = 0
    errors: int = 0
    first_at: float = 0.0

    def add(self, prepared: _Prepared) -> None:
        if not self.pages:
            self.first_at = time.monotonic()
        self.pages.append(prepared)
        self.records += prepared.records
        self.deletions += prepared.deletions
        self.errors += prepared.errors

    def due(self) -> bool:
        return self.records >= GROUP_RECORDS or self._age() >= GROUP_SECONDS

    def patience(self) -> float | None:
        """How long to wait for the next page before the group is written (None: an empty
        group has nothing to write, so it waits as long as the service takes)."""
        if not self.pages:
            return None
        return max(0.0, min(NEXT_PAGE_SECONDS, GROUP_SECONDS - self._age()))

    def _age(self) -> float:
        return time.monotonic() - self.first_at


def _write_page(
    session: Session, context: BatchContext, prepared: _Prepared, counts: BatchCounts
) -> None:
    """One page's records into one list, then the hashes its updated entries dropped."""
    for batch in prepared.batches:
        counts.add(write_batch(session, context, batch))
    superseded = _superseded(session, context.list_id, prepared.replaced)
    if superseded:
        counts.add(write_batch(session, context, superseded))


def _replacements(records: list[EntryRecord]) -> dict[str, set[EntryKey]]:
    """Per entry id, the hashes the page leaves it with (those after its last deletion)."""
    latest: dict[str, set[EntryKey]] = {}
    for record in records:
        entry_id = record.metadata.external_id
        if entry_id is None:
            continue
        if record.deleted:
            latest.pop(entry_id, None)
        elif record.key is not None:
            latest.setdefault(entry_id, set()).add(record.key)
    return latest


def _superseded(
    session: Session, list_id: int, replaced: dict[str, set[EntryKey]]
) -> PendingBatch | None:
    """Deletions of the hashes an updated entry no longer has."""
    batch = PendingBatch()
    ids = sorted(replaced)
    for start in range(0, len(ids), IN_CHUNK):
        rows = session.execute(
            select(ListEntry.signal_type, ListEntry.signal, ListEntry.external_id).where(
                ListEntry.list_id == list_id,
                ListEntry.external_id.in_(ids[start : start + IN_CHUNK]),
                ListEntry.status != EntryStatus.DELETED,
            )
        ).all()
        for signal_type, signal, external_id in rows:
            key = EntryKey(signal_type, signal)
            if external_id is not None and key not in replaced[external_id]:
                metadata = Metadata(external_id, None, None, None, None)
                batch.offer(EntryRecord(key, metadata, True, 0))
    return batch if len(batch) else None
