"""Background: every finished report is scored within a second of /finish, re-scored when a
new fact marks it stale, and routed to an agency (or the routing queue) once it is a referral.

Declared exclusive in vigil.jobs.registry: one process at a time does a round (its lock is
vigil.store.job_locks), so two never score or route the same report. The first round applies
the configured weights (audited when new).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from vigil.core.settings import TriageSettings
from vigil.store.database import Database
from vigil.triage.geolocation import GeolocationError, Geolocator
from vigil.triage.routing import route_pending
from vigil.triage.service import apply_weights, score_pending
from vigil.triage.weights import Weights, WeightsRefused, load_weights

log = logging.getLogger(__name__)
ACTOR = "triage-job"


@dataclass(frozen=True, slots=True)
class Round:
    scored: int
    routed: int


class TriageJob:
    def __init__(self, database: Database, settings: TriageSettings) -> None:
        self.database, self.settings = database, settings
        self.weights: Weights = load_weights(settings.weights_file)
        self.geolocator = _open_geolocator(settings)
        self._weights_applied = False

    def run_once(self) -> Round:
        with self.database.transaction(write=True) as session:
            if not self._weights_applied:
                self._apply_weights(session)
            scored = score_pending(session, self.weights)
            routed = route_pending(session, self.geolocator)
        return Round(len(scored), len(routed))

    def _apply_weights(self, session: Session) -> None:
        """A changed file under an old version is refused once, loudly; scoring goes on with
        the file as loaded, since stopping would leave every new report unscored."""
        self._weights_applied = True
        try:
            with session.begin_nested():
                apply_weights(session, self.weights, ACTOR)
        except WeightsRefused as exc:
            log.error("triage weights not applied: %s", exc)

    def close(self) -> None:
        if self.geolocator is not None:
            self.geolocator.close()


def _open_geolocator(settings: TriageSettings) -> Geolocator | None:
    """The operator's database, or None (reports then wait in the routing queue) with the
    reason logged: a bad file must not stop scoring."""
    if settings.geoip_database is None:
        return None
    try:
        return Geolocator.open(settings.geoip_database)
    except GeolocationError as exc:
        log.error("geolocation disabled: %s", exc)
        return None
