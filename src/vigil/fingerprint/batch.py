"""Fingerprint many files in parallel, streaming results in input order.

Why a hand-rolled pool of ``spawn`` processes rather than ``multiprocessing.Pool`` or
``ProcessPoolExecutor``: neither can stop one task. A decoder that hangs in C code holds
its worker forever, and a worker that segfaults loses its task (``Pool``) or breaks the
whole executor (``ProcessPoolExecutor``). Here every worker owns a pipe and holds at
most one file, so the parent knows exactly which file each worker is on and since when:

* a file that runs past ``timeout`` seconds gets its worker killed and is reported as
  ``timeout``; a worker that dies mid-file (segfault, OOM kill) reports that file as
  ``corrupt_media``. Either way a fresh worker takes the next file and the batch goes on.
* One file per round trip costs a pipe message (tens of microseconds) against the
  milliseconds a file takes to hash, so chunking would buy nothing and blur the timeout.
* Results are yielded in input order (deterministic output that diffs cleanly); a reorder
  window bounds how far dispatch may run ahead of the oldest unfinished file, so memory
  stays bounded however long the input iterator is, which is only pulled as workers free up.
* ``spawn`` gives each worker a fresh interpreter: no forked numpy/OpenBLAS thread state,
  and BLAS pools limited to one thread through the environment the child inherits (each
  process already has a core; nested BLAS threads would oversubscribe it).
* Workers start lazily, so a batch of one file starts one worker, and retire after
  ``RECYCLE_AFTER`` files so slow leaks in native decoders cannot accumulate.

``workers=1`` hashes in the calling process: no start-up cost, but also no timeout (a
thread stuck in C code cannot be interrupted), so unattended runs should use ``workers>=2``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Generic, TypeVar

from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_path
from vigil.fingerprint.record import Fingerprint

log = logging.getLogger(__name__)

Task = TypeVar("Task")  # anything picklable
Hasher = Callable[[Path, FingerprintOptions], Fingerprint]

DEFAULT_TIMEOUT = 300.0  # seconds per file: long videos legitimately take minutes
STARTUP_TIMEOUT = 120.0  # a worker that cannot import numpy in this long is broken
RECYCLE_AFTER = 2000  # files per worker before it is replaced
WINDOW_PER_WORKER = 32  # files dispatched ahead of the oldest unfinished one, per worker
BLAS_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_READY = "ready"


def fingerprint_many(
    paths: Iterable[Path],
    options: FingerprintOptions | None = None,
    workers: int = 1,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    hasher: Hasher = fingerprint_path,
) -> Generator[Fingerprint, None, None]:
    """One Fingerprint per path, in input order; a failing file never stops the batch.

    ``hasher`` must be a module-level function (workers import it by name). Close the
    generator when stopping early: that stops the workers at once.
    """
    return fingerprint_tasks(
        (Path(path) for path in paths), hasher, options, workers, timeout=timeout
    )


def fingerprint_tasks(
    tasks: Iterable[Task],
    hasher: Callable[[Task, FingerprintOptions], Fingerprint],
    options: FingerprintOptions | None = None,
    workers: int = 1,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Generator[Fingerprint, None, None]:
    """:func:`fingerprint_many` for any picklable task a module-level ``hasher`` turns into a
    Fingerprint (an object in a store, say); a failure the pool records (a timeout, a crash)
    is labelled ``str(task)``."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    options = options or FingerprintOptions()
    if workers == 1:
        return (_hash_safely(hasher, task, options) for task in tasks)
    return _Batch(tasks, options, workers, timeout, hasher).run()


def default_workers() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _hash_safely(
    hasher: Callable[[Task, FingerprintOptions], Fingerprint],
    task: Task,
    options: FingerprintOptions,
) -> Fingerprint:
    try:
        return hasher(task, options)
    except Exception as exc:  # fingerprint_path never raises; a custom hasher might
        detail = f"hashing failed: {exc!r}"
        return Fingerprint(path=str(task)).fail(FingerprintError(FailureReason.CORRUPT, detail))


