"""Health checks: the only routes without authentication, so they reveal nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from vigil.api.errors import ApiError
from vigil.api.state import service_state

router = APIRouter(tags=["health"])


@router.get("/health")
def liveness() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/health/ready")
def readiness(request: Request) -> dict[str, str]:
    """The process can serve: its database answers."""
    try:
        with service_state(request).database.transaction() as session:
            session.execute(text("SELECT 1"))
    except Exception:
        raise ApiError(503, "not ready", code="unavailable") from None
    return {"status": "ready"}
