"""Runs the registry's jobs in daemon threads of this process (a service worker, or ``vigil
worker``) and stops them together.

Each job runs in its own thread on its own interval: a slow retention run never delays
webhooks. A job declared exclusive runs only when it holds its lock (vigil.store.job_locks);
a run that does not get it is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from vigil.core.periodic import repeat_until_stopped, start_daemon
from vigil.jobs.registry import REGISTRY, JobServices, JobSpec, Work
from vigil.store.database import Database
from vigil.store.job_locks import held_alone

log = logging.getLogger(__name__)

THREAD_PREFIX = "vigil-"
STOP_SECONDS = 10.0  # a run under way is waited for this long, then left to its daemon thread


class JobUnavailable(Exception):
    """A job asked for by name cannot run with these settings; the message says why."""


def thread_name(spec: JobSpec) -> str:
    return f"{THREAD_PREFIX}{spec.name}"


def why_not(spec: JobSpec, services: JobServices) -> str | None:
    """Why ``spec`` cannot run here, or None when it can."""
    if not spec.wanted(services.settings):
        return f"it runs only with {spec.requires}"
    if spec.needs_vault and services.vault is None:
        return (
            "it needs the evidence master key, which is not configured (`vigil evidence new-key`)"
        )
    return None


@dataclass
class BackgroundJobs:
    """The jobs running in this process."""

    _running: list[tuple[threading.Thread, threading.Event]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def start(
        self, services: JobServices, specs: tuple[JobSpec, ...] = REGISTRY, *, strict: bool = False
    ) -> None:
        """Start every job of ``specs`` that can run here. The others are logged and left
        out, or with ``strict`` (jobs the operator named) refused with JobUnavailable."""
        runnable = [spec for spec in specs if _can_run(spec, services, strict=strict)]
        built = _build_all(runnable, services)  # all built before any starts: none leaks
        for spec, work in built:
            run_forever = _loop(spec, work, services.database, spec.interval(services.settings))
            self._running.append(start_daemon(run_forever, thread_name(spec)))
            self.names.append(spec.name)
        if built:
            log.info("background jobs running: %s", ", ".join(self.names))

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        for _thread, stop in self._running:
            stop.set()
        for thread, _stop in self._running:
            thread.join(timeout=timeout)
            if thread.is_alive():
                log.warning(
                    "background job thread %s still running after %g s; left to "
                    "finish as the process exits",
                    thread.name,
                    timeout,
                )
        self._running.clear()
        self.names.clear()


def _can_run(spec: JobSpec, services: JobServices, *, strict: bool) -> bool:
    reason = why_not(spec, services)
    if reason is None:
        return True
    if strict:
        raise JobUnavailable(f"background job {spec.name} cannot run: {reason}")
    if spec.needs_vault and spec.wanted(services.settings):
        log.warning("background job %s does NOT run: %s", spec.name, reason)
    else:  # a feature switched off: its job is not expected
        log.info("background job %s not started: %s", spec.name, reason)
    return False


def _build_all(specs: list[JobSpec], services: JobServices) -> list[tuple[JobSpec, Work]]:
    built: list[tuple[JobSpec, Work]] = []
    try:
        for spec in specs:
            built.append((spec, spec.build(services)))
    except BaseException:
        for _spec, work in built:
            work.close()
        raise
    return built


def _loop(
    spec: JobSpec, work: Work, database: Database, interval: float
) -> Callable[[threading.Event], None]:
    step = _alone(spec.name, work.run_once, database) if spec.exclusive else work.run_once

    def run_forever(stop: threading.Event) -> None:
        try:
            repeat_until_stopped(
                step,
                stop,
                interval,
                what=f"background job {spec.name}",
                log=log,
                again_at_once=work.again_at_once,
            )
        finally:
            work.close()

    return run_forever


def _alone(name: str, run_once: Callable[[], object], database: Database) -> Callable[[], object]:
    def step() -> object:
        with held_alone(database, name) as held:
            return run_once() if held else None  # another process is doing this run

    return step
