"""One router per resource; ``ROUTERS`` is what the application mounts."""

from vigil.api.routes import (
    admin,
    agency,
    audit,
    docs,
    exchanges,
    flags,
    health,
    lists,
    metrics,
    records,
    scan_jobs,
    screening,
    sessions,
    webhooks,
)

ROUTERS = [
    health.router,
    docs.router,
    screening.router,
    flags.router,
    records.router,
    sessions.router,
    admin.router,
    exchanges.router,
    scan_jobs.router,
    webhooks.router,
    audit.router,
    lists.router,
    agency.router,
    metrics.router,
]
