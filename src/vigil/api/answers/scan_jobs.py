"""Answers of the backlog scan-job routes (issue 17): each job's source, engine, status,
counters, rate, percentage and ETA, and its matches waiting for review against those
released to it."""

from __future__ import annotations

from vigil.api.answers import Answer, Number, Time


class ScanJobMatches(Answer):
    found: int  # every match stored for the job
    queued: int  # waiting under the review ceiling
    released: int  # released to the review queue


class ScanJobStatus(Answer):
    id: int
    source: str
    engine: str
    # running, interrupted, completed, cancelled, failed, or, for a running job whose process
    # died, what `vigil scan-jobs status` says: "stopped (process gone; resume it)"
    status: str
    stored_status: str  # as the database holds it
    process_gone: bool
    objects: int  # objects finished (hashed, matched, stored), errors included
    total: int | None  # objects in the source, when known
    percent: Number | None
    bytes: int
    errors: int
    matches: ScanJobMatches
    chunks: int
    checkpoint: str | None  # the key of the last finished object
    last_error: str | None
    rate: Number | None  # objects per second from the start to the last checkpoint
    eta_seconds: Number | None  # while a live process scans a source of known size
    started_at: Time
    updated_at: Time
    finished_at: Time | None


class ScanJobStatuses(Answer):
    jobs: list[ScanJobStatus]
