"""One router per console screen; ``PAGE_ROUTERS`` is what mount_console includes."""

from vigil.web.pages import (
    account,
    admin_keys,
    admin_lists,
    admin_reporting,
    admin_users,
    agency,
    audit_log,
    cases,
    exchanges,
    home,
    intake,
    legal,
    queue,
    reports,
    requests,
    review_media,
    routing,
    scan_jobs,
    sign_in,
    stats,
    suspects,
    triage,
)

PAGE_ROUTERS = [
    sign_in.router,
    home.router,
    account.router,
    queue.router,
    cases.router,
    review_media.router,
    requests.router,
    reports.router,
    legal.router,
    intake.router,
    triage.router,
    routing.router,
    agency.router,
    stats.router,
]
PAGE_ROUTERS.append(suspects.router)  # the flood guard's suspect entries
PAGE_ROUTERS.append(exchanges.router)  # the administrator's exchanges (issue 16)
PAGE_ROUTERS.append(scan_jobs.router)  # the administrator's backlog scan jobs (issue 17)
PAGE_ROUTERS.append(admin_users.router)  # people's accounts (issue 18)
PAGE_ROUTERS.append(admin_keys.router)  # API keys (issue 18)
PAGE_ROUTERS.append(audit_log.router)  # the audit log for auditors (issue 18)
PAGE_ROUTERS.append(admin_lists.router)  # hash lists and their entries (issue 18)
PAGE_ROUTERS.append(admin_reporting.router)  # reporting settings, read-only (issue 18)
