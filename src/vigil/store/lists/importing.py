"""Importing a list file (or any HashSource delta) into a hash list: validated, idempotent,
resumable, in bulk.

* Every record is validated (the readers check hashes; import_records checks what only the
  store knows). A bad record is reported with its position and skipped; the rest imports.
* Idempotent: entries are upserted on (list, signal type, signal), so importing the same
  file twice gives the same list (see import_batch for what happens to each record).
* Resumable: records are committed every ``batch_size`` together with the job's
  ``records_done``; rerunning the same file after a crash skips what is stored.
* Reading happens outside transactions, so the write lock is held only while a batch is
  written.
* Audited once per job: the security audit record (who imported what, with the counts) is
  appended in the transaction that completes the job, so an interrupted import has none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.lists.formats import FormatWarning, ListRecord, ReadItem, RecordError
from vigil.lists.sources import HashSource, LocalFileSource, SourceDelta, SourceError
from vigil.store.audit import MAX_ACTOR_CHARS, checked_actor
from vigil.store.database import Database
from vigil.store.errors import DatabaseUnavailable, StoreError
from vigil.store.lists.audit_trail import record_import
from vigil.store.lists.catalogue import get_list
from vigil.store.lists.errors import ImportRefused
from vigil.store.lists.import_batch import (
    BatchContext,
    BatchCounts,
    Offer,
    PendingBatch,
    write_batch,
)
from vigil.store.lists.import_jobs import fail_job, finish_job, record_progress, start_job
from vigil.store.lists.import_records import EntryRecord, entry_record
from vigil.store.lists.planner_statistics import PlannerStatistics
from vigil.store.models import HashList, SignalType

DEFAULT_BATCH_SIZE = 5000
MAX_KEPT_ITEMS = 100  # errors and warnings kept with their positions; the rest are counted


@dataclass(frozen=True, slots=True)
class ImportOptions:
    batch_size: int = DEFAULT_BATCH_SIZE
    allowed_signal_types: Collection[SignalType] | None = None  # None: every type
    list_version: str | None = None  # the source's name for this version of the list


@dataclass(frozen=True, slots=True)
class ImportProgress:
    job_id: int
    records_done: int  # records of the file stored, counting those of an earlier run
    errors: int


@dataclass(slots=True)
class ImportReport:
    list_name: str
    source: str
    format_label: str
    job_id: int | None = None  # None when the source had nothing new
    counts: BatchCounts = field(default_factory=BatchCounts)
    resumed_after: int = 0  # records an interrupted earlier run had already stored
    records_read: int = 0
    errors: list[RecordError] = field(default_factory=list)  # the first MAX_KEPT_ITEMS
    error_count: int = 0
    warnings: list[FormatWarning] = field(default_factory=list)
    warning_count: int = 0
    seconds: float = 0.0
    source_changed: bool = True

    @property
    def complete(self) -> bool:
        """True when no record was rejected."""
        return self.error_count == 0

    def note(self, item: RecordError | FormatWarning) -> None:
        if isinstance(item, RecordError):
            self.error_count += 1
            if len(self.errors) < MAX_KEPT_ITEMS:
                self.errors.append(item)
        else:
            self.warning_count += 1
            if len(self.warnings) < MAX_KEPT_ITEMS:
                self.warnings.append(item)


ProgressCallback = Callable[[ImportProgress], None]
_Finaliser = Callable[[Session], None]


def import_file(
    database: Database,
    list_name: str,
    source: LocalFileSource,
    *,
    actor: str,
    options: ImportOptions | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a list file into ``list_name`` on behalf of ``actor``; always reads the whole
    file (an unchanged file imports as unchanged entries). Raises UnknownList or
    ImportRefused before anything is stored; DatabaseUnavailable leaves the job resumable."""
    _import_actor(actor)
    with database.transaction() as session:
        get_list(session, list_name)  # an unknown list fails before the file is read
    delta = _fetch(source, None)
    return import_delta(
        database,
        list_name,
        delta,
        source.name,
        actor=actor,
        file_path=str(source.path),
        options=options,
        on_progress=on_progress,
    )


