"""The reporting settings a platform's administrator needs to check before anyone files: where
reports go (each destination, test or production, and whether its credentials are set), and
who files them. Read-only: they live in the configuration file and the environment, and
change when the service restarts. No secret is shown, only whether one is set."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.core.errors import ConfigurationError
from vigil.core.settings import DestinationConfig
from vigil.http.dependencies import UsersManaging
from vigil.http.state import service_state
from vigil.reporting.cybertipline import ReportRefused
from vigil.reporting.cybertipline.client import cybertipline_base_url
from vigil.reporting.filing import destinations, reporter_details
from vigil.web.templating import templates

router = APIRouter(prefix="/admin/reporting", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def reporting_page(request: Request, principal: UsersManaging) -> Response:
    settings = service_state(request).settings
    try:
        reporter_details(settings)
        reporter_problem = ""
    except ReportRefused as exc:  # the same check filing makes: a report would be refused
        reporter_problem = str(exc)
    return templates.TemplateResponse(
        request,
        "admin_reporting.html",
        {
            "principal": principal,
            "reporting": settings.reporting,
            "configured": bool(settings.reporting.destinations),
            "destinations": [_shown(item) for item in destinations(settings)],
            "reporter_problem": reporter_problem,
        },
    )


def _shown(destination: DestinationConfig) -> dict[str, str]:
    """What may be shown of a destination: never its password or user name."""
    where, problem = "", ""
    if destination.kind == "cybertipline":
        try:
            where = cybertipline_base_url(destination)
        except ConfigurationError as exc:  # what sending would refuse with
            problem = str(exc)
    else:
        where = str(destination.directory or "")
    credentials = destination.username is not None and destination.password is not None
    return {
        "name": destination.name,
        "kind": destination.kind,
        "environment": destination.environment if destination.kind == "cybertipline" else "",
        "where": where,
        "problem": problem,
        "credentials": (
            ("set" if credentials else "missing") if destination.kind == "cybertipline" else ""
        ),
    }
