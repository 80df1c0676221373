"""Prometheus ``/metrics`` for operators: queue depths and totals counted in the database at
scrape time (so any uvicorn worker gives the same answer), plus the process's own metrics.
Counts only: no identifier, name or content.

Access is decided here, not by the Authentication middleware (which exempts this one path):
with ``[metrics] token`` set, ``Authorization: Bearer <token>`` from any address; without it,
loopback clients only. ``[metrics] enabled = false`` answers 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy.exc import SQLAlchemyError

from vigil.http.errors import ApiError
from vigil.http.state import service_state
from vigil.stats.operations import OperationalCounts, operational_counts
from vigil.store.database import Database
from vigil.store.errors import StoreError

log = logging.getLogger(__name__)
router = APIRouter(tags=["metrics"])
METRICS_PATH = "/metrics"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="vigil-metrics"'}
MAX_TOKEN_CHARS = 512


@router.get(METRICS_PATH, include_in_schema=False)
def metrics(request: Request) -> Response:
    _allow(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(service_state(request).database))
    ProcessCollector(registry=registry)
    return Response(
        generate_latest(registry),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def _allow(request: Request) -> None:
    settings = service_state(request).settings.metrics
    if not settings.enabled:
        raise ApiError(404, "not found")
    if settings.token is not None:
        if not _bearer_matches(
            request.headers.get("authorization", ""), settings.token.get_secret_value()
        ):
            raise ApiError(401, "missing or wrong metrics token", headers=_CHALLENGE)
        return
    if not is_loopback(request.client.host if request.client else None):
        raise ApiError(404, "not found")  # as if absent: no hint that it exists


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.strip().partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given or len(given) > MAX_TOKEN_CHARS:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback; anything else (or no address) is not."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class DatabaseCollector(Collector):
    """Counts from the database at each scrape; a failing database is reported as a gauge
    (vigil_database_up 0) rather than a failed scrape."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        try:
            with self.database.transaction() as session:
                counts = operational_counts(session)
        except (SQLAlchemyError, StoreError) as exc:
            log.warning("metrics: cannot read the database: %s", type(exc).__name__)
            yield _gauge("vigil_database_up", "Whether the database answered this scrape.", 0)
            return
        yield _gauge("vigil_database_up", "Whether the database answered this scrape.", 1)
        yield from families(counts)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _labelled(
    name: str, documentation: str, label: str, values: dict[str, int] | dict[int, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([str(key)], value)
    return family


def families(counts: OperationalCounts) -> Iterator[Metric]:
    yield _labelled(
        "vigil_intake_reports",
        "Clearinghouse intake reports by state.",
        "state",
        counts.intake_reports,
    )
    yield _labelled(
        "vigil_intake_files", "Received files by verdict.", "verdict", counts.intake_files
    )
    yield CounterMetricFamily(
        "vigil_intake_finished_reports",
        "Reports ever finished by reporting companies (rate() of it is the intake rate).",
        value=counts.finished_reports_total,
    )
    yield _gauge(
        "vigil_triage_untriaged_reports",
        "Finished reports without a priority yet.",
        counts.untriaged,
    )
    yield _gauge(
        "vigil_triage_stale_reports",
        "Triaged reports waiting to be re-scored.",
        counts.stale_triage,
    )
    yield _labelled(
        "vigil_triage_queue_reports",
        "Open triaged reports (not settled) by effective priority.",
        "priority",
        counts.triage_queue,
    )
    yield _gauge(
        "vigil_routing_queue_reports",
        "Reports waiting for a person to route them (unrouted referrals).",
        counts.routing_queue,
    )
    yield _labelled("vigil_referrals", "Referrals by state.", "state", counts.referrals)
    yield _gauge(
        "vigil_info_requests_open",
        "Agencies' information requests still open.",
        counts.info_requests_open,
    )
    yield _gauge(
        "vigil_info_requests_overdue",
        "Open information requests past their due date.",
        counts.info_requests_overdue,
    )
    yield _labelled(
        "vigil_webhook_deliveries",
        "Webhook deliveries by status.",
        "status",
        counts.webhook_deliveries,
    )
    yield _gauge(
        "vigil_webhook_deliveries_pending",
        "Webhook deliveries waiting to be sent.",
        counts.webhook_deliveries["pending"],
    )
    yield _labelled(
        "vigil_outgoing_reports",
        "Reports to destinations by state (failed: a person must look).",
        "state",
        counts.outgoing_reports,
    )
    yield _gauge(
        "vigil_report_send_queue",
        "Outgoing reports the sender still has to act on.",
        counts.report_send_queue,
    )
