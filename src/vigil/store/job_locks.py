"""One process at a time: the lock a background job declared exclusive holds for one run.

A run that does not get the lock is skipped, not waited for: another process is doing that
work now, and the next interval comes soon enough.

- PostgreSQL: a session-level advisory lock, keyed by the job's name, on a connection of its
  own, so no transaction stays open while the job runs its own; the server releases it if the
  process dies.
- SQLite: an flock on a file beside the database file (every process using the database runs
  on this machine); the kernel releases it if the process dies.
- In-memory SQLite: no other process sees the database, so a lock of this process suffices.

``is_held`` tells whether anyone (this process included) holds a job's lock without taking
it, so a status read never makes a run that starts at that instant skip its turn.
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
PROC_LOCKS = Path("/proc/locks")  # Linux: every lock of every process, flock ones included
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


def is_held(database: Database, job: str) -> bool:
    """True when some process or thread (this one included) holds ``job``'s lock now.
    Looks without taking the lock; the answer may be stale the moment it is given."""
    if database.backend == "postgresql":
        return _advisory_lock_held(database.engine, job)
    database_file = sqlite_path(database.engine.url)
    if database_file is None:
        lock = _process_locks.get((str(database.engine.url), job))
        return lock is not None and lock.locked()
    return _file_lock_held(lock_file(database_file, job))


# A bigint advisory key is listed with its high 32 bits as classid, its low 32 bits as
# objid, and objsubid 1 (2 is a pair of int keys); locks of other databases share the table.
_ADVISORY_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks"
    " WHERE locktype = 'advisory' AND granted AND objsubid = 1"
    " AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid)"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
)


def _advisory_lock_held(engine: Engine, job: str) -> bool:
    key = advisory_key(job) & 0xFFFF_FFFF_FFFF_FFFF  # the key's bits, read unsigned
    with engine.connect() as connection:
        return bool(
            connection.scalar(_ADVISORY_HELD, {"high": key >> 32, "low": key & 0xFFFF_FFFF})
        )


def _file_lock_held(path: Path) -> bool:
    try:
        # held_alone opens the file before locking it, and never through a link
        inode = path.lstat().st_ino
    except FileNotFoundError:
        return False
    try:
        locks = PROC_LOCKS.read_text(encoding="ascii", errors="replace")
    except OSError:
        # Not Linux, or /proc hidden: probe the old way, taking the lock for an instant (a
        # run starting in that instant is skipped and runs at its next turn).
        with _file_lock(path) as taken:
            return not taken
    return _flock_listed(locks, inode)


def _flock_listed(locks: str, inode: int) -> bool:
    """Whether /proc/locks lists a granted flock on inode ``inode``: lines read
    "1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF"; a waiter's line has
    "->" after the number and holds nothing.

    The device is not compared: on overlayfs (a container's own files) stat reports the
    underlying filesystem's device while the lock table lists the overlay's, so comparing
    it would call every running fetch dead. The price is that a flock on a file with the
    same inode number on another filesystem reads as held: the safe side (shown running,
    as before issue 16)."""
    wanted = [str(inode)]
    for line in locks.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].split(":")[2:] == wanted:
            return True
    return False


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
