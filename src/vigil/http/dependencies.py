"""What a route needs, said in its signature: the caller it takes as an ``Annotated`` type,
written once here for the API and the console (``principal: Deciding`` instead of a
``Depends(require(Permission.DECIDE))`` copied into every module that decides).

Each type is a ``Principal`` that FastAPI resolves through vigil.http.auth: ``require``
answers 401 to no caller and 403 to a caller without the permission, before the route runs.
For a route that needs the permission but not the caller, ``needs(Permission.X)`` goes in
its ``dependencies=[...]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from vigil.http.auth import current_principal, require, signed_in_user
from vigil.store.accounts import Permission, Principal

AnyCaller = Annotated[Principal, Depends(current_principal)]  # anyone, or the anonymous principal
Person = Annotated[Principal, Depends(signed_in_user)]  # a person, even with a password to change

AgencyWorking = Annotated[Principal, Depends(require(Permission.AGENCY_WORK))]
AuditReading = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
Deciding = Annotated[Principal, Depends(require(Permission.DECIDE))]
EvidenceHolding = Annotated[Principal, Depends(require(Permission.EVIDENCE_HOLD))]
Flagging = Annotated[Principal, Depends(require(Permission.FLAG))]
KeysManaging = Annotated[Principal, Depends(require(Permission.KEYS_MANAGE))]
ListsManaging = Annotated[Principal, Depends(require(Permission.LISTS_MANAGE))]
ListsReading = Annotated[Principal, Depends(require(Permission.LISTS_READ))]
MediaViewing = Annotated[Principal, Depends(require(Permission.MEDIA_VIEW))]
RecordsReading = Annotated[Principal, Depends(require(Permission.RECORDS_READ))]
ReportsSubmitting = Annotated[Principal, Depends(require(Permission.REPORTS_SUBMIT))]
Screening = Annotated[Principal, Depends(require(Permission.SCREEN))]
StatsReading = Annotated[Principal, Depends(require(Permission.STATS_READ))]
Triaging = Annotated[Principal, Depends(require(Permission.TRIAGE))]
UsersManaging = Annotated[Principal, Depends(require(Permission.USERS_MANAGE))]
WebhooksManaging = Annotated[Principal, Depends(require(Permission.WEBHOOKS_MANAGE))]


def needs(permission: Permission | None) -> Any:
    """A route-level dependency on ``permission`` (None: any authenticated caller), for a
    route that does not use the caller itself."""
    return Depends(require(permission))
