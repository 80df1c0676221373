"""The loop of a background job (declared in vigil.jobs.registry): it survives a failed run,
and goes again at once when the job says more is due; and the daemon thread it runs in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vigil.core.errors import StoreError


def safe_description(exc: Exception) -> str:
    """Store errors are written for operators; others (driver errors) may quote SQL
    parameters, so only their type is logged."""
    return str(exc) if isinstance(exc, StoreError) else exc.__class__.__name__


def never_at_once(_result: object) -> bool:
    """The usual pace: wait the interval after every run."""
    return False


def repeat_until_stopped(
    step: Callable[[], object],
    stop: threading.Event,
    interval: float,
    *,
    what: str,
    log: logging.Logger,
    again_at_once: Callable[[object], bool] = never_at_once,
) -> None:
    """Run ``step`` now and then every ``interval`` seconds until ``stop`` is set; a failed
    run is logged and retried at the next interval, never fatal. When ``again_at_once`` says
    so of a run's result (a full batch: more may be due), the next run starts without waiting.
    """
    while not stop.is_set():
        try:
            busy = again_at_once(step())
        except Exception as exc:
            log.error("%s failed (%s); next attempt in %g s", what, safe_description(exc), interval)
            busy = False
        if not busy and stop.wait(interval):
            return


def start_daemon(
    run_forever: Callable[[threading.Event], None], name: str
) -> tuple[threading.Thread, threading.Event]:
    """A daemon thread running ``run_forever(stop)``; set the event (and join) to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread, stop
