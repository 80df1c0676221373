"""Fingerprint one object of a source: read it (bounded), then hash its bytes.

Runs where the hashing runs (a pool process, a Ray task), so it names its source by URI and
opens it there once per process. Whatever goes wrong with one object is that object's
failed Fingerprint, never an exception: the job goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.fingerprint.errors import FailureReason, FingerprintError
from vigil.fingerprint.pipeline import FingerprintOptions, fingerprint_bytes
from vigil.fingerprint.record import Fingerprint
from vigil.screening.backlog.objects import (
    ObjectError,
    ObjectReadError,
    ObjectRef,
    ObjectSource,
    ReadProblem,
)
from vigil.screening.backlog.source_uri import open_source
from vigil.screening.backlog.throttle import Throttle

Rates = tuple[float | None, float | None]  # requests/s and bytes/s for this process; None: any
NO_CEILING: Rates = (None, None)
# Per process: a source (its client, its throttle) opened once.
_opened: dict[tuple[str, Rates], ObjectSource] = {}


@dataclass(frozen=True, slots=True)
class HashTask:
    source_uri: str
    ref: ObjectRef
    max_bytes: int
    rates: Rates = NO_CEILING  # this process's share of the job's ceilings

    def __str__(self) -> str:  # how the hashing pool labels a timeout or a crash
        return self.ref.identity


def hash_object(task: HashTask, options: FingerprintOptions) -> Fingerprint:
    name = task.ref.identity
    try:
        data = source_of(task.source_uri, task.rates).read(task.ref, task.max_bytes)
    except ObjectReadError as exc:
        return failed(name, _reason(exc.problem), exc.detail)
    if not data:  # as for files: the digest of nothing would match every empty object
        return failed(name, FailureReason.EMPTY, "the object is empty")
    return fingerprint_bytes(data, options, name=name)


def listing_failure(item: ObjectError) -> Fingerprint:
    return failed(item.identity, FailureReason.UNREADABLE, item.reason)


def failed(name: str, reason: FailureReason, detail: str) -> Fingerprint:
    return Fingerprint(path=name).fail(FingerprintError(reason, detail))


def source_of(uri: str, rates: Rates = NO_CEILING) -> ObjectSource:
    source = _opened.get((uri, rates))
    if source is None:
        source = _opened[(uri, rates)] = open_source(uri, throttle=throttle(rates))
    return source


def throttle(rates: Rates) -> Throttle | None:
    return None if rates == NO_CEILING else Throttle(*rates)


def share(rates: Rates, processes: int) -> Rates:
    """One process's part of a job's ceilings, when ``processes`` read at once."""
    requests, nbytes = rates
    return (
        requests / processes if requests is not None else None,
        nbytes / processes if nbytes is not None else None,
    )


def _reason(problem: ReadProblem) -> FailureReason:
    return FailureReason.TOO_LARGE if problem is ReadProblem.TOO_LARGE else FailureReason.UNREADABLE