def sync_list(
    database: Database,
    list_name: str,
    source: HashSource,
    *,
    actor: str,
    options: ImportOptions | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Fetch what ``source`` has new since the list's stored checkpoint and import it; the
    new checkpoint is stored in the same transaction as the last records. Nothing new:
    nothing stored and nothing audited."""
    _import_actor(actor)
    with database.transaction() as session:
        hash_list = get_list(session, list_name)
        checkpoint, list_id = hash_list.checkpoint, hash_list.id
    delta = _fetch(source, checkpoint)
    if not delta.changed:
        return ImportReport(list_name, source.name, delta.format_label, source_changed=False)

    def save_checkpoint(session: Session) -> None:
        saved = session.get_one(HashList, list_id)
        saved.checkpoint = delta.checkpoint
        if delta.version is not None:
            saved.version = delta.version

    return import_delta(
        database,
        list_name,
        delta,
        source.name,
        actor=actor,
        options=options,
        on_progress=on_progress,
        finalise=save_checkpoint,
    )


def import_delta(
    database: Database,
    list_name: str,
    delta: SourceDelta,
    source_name: str,
    *,
    actor: str,
    file_path: str | None = None,
    options: ImportOptions | None = None,
    on_progress: ProgressCallback | None = None,
    finalise: _Finaliser | None = None,
) -> ImportReport:
    """Apply a delta's items to the list, resuming an unfinished job for the same content;
    the job's audit record names ``actor``."""
    options = options or ImportOptions()
    if options.batch_size < 1:
        raise ValueError("batch_size must be positive")
    actor = _import_actor(actor)
    started = time.monotonic()
    run = _start(database, list_name, delta, source_name, file_path, options, on_progress, actor)
    try:
        for item in delta.items:
            run.take(item)
        run.commit(finalise=finalise or (lambda _session: None))
    except BaseException as exc:
        _record_failure(database, run.context.job_id, exc)
        raise
    finally:
        _close(delta.items)
    run.report.seconds = time.monotonic() - started
    return run.report


def _fetch(source: HashSource, checkpoint: str | None) -> SourceDelta:
    try:
        return source.fetch(checkpoint)
    except SourceError as exc:
        raise ImportRefused(str(exc)) from None
    except OSError as exc:
        where = exc.filename or source.name
        raise ImportRefused(f"cannot read {where}: {exc.strerror or exc}") from None


def _start(
    database: Database,
    list_name: str,
    delta: SourceDelta,
    source_name: str,
    file_path: str | None,
    options: ImportOptions,
    on_progress: ProgressCallback | None,
    actor: str,
) -> _Run:
    with database.transaction(write=True) as session:
        hash_list = get_list(session, list_name)
        job = start_job(
            session,
            hash_list,
            resume_key=delta.resume_key,
            format_label=delta.format_label,
            file_name=source_name,
            file_path=file_path,
            list_version=options.list_version,
        )
        context = BatchContext(
            hash_list.id,
            job.id,
            source_name[:500],
            f"import:{source_name}"[:MAX_ACTOR_CHARS],
            options.list_version,
        )
        report = ImportReport(
            hash_list.name,
            source_name,
            delta.format_label,
            job_id=job.id,
            resumed_after=job.records_done,
        )
    return _Run(database, context, report, options, job.records_done, on_progress, actor)


class _Run:
    """Reads items into pending batches and commits them every ``batch_size`` records."""

    def __init__(
        self,
        database: Database,
        context: BatchContext,
        report: ImportReport,
        options: ImportOptions,
        skip: int,
        on_progress: ProgressCallback | None,
        actor: str,
    ) -> None:
        self.database = database
        self.context = context
        self.report = report
        self.options = options
        self.skip = skip  # records stored by an interrupted earlier run of this job
        self.committed = skip
        self.on_progress = on_progress
        self.actor = actor  # who the job's audit record names
        self.pending: list[PendingBatch] = [PendingBatch()]
        self.statistics = PlannerStatistics(database)

    def take(self, item: ReadItem) -> None:
        if not isinstance(item, ListRecord):
            self.report.note(item)
            return
        self.report.records_read += 1
        record = entry_record(item, self.options.allowed_signal_types)
        if isinstance(record, RecordError):
            self.report.note(record)  # reported again on resume: the report stays whole
        elif self.report.records_read > self.skip:
            self._queue(record)
        if self.report.records_read - self.committed >= self.options.batch_size:
            self.commit()

    def _queue(self, record: EntryRecord) -> None:
        offer = self.pending[-1].offer(record)
        if offer is Offer.CONFLICT:
            self.pending.append(PendingBatch())
            self.pending[-1].offer(record)
        elif offer is Offer.DUPLICATE:
            self.report.counts.duplicates += 1

    def commit(self, finalise: _Finaliser | None = None) -> None:
        """Write the pending records and the job's progress in one transaction; with
        ``finalise``, also complete the job (and whatever ``finalise`` adds)."""
        read, errors = self.report.records_read, self.report.error_count
        counts = BatchCounts()
        with self.database.transaction(write=True) as session:
            for batch in self.pending:
                counts.add(write_batch(session, self.context, batch))
            if finalise is None:
                record_progress(session, self.context.job_id, read, errors)
            else:
                finish_job(session, self.context.job_id, read, errors, _last_error(self.report))
                finalise(session)
                self._audit(session, counts)
        self.report.counts.add(counts)
        self.statistics.note_writes(counts.added)
        self.pending = [PendingBatch()]
        self.committed = read
        if self.on_progress is not None:
            self.on_progress(ImportProgress(self.context.job_id, read, errors))

    def _audit(self, session: Session, last_counts: BatchCounts) -> None:
        """The job's one audit record; its counts cover this run, not an interrupted one."""
        counts = BatchCounts()
        counts.add(self.report.counts)
        counts.add(last_counts)
        record_import(
            session,
            self.report.list_name,
            actor=self.actor,
            job_id=self.context.job_id,
            source=self.report.source,
            format_label=self.report.format_label,
            records_read=self.report.records_read,
            errors=self.report.error_count,
            counts=counts,
        )


def _import_actor(actor: str) -> str:
    """Refused before the source is read, like every other reason an import cannot run."""
    return checked_actor(actor, refusal=ImportRefused)


def _last_error(report: ImportReport) -> str | None:
    if not report.errors:
        return None
    last = report.errors[-1]
    return f"position {last.position}: {last.message}"


def _record_failure(database: Database, job_id: int, exc: BaseException) -> None:
    if isinstance(exc, DatabaseUnavailable):
        return  # writing would only wait for the same lock again; the job still resumes
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        with database.transaction(write=True) as session:
            fail_job(session, job_id, message)
    except (StoreError, SQLAlchemyError):
        pass  # the database is the problem; the job stays "running" and still resumes


def _close(items: Iterable[ReadItem]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()