def _serve(
    conn: Connection, options: FingerprintOptions, hasher: Callable[..., Fingerprint], level: int
) -> None:
    """Worker loop: one (index, path) in, one (index, Fingerprint) out, until told to stop."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("vigil").setLevel(level)
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except EOFError:  # the parent has gone
            return
        if task is None:
            return
        index, item = task
        conn.send((index, _hash_safely(hasher, item, options)))


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    started: float
    ready: bool = False
    task: tuple[int, Any] | None = None
    deadline: float = 0.0
    done: int = 0


class _Batch(Generic[Task]):
    def __init__(
        self,
        tasks: Iterable[Task],
        options: FingerprintOptions,
        workers: int,
        timeout: float,
        hasher: Callable[[Task, FingerprintOptions], Fingerprint],
    ) -> None:
        self._tasks = iter(tasks)
        self._options = options
        self._size = workers
        self._timeout = timeout
        self._hasher = hasher
        self._window = workers * WINDOW_PER_WORKER
        self._context = multiprocessing.get_context("spawn")
        self._crew: list[_Worker] = []
        self._finished: dict[int, Fingerprint] = {}
        self._queue: deque[tuple[int, Task]] = deque()  # pulled, not yet sent
        self._pulled = 0
        self._emitted = 0
        self._exhausted = False

    def run(self) -> Generator[Fingerprint, None, None]:
        try:
            while self._more_to_come():
                self._dispatch()
                self._collect()
                yield from self._in_order()
        finally:
            self._shutdown()

    def _more_to_come(self) -> bool:
        return not self._exhausted or self._emitted < self._pulled

    def _dispatch(self) -> None:
        while True:
            self._top_up()
            worker = self._idle_worker()
            if worker is None or not self._queue:
                break
            worker.task = self._queue.popleft()
            worker.deadline = time.monotonic() + self._timeout
            worker.conn.send(worker.task)
        # Start workers in parallel, but no more than there are files waiting for them.
        starting = sum(not w.ready for w in self._crew)
        while len(self._queue) > starting and len(self._crew) < self._size:
            self._crew.append(self._spawn())
            starting += 1

    def _top_up(self) -> None:
        """Pull lazily: a few files queued, never more than the window in flight."""
        while (
            not self._exhausted
            and len(self._queue) < self._size
            and self._pulled - self._emitted < self._window
        ):
            try:
                task = next(self._tasks)
            except StopIteration:
                self._exhausted = True
                return
            self._queue.append((self._pulled, task))
            self._pulled += 1

    def _idle_worker(self) -> _Worker | None:
        return next((w for w in self._crew if w.ready and w.task is None), None)

    def _spawn(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        log_level = logging.getLogger("vigil").getEffectiveLevel()
        process = self._context.Process(
            target=_serve,
            args=(child_end, self._options, self._hasher, log_level),
            name="vigil-fingerprint",
            daemon=True,
        )
        with _single_threaded_blas():
            process.start()
        child_end.close()
        return _Worker(process, parent_end, time.monotonic())

    def _collect(self) -> None:
        """Wait for a message, a death or a deadline, then settle every worker affected."""
        waitables = [w.conn for w in self._crew] + [w.process.sentinel for w in self._crew]
        wait(waitables, timeout=self._wait_budget())
        for worker in list(self._crew):
            self._drain(worker)
            if not worker.process.is_alive():
                self._bury(worker)
            elif worker.task is not None and time.monotonic() > worker.deadline:
                self._kill(
                    worker,
                    FailureReason.TIMEOUT,
                    f"no result after {self._timeout:g} s; the worker was restarted",
                )
            elif not worker.ready and time.monotonic() - worker.started > STARTUP_TIMEOUT:
                raise RuntimeError("a fingerprint worker did not start")
            elif worker.done >= RECYCLE_AFTER and worker.task is None:
                self._retire(worker)

    def _wait_budget(self) -> float:
        now = time.monotonic()
        deadlines = [w.deadline for w in self._crew if w.task is not None]
        deadlines += [w.started + STARTUP_TIMEOUT for w in self._crew if not w.ready]
        return max(0.0, min(deadlines) - now) if deadlines else 0.0

    def _drain(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                if message == _READY:
                    worker.ready = True
                    continue
                index, record = message
                self._finished[index] = record
                worker.task = None
                worker.done += 1
        except (EOFError, OSError):  # the worker died; _bury accounts for its file
            pass

    def _bury(self, worker: _Worker) -> None:
        if not worker.ready:
            raise RuntimeError(
                f"a fingerprint worker died while starting (exit code {worker.process.exitcode})"
            )
        if worker.task is not None:
            detail = f"the decoder crashed (worker exit code {worker.process.exitcode})"
            self._fail_task(worker, FailureReason.CORRUPT, detail)
        self._remove(worker)

    def _kill(self, worker: _Worker, reason: FailureReason, detail: str) -> None:
        log.warning("killing worker %s on %s: %s", worker.process.pid, worker.task, detail)
        worker.process.kill()
        worker.process.join()
        self._fail_task(worker, reason, detail)
        self._remove(worker)

    def _fail_task(self, worker: _Worker, reason: FailureReason, detail: str) -> None:
        assert worker.task is not None
        index, task = worker.task
        failed = Fingerprint(path=str(task)).fail(FingerprintError(reason, detail))
        self._finished[index] = failed
        worker.task = None

    def _retire(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError):
            worker.conn.send(None)
        worker.process.join(timeout=5)
        self._remove(worker)

    def _remove(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        worker.conn.close()
        self._crew.remove(worker)

    def _in_order(self) -> Iterator[Fingerprint]:
        while self._emitted in self._finished:
            record = self._finished.pop(self._emitted)
            self._emitted += 1
            yield record

    def _shutdown(self) -> None:
        # Idle workers exit on request; busy ones (the consumer stopped early) are killed.
        for worker in self._crew:
            if worker.task is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
        for worker in list(self._crew):
            worker.process.join(timeout=1 if worker.task is None else 0)
            self._remove(worker)


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Environment a spawned child inherits: BLAS reads it when numpy loads, before any
    of our code runs in the child, so it cannot be set from inside the worker."""
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
