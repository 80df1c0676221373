"""Every background job, declared once: its name, its interval, whether one process at a time
may run it, what it needs, and how it is built from the opened services.

The service workers run all of them unless started with ``vigil serve --no-jobs``; ``vigil
worker`` runs all or some of them apart from the web workers. Nothing else starts a job
(tests/jobs/test_registry.py checks).

Most jobs are safe in every process at once (the webhook dispatcher claims deliveries with a
lease, the retention job and the report sender take row locks, intake expiry is one UPDATE).
The triage round is ``exclusive``: two processes must not score or route the same report.
The exchange fetch runs in every process too: each exchange is fetched under its own lock
(vigil.exchanges.fetching), so a process finding one being fetched skips it and goes on to
the next, and each exchange's next fetch is due after its interval plus a jitter
(vigil.store.exchanges.fetch_state.next_fetch_at), so a fleet does not fetch at once. The
exchange feedback sender claims items with a lease, as the webhook dispatcher does. A fetch
that changed the lists of an exchange with ``retro_after_fetch`` on is followed by a round of
retroactive matching (vigil.jobs.exchange_retro), one process at a time under its own lock.
The release of backlog scan matches into review is ``exclusive``: the ceiling is one budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vigil.clearinghouse.expiry_job import IntakeExpiryJob
from vigil.core.periodic import never_at_once
from vigil.core.settings import Settings
from vigil.exchanges.feedback_sending import full_round, send_due_feedback
from vigil.jobs.exchange_retro import fetch_then_retro
from vigil.reporting.cybertipline.expiry import Windows
from vigil.reporting.filing import ReportJob
from vigil.screening.backlog.review_release import release_matches
from vigil.screening.webhooks import WebhookDispatcher
from vigil.store.database import Database
from vigil.store.evidence import EvidenceVault
from vigil.store.evidence.retention_job import RetentionJob
from vigil.triage.job import TriageJob

RETENTION_INTERVAL_SECONDS = 3600.0
REPORTS_INTERVAL_SECONDS = 10.0
INTAKE_EXPIRY_INTERVAL_SECONDS = 60.0
EXCHANGES_INTERVAL_SECONDS = (
    60.0  # how often due exchanges are looked for (each has its own interval)
)
EXCHANGE_FEEDBACK_INTERVAL_SECONDS = 30.0
SCAN_REVIEW_INTERVAL_SECONDS = 60.0  # the ceiling is per hour: a minute's delay is nothing


@dataclass(frozen=True)
class JobServices:
    """What jobs are built from: the same objects the web workers open."""

    settings: Settings
    database: Database
    vault: EvidenceVault | None  # None: no evidence master key configured


def _nothing_to_close() -> None:
    """Most jobs hold nothing beyond the shared database."""


@dataclass(frozen=True)
class Work:
    """A built job: one run, what it holds to close at the end, and when a run's result means
    more is due at once."""

    run_once: Callable[[], object]
    close: Callable[[], None] = _nothing_to_close
    again_at_once: Callable[[object], bool] = never_at_once


def _always(_settings: Settings) -> bool:
    return True


def _clearinghouse(settings: Settings) -> bool:
    return settings.clearinghouse.enabled


@dataclass(frozen=True)
class JobSpec:
    name: str
    summary: str
    interval: Callable[[Settings], float]
    build: Callable[[JobServices], Work]
    exclusive: bool = False  # one process at a time (vigil.store.job_locks)
    needs_vault: bool = False  # runs only with an evidence master key configured
    wanted: Callable[[Settings], bool] = _always  # False: the feature is off, so is the job
    requires: str = ""  # what ``wanted`` asks for, in words for operators


def _webhooks(services: JobServices) -> Work:
    assert services.vault is not None  # needs_vault: signing secrets are sealed under the key
    dispatcher = WebhookDispatcher(
        services.database, services.settings.webhooks, services.vault.master_key
    )
    return Work(dispatcher.run_once, dispatcher.close, dispatcher.full_batch)


def _retention(services: JobServices) -> Work:
    assert services.vault is not None
    return Work(RetentionJob(services.database, services.vault).run_once)


def _reports(services: JobServices) -> Work:
    assert services.vault is not None
    return Work(ReportJob(services.database, services.settings, services.vault).run_once)


def _intake_expiry(services: JobServices) -> Work:
    windows = Windows.configured(services.settings.clearinghouse)
    return Work(IntakeExpiryJob(services.database, windows).run_once)


def _triage(services: JobServices) -> Work:
    job = TriageJob(services.database, services.settings.triage)
    return Work(job.run_once, job.close)


def _exchanges(services: JobServices) -> Work:
    assert services.vault is not None  # needs_vault: credentials are sealed under the key
    database, master_key = services.database, services.vault.master_key
    data_dir = services.settings.data_dir  # the scan jobs' stores, for retro after a fetch
    return Work(lambda: fetch_then_retro(database, master_key, data_dir).reports)


def _exchange_feedback(services: JobServices) -> Work:
    assert services.vault is not None
    database, master_key = services.database, services.vault.master_key
    return Work(lambda: send_due_feedback(database, master_key), again_at_once=full_round)


def _scan_review(services: JobServices) -> Work:
    database, ceiling = services.database, services.settings.scanning.review_ceiling_per_hour
    return Work(lambda: release_matches(database, ceiling))


REGISTRY: tuple[JobSpec, ...] = (
    JobSpec(
        "webhooks",
        "deliver queued webhook notifications",
        lambda settings: settings.webhooks.poll_seconds,
        _webhooks,
        needs_vault=True,
    ),
    JobSpec(
        "retention",
        "purge expired evidence and orphan blobs, auditing each",
        lambda _settings: RETENTION_INTERVAL_SECONDS,
        _retention,
        needs_vault=True,
    ),
    JobSpec(
        "reports",
        "send due reports to their destinations, preserve finished ones",
        lambda _settings: REPORTS_INTERVAL_SECONDS,
        _reports,
        needs_vault=True,
    ),
    JobSpec(
        "intake-expiry",
        "expire unfinished intake reports past their window",
        lambda _settings: INTAKE_EXPIRY_INTERVAL_SECONDS,
        _intake_expiry,
        wanted=_clearinghouse,
        requires="[clearinghouse] enabled",
    ),
    JobSpec(
        "triage",
        "score finished intake reports and route referrals",
        lambda settings: settings.triage.poll_seconds,
        _triage,
        exclusive=True,
        wanted=_clearinghouse,
        requires="[clearinghouse] enabled",
    ),
    JobSpec(
        "exchanges",
        "fetch every hash exchange whose interval has passed into its lists",
        lambda _settings: EXCHANGES_INTERVAL_SECONDS,
        _exchanges,
        needs_vault=True,
    ),
    JobSpec(
        "exchange-feedback",
        "send reviewers' queued verdicts to the exchanges that shared the entries",
        lambda _settings: EXCHANGE_FEEDBACK_INTERVAL_SECONDS,
        _exchange_feedback,
        needs_vault=True,
    ),
    JobSpec(
        "scan-review",
        "release backlog scan matches into review, up to the hourly ceiling",
        lambda _settings: SCAN_REVIEW_INTERVAL_SECONDS,
        _scan_review,
        exclusive=True,  # two releasers would each fill the same hour's room
        wanted=lambda settings: settings.scanning.review_ceiling_per_hour > 0,
        requires="[scanning] review_ceiling_per_hour above 0",
    ),
)
JOB_NAMES = tuple(spec.name for spec in REGISTRY)


class UnknownJob(ValueError):
    """A job name that is not in the registry."""


def chosen(
    names: list[str] | None, registry: tuple[JobSpec, ...] = REGISTRY
) -> tuple[JobSpec, ...]:
    """The registry's jobs named (in the registry's order), or all of them."""
    if not names:
        return registry
    known = {spec.name for spec in registry}
    unknown = sorted(set(names) - known)
    if unknown:
        raise UnknownJob(
            f"no background job named {', '.join(unknown)}; the jobs are: "
            f"{', '.join(spec.name for spec in registry)}"
        )
    return tuple(spec for spec in registry if spec.name in names)
