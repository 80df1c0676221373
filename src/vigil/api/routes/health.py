"""Health checks: the only routes without authentication, so they reveal nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request

from vigil.api.answers.health import Liveness, Readiness
from vigil.clearinghouse.readiness import intake_not_ready
from vigil.http.errors import ApiError
from vigil.http.state import service_state

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Liveness)
def liveness() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/health/ready", response_model=Readiness)
def readiness(request: Request) -> dict[str, str]:
    """The process can serve: its database answers and, on a clearinghouse, the intake has
    its schema and rules. A 503 names what is missing in a few words (details: the log)."""
    state = service_state(request)
    missing = [] if _database_answers(request) else ["database"]
    if state.settings.clearinghouse.enabled:
        missing += [f"clearinghouse intake: {part}" for part in intake_not_ready()]
    if missing:
        raise ApiError(
            503,
            "not ready: " + "; ".join(missing),
            code="unavailable",
            details={"not_ready": missing},
        )
    return {"status": "ready"}


def _database_answers(request: Request) -> bool:
    try:
        service_state(request).database.ping()
    except Exception:
        return False
    return True
