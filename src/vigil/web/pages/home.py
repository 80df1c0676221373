"""Where a person starts: ``/`` sends them to their role's first screen, ``/home`` lists what
their roles let them do, in the console and (for what has no screen yet) through the API or
on the server's command line."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.http.dependencies import AnyCaller
from vigil.http.state import service_state
from vigil.store.accounts import Permission, Principal
from vigil.store.audit import AuditLog
from vigil.web.navigation import go_to
from vigil.web.pages.audit_log import shown
from vigil.web.refusals import PASSWORD_PAGE
from vigil.web.templating import templates

router = APIRouter(include_in_schema=False)
START_PAGE = "/home"
RECENT_AUDIT = 10
LANDING = (  # the first screen of the people whose work is a queue; everyone else: START_PAGE
    (Permission.DECIDE, "/review"),
    (Permission.AGENCY_WORK, "/agency"),
    (Permission.REPORTS_SUBMIT, "/reports"),
)


@dataclass(frozen=True)
class Task:
    needs: Permission
    title: str
    where: str  # a console path, "GET /v1/..." for the API, or a command
    about: str
    clearinghouse: bool = False  # exists only where the clearinghouse is enabled


SCREENS = (
    Task(
        Permission.DECIDE,
        "Review queue",
        "/review",
        "Cases waiting for a decision, most urgent first: confirm, dismiss or escalate.",
    ),
    Task(
        Permission.DECIDE,
        "Entries to disable",
        "/review/requests",
        "Agree or disagree with another reviewer's request to disable a list entry.",
    ),
    Task(
        Permission.DECIDE,
        "Clearinghouse intake",
        "/clearinghouse",
        "Reports received from companies and their files.",
        clearinghouse=True,
    ),
    Task(
        Permission.TRIAGE,
        "Triage",
        "/clearinghouse/triage",
        "Priorities and assignment of received reports.",
        clearinghouse=True,
    ),
    Task(
        Permission.TRIAGE,
        "Routing queue",
        "/clearinghouse/routing",
        "Reports waiting to be routed to an agency.",
        clearinghouse=True,
    ),
    Task(
        Permission.AGENCY_WORK,
        "Agency queue",
        "/agency",
        "Reports routed to your agency: accept, decline, ask for information, record outcomes.",
    ),
    Task(
        Permission.REPORTS_SUBMIT,
        "Reports",
        "/reports",
        "Reports to the clearinghouse: drafts to check and submit, and their status.",
    ),
    Task(
        Permission.EVIDENCE_HOLD,
        "Law-enforcement requests",
        "/legal",
        "Preservation holds and records lookups for legal requests.",
    ),
    Task(
        Permission.STATS_READ,
        "Statistics",
        "/stats",
        "The year's figures, charts and the annual report.",
    ),
    Task(
        Permission.LISTS_READ,
        "Suspect entries",
        "/lists/suspects",
        "List entries the flood guard flagged after a surge of matches, waiting for a "
        "list curator to confirm or quarantine them.",
    ),
    Task(
        Permission.USERS_MANAGE,
        "Reviewer exposure",
        "/review/exposure",
        "How much material each reviewer has seen, against the limits (no content).",
    ),
    Task(
        Permission.USERS_MANAGE,
        "Users",
        "/admin/users",
        "Create people with roles, change roles, disable and enable accounts, reset a "
        "password (also GET/POST /v1/admin/users; on the server: vigil admin create-user).",
    ),
    Task(
        Permission.KEYS_MANAGE,
        "API keys",
        "/admin/keys",
        "Keys for the services that upload and flag content: create, see when each was "
        "last used, revoke.",
    ),
    Task(
        Permission.AUDIT_READ,
        "Audit log",
        "/audit",
        "Every sign-in, decision and change, filtered by who, what, subject and dates; "
        "GET /v1/audit/verify checks its hash chain.",
    ),
    Task(
        Permission.LISTS_READ,
        "Hash lists",
        "/admin/lists",
        "The lists, how many entries each holds, and their entries; list curators disable "
        "and enable entries there (also GET /v1/lists).",
    ),
    Task(
        Permission.USERS_MANAGE,
        "Reporting settings",
        "/admin/reporting",
        "Who files reports and where they go (test or production), read from the configuration.",
    ),
)
API = (  # no screen yet: the API (documented at /docs) or the server's command line
    Task(
        Permission.WEBHOOKS_MANAGE,
        "Webhooks",
        "GET/POST /v1/webhooks",
        "Where match results are delivered, and the deliveries.",
    ),
    Task(
        Permission.LISTS_MANAGE,
        "Managing lists",
        "vigil lists",
        "On the server: vigil lists create, import, disable, enable, set and export.",
    ),
    Task(
        Permission.RECORDS_READ,
        "Screening records",
        "GET /v1/records",
        "What was screened, with which verdict.",
    ),
)


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, principal: AnyCaller) -> Response:
    return go_to(request, first_screen(principal))


def first_screen(principal: Principal) -> str:
    if principal.must_change_password:
        return PASSWORD_PAGE
    return next((path for need, path in LANDING if principal.can(need)), START_PAGE)


@router.get(START_PAGE, response_class=HTMLResponse)
def start_page(request: Request, principal: AnyCaller) -> Response:
    if principal.must_change_password:
        return go_to(request, PASSWORD_PAGE)
    clearinghouse = service_state(request).settings.clearinghouse.enabled
    screens = [
        task
        for task in SCREENS
        if principal.can(task.needs) and (clearinghouse or not task.clearinghouse)
    ]
    api = [task for task in API if principal.can(task.needs)]
    docs = service_state(request).settings.api.docs
    return templates.TemplateResponse(
        request,
        "home.html",
        {
            "principal": principal,
            "screens": screens,
            "api": api,
            "docs": docs,
            "recent": _recent_audit(request, principal),
        },
    )


def _recent_audit(request: Request, principal: Principal) -> list[dict[str, str | int]]:
    """The newest audit records, for whoever may read the log (an auditor's first view)."""
    if not principal.can(Permission.AUDIT_READ):
        return []
    with service_state(request).database.transaction() as session:
        return [shown(record) for record in AuditLog(session).recent(RECENT_AUDIT)]
