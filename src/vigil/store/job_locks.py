"""One process at a time: the lock a background job declared exclusive holds for one run.

A run that does not get the lock is skipped, not waited for: another process is doing that
work now, and the next interval comes soon enough.

- PostgreSQL: a session-level advisory lock, keyed by the job's name, on a connection of its
  own, so no transaction stays open while the job runs its own; the server releases it if the
  process dies.
- SQLite: an flock on a file beside the database file (every process using the database runs
  on this machine); the kernel releases it if the process dies.
- In-memory SQLite: no other process sees the database, so a lock of this process suffices.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, text

from vigil.core.database_urls import sqlite_path
from vigil.core.private_files import FILE_MODE
from vigil.store.database import Database

log = logging.getLogger(__name__)

LOCK_FILE_SUFFIX = ".lock"
_process_locks: dict[tuple[str, str], threading.Lock] = {}


def advisory_key(job: str) -> int:
    """The job's PostgreSQL advisory lock key: a signed 64-bit number stable across
    processes and versions (Python's hash() is salted per process)."""
    digest = hashlib.blake2b(f"vigil-job:{job}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_file(database_file: str, job: str) -> Path:
    """``vigil.db.triage.lock`` beside ``vigil.db``."""
    if database_file.startswith("file:"):  # a SQLite URI: file:/path/vigil.db?mode=rw
        database_file = urlsplit(database_file).path
    path = Path(database_file)
    return path.with_name(f"{path.name}.{job}{LOCK_FILE_SUFFIX}")


@contextmanager
def held_alone(database: Database, job: str) -> Iterator[bool]:
    """True inside when this process holds ``job``'s lock (until the block ends), False when
    another process (or thread) holds it."""
    if database.backend == "postgresql":
        with _advisory_lock(database.engine, job) as held:
            yield held
        return
    database_file = sqlite_path(database.engine.url)
    lock = (
        _file_lock(lock_file(database_file, job))
        if database_file is not None
        else _process_lock(str(database.engine.url), job)
    )
    with lock as held:
        yield held


@contextmanager
def _advisory_lock(engine: Engine, job: str) -> Iterator[bool]:
    key = advisory_key(job)
    with engine.connect() as connection:
        held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()  # the lock belongs to the session, not to this transaction
        try:
            yield held
        finally:
            if held:
                _unlock(connection, key, job)


def _unlock(connection: Connection, key: int, job: str) -> None:
    try:
        connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except Exception as exc:
        # Back in the pool still holding the lock, the connection would keep every other
        # process out of the job for good; discarded, its server session ends and the lock
        # with it.
        log.warning(
            "job %s: lock not released (%s); dropping its connection", job, type(exc).__name__
        )
        connection.invalidate()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    # Never deleted: removing a lock file another process has open would let a third
    # process lock a new file of the same name while the second still runs.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, FILE_MODE)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # closing the descriptor releases the lock
    finally:
        os.close(descriptor)


@contextmanager
def _process_lock(url: str, job: str) -> Iterator[bool]:
    lock = _process_locks.setdefault((url, job), threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
