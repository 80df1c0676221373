"""Import jobs: the row that makes an import resumable.

A job is keyed by its list, the content's digest (a file's SHA-256) and how the content is
read. ``records_done`` only ever grows in the same transaction as the records it counts,
so after a crash it says exactly how many records are safely stored; a rerun of the same
content finds the unfinished job and skips that many.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigil.store.models import HashList, ImportJob, ImportStatus, utcnow

_MAX_FILE_NAME = 500
_MAX_MESSAGE = 2000


def start_job(
    session: Session,
    hash_list: HashList,
    *,
    resume_key: str | None,
    format_label: str,
    file_name: str,
    file_path: str | None = None,
    list_version: str | None = None,
) -> ImportJob:
    """The unfinished job for this content if there is one, else a new job."""
    job = unfinished_job(session, hash_list.id, resume_key, format_label)
    if job is None:
        job = ImportJob(
            list_id=hash_list.id,
            file_name=file_name[:_MAX_FILE_NAME],
            file_path=file_path,
            file_sha256=resume_key,
            format=format_label,
            list_version=list_version,
            records_done=0,
            errors=0,
            created_at=utcnow(),
        )
        session.add(job)
    job.status = ImportStatus.RUNNING
    job.started_at = utcnow()
    job.last_error = None
    session.flush()
    return job


def unfinished_job(
    session: Session, list_id: int, resume_key: str | None, format_label: str
) -> ImportJob | None:
    if resume_key is None:
        return None  # the source cannot promise the same records again
    return session.scalar(
        select(ImportJob)
        .where(
            ImportJob.list_id == list_id,
            ImportJob.file_sha256 == resume_key,
            ImportJob.format == format_label,
            ImportJob.status != ImportStatus.COMPLETED,
        )
        .order_by(ImportJob.id.desc())
        .limit(1)
    )


def record_progress(session: Session, job_id: int, records_done: int, errors: int) -> None:
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(records_done=records_done, errors=errors)
        .execution_options(synchronize_session=False)
    )


def finish_job(
    session: Session, job_id: int, records_total: int, errors: int, last_error: str | None
) -> None:
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(
            status=ImportStatus.COMPLETED,
            records_done=records_total,
            records_total=records_total,
            errors=errors,
            finished_at=utcnow(),
            last_error=_clipped(last_error),
        )
        .execution_options(synchronize_session=False)
    )


def fail_job(session: Session, job_id: int, message: str) -> None:
    """Leave the job resumable (records_done untouched) with the reason it stopped."""
    session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(status=ImportStatus.FAILED, last_error=_clipped(message), finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _clipped(message: str | None) -> str | None:
    return None if message is None else message[:_MAX_MESSAGE]
