"""is_held tells whether anyone holds a job's lock without taking it (issue 16: a status
read must never make a fetch that starts at that instant skip its turn). On SQLite and
PostgreSQL, for a lock held in this process, in another process, and by nobody."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from vigil.core.database_urls import sqlite_path
from vigil.store import Database, job_locks, open_database
from vigil.store.job_locks import advisory_key, held_alone, is_held, lock_file

HOLDER = """
import sys
from vigil.store import open_database
from vigil.store.job_locks import held_alone
with open_database(sys.argv[1]) as database, held_alone(database, sys.argv[2]) as held:
    print("held" if held else "refused", flush=True)
    sys.stdin.readline()
"""
# Both halves of the key's sign: a negative key's high 32 bits read as an oid above 2**31.
NEGATIVE_JOB = next(f"probe-{n}" for n in range(100) if advisory_key(f"probe-{n}") < 0)
POSITIVE_JOB = next(f"probe-{n}" for n in range(100) if advisory_key(f"probe-{n}") > 0)


@contextmanager
def _held_elsewhere(database_url: str, job: str) -> Iterator[subprocess.Popen[str]]:
    """``job``'s lock held by another process until the block ends (and then let go)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url, job],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
        holder.communicate("\n", timeout=30)
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_lock_nobody_took_is_not_held_and_looking_creates_nothing(
    database: Database,
) -> None:
    assert not is_held(database, "never taken")
    database_file = sqlite_path(database.engine.url)
    if database_file is not None:  # no lock file appears for a look
        assert not lock_file(database_file, "never taken").exists()


@pytest.mark.parametrize("job", [NEGATIVE_JOB, POSITIVE_JOB])
def test_a_lock_held_in_this_process_is_held_until_let_go(database: Database, job: str) -> None:
    with held_alone(database, job) as held:
        assert held
        assert is_held(database, job)
        assert not is_held(database, "another job")  # one lock per job
    assert not is_held(database, job)  # let go (on SQLite the file stays)


@pytest.mark.parametrize("job", [NEGATIVE_JOB, POSITIVE_JOB])
def test_a_lock_held_by_another_process_is_held(database_url: str, job: str) -> None:
    with open_database(database_url) as database:
        with _held_elsewhere(database_url, job) as holder:
            assert is_held(database, job)
            with held_alone(database, job) as taken:
                assert not taken  # is_held agrees with the lock itself
            assert is_held(database, job)  # looking twice changed nothing
        assert holder.returncode == 0
        assert not is_held(database, job)  # released when the holder ended


def test_postgresql_sees_the_advisory_lock_as_pg_locks_lists_it(postgres_url: str) -> None:
    """The key's high and low 32 bits, as pg_locks lists a lock taken from another
    connection: classid and objid, objsubid 1."""
    job = NEGATIVE_JOB
    key = advisory_key(job) & 0xFFFF_FFFF_FFFF_FFFF
    with open_database(postgres_url) as database, held_alone(database, job) as held:
        assert held
        with database.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT classid::bigint, objid::bigint, objsubid FROM pg_locks"
                    " WHERE locktype = 'advisory' AND granted"
                )
            ).all()
        assert (key >> 32, key & 0xFFFF_FFFF, 1) in [tuple(row) for row in rows]
        assert is_held(database, job)


def test_in_memory_sqlite_looks_at_the_process_lock() -> None:
    with open_database("sqlite://") as database:
        assert not is_held(database, "probe")
        with held_alone(database, "probe") as held:
            assert held and is_held(database, "probe")
        assert not is_held(database, "probe")


def test_looking_never_makes_a_concurrent_take_fail(database: Database) -> None:
    """While one thread looks in a loop, every take by another succeeds: nobody else holds
    the lock, and a look never takes it (the old probe did, for an instant)."""
    stop, looks = threading.Event(), [0]

    def look() -> None:
        while not stop.is_set():
            is_held(database, "busy")
            looks[0] += 1

    looker = threading.Thread(target=look)
    looker.start()
    try:
        refused = 0
        for _ in range(300):
            with held_alone(database, "busy") as held:
                refused += not held
    finally:
        stop.set()
        looker.join(timeout=30)
    assert looks[0] > 0
    assert refused == 0


def test_looking_never_opens_the_lock_file(sqlite_url: str) -> None:
    """A lock file that cannot be opened (here a directory) cannot be taken; a look that
    only reads its inode and /proc/locks answers all the same."""
    with open_database(sqlite_url) as database:
        database_file = sqlite_path(database.engine.url)
        assert database_file is not None
        lock_file(database_file, "probe").mkdir()
        with pytest.raises(OSError), held_alone(database, "probe"):
            pass
        assert not is_held(database, "probe")


def test_without_proc_locks_the_old_probe_still_answers(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(job_locks, "PROC_LOCKS", tmp_path / "no such file")
    with open_database(sqlite_url) as database:
        with held_alone(database, "probe"):
            assert is_held(database, "probe")
        assert not is_held(database, "probe")
        with _held_elsewhere(sqlite_url, "probe"):
            assert is_held(database, "probe")


def test_only_a_granted_flock_on_that_inode_counts() -> None:
    """/proc/locks lines of other kinds, other inodes, waiters and garbage are not holders."""
    listed = job_locks._flock_listed
    holder = "1: FLOCK  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"
    assert listed(holder, 1234)
    assert not listed(holder, 234)  # an inode whose number ends the same
    assert not listed(holder, 12345)
    assert not listed("1: POSIX  ADVISORY  WRITE 4242 fe:00:1234 0 EOF", 1234)
    assert not listed("1: OFDLCK ADVISORY  WRITE -1 fe:00:1234 0 EOF", 1234)
    assert not listed("1: -> FLOCK  ADVISORY  WRITE 99 fe:00:1234 0 EOF", 1234)
    assert not listed("", 1234)
    assert not listed("garbage\n\x00 FLOCK\n1: FLOCK a b c :1234\n1: FLOCK", 1234)
    assert listed("2: POSIX ADVISORY READ 1 fe:00:1 0 EOF\n" + holder + "\n", 1234)
    assert listed("1: FLOCK  ADVISORY  WRITE 7 103:1a:99 0 EOF", 99)  # any device
