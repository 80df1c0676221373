"""The console's main navigation, written once: each screen's link, its label and who sees it.
``_nav.html`` renders it in a loop and marks the current screen (aria-current="page")."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.store.accounts import Principal
from vigil.store.accounts.permissions import Permission


@dataclass(frozen=True, slots=True)
class NavLink:
    href: str
    label: str
    permission: Permission | None = None  # None: no permission needed
    people_only: bool = False  # not for API keys (they have no start page)
    clearinghouse_only: bool = False  # shown when the installation is a clearinghouse


LINKS = (
    NavLink("/home", "Start", people_only=True),
    NavLink("/review", "Queue", Permission.DECIDE),
    NavLink("/review/requests", "Entries to disable", Permission.DECIDE),
    NavLink("/clearinghouse", "Clearinghouse", Permission.DECIDE, clearinghouse_only=True),
    NavLink("/clearinghouse/triage", "Triage", Permission.TRIAGE, clearinghouse_only=True),
    NavLink("/clearinghouse/routing", "Routing queue", Permission.TRIAGE, clearinghouse_only=True),
    NavLink("/agency", "Agency queue", Permission.AGENCY_WORK),
    NavLink("/stats", "Statistics", Permission.STATS_READ),
    NavLink("/reports", "Reports", Permission.REPORTS_SUBMIT),
    NavLink("/legal", "Law enforcement", Permission.EVIDENCE_HOLD),
    NavLink("/review/exposure", "Exposure", Permission.USERS_MANAGE),
    NavLink("/admin/users", "Users", Permission.USERS_MANAGE),
    NavLink("/admin/keys", "API keys", Permission.KEYS_MANAGE),
    NavLink("/audit", "Audit log", Permission.AUDIT_READ),
    NavLink("/admin/lists", "Hash lists", Permission.LISTS_READ),
    NavLink("/admin/reporting", "Reporting settings", Permission.USERS_MANAGE),
    NavLink("/admin/exchanges", "Exchanges", Permission.USERS_MANAGE),
    NavLink("/admin/scan-jobs", "Scan jobs", Permission.USERS_MANAGE),
    NavLink("/lists/suspects", "Suspect entries", Permission.LISTS_READ),
)


@dataclass(frozen=True, slots=True)
class ShownLink:
    href: str
    label: str
    current: bool


def main_nav(principal: Principal | None, path: str, *, clearinghouse: bool) -> list[ShownLink]:
    """The links ``principal`` may follow, the current screen's marked: the longest link the
    address is or lies under, so a case (/review/cases/…) marks the queue."""
    shown = [link for link in LINKS if _sees(principal, link, clearinghouse=clearinghouse)]
    under = [link.href for link in shown if path == link.href or path.startswith(link.href + "/")]
    here = max(under, key=len, default=None)
    return [ShownLink(link.href, link.label, link.href == here) for link in shown]


def _sees(principal: Principal | None, link: NavLink, *, clearinghouse: bool) -> bool:
    if principal is None or (link.clearinghouse_only and not clearinghouse):
        return False
    if link.people_only and principal.kind != "user":
        return False
    return link.permission is None or principal.can(link.permission)
