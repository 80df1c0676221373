"""Asking for media access for an administrator: the grant, waiting for a second
administrator (vigil.store.accounts.grants decides it). Imports only models, so users and
API keys can open a grant without importing what decides it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import AccessGrant, ApiKey, GrantKind, Role, User

GRANT_SUBJECT = "access_grant"


def open_role_grant(
    session: Session, user: User, roles: Iterable[Role], *, requested_by: str
) -> AccessGrant:
    grant = AccessGrant(
        kind=GrantKind.ROLES,
        user_id=user.id,
        roles=sorted(Role(role).value for role in roles),
        previous_roles=sorted(role.value for role in user.role_set),
        requested_by=requested_by,
    )
    return _opened(session, grant)


def open_key_grant(session: Session, key: ApiKey, *, requested_by: str) -> AccessGrant:
    return _opened(
        session, AccessGrant(kind=GrantKind.API_KEY, api_key_id=key.id, requested_by=requested_by)
    )


def grant_summary(grant: AccessGrant) -> dict[str, Any]:
    """What the grant is about, for answers, listings and the audit log (never a secret)."""
    return {
        "id": grant.id,
        "kind": grant.kind.value,
        "state": grant.state.value,
        "username": grant.user.username if grant.user else None,
        "roles": grant.roles,
        "previous_roles": grant.previous_roles,
        "api_key": grant.api_key.prefix if grant.api_key else None,
        "scopes": list(grant.api_key.scopes) if grant.api_key else None,
        "requested_by": grant.requested_by,
        "requested_at": grant.requested_at.isoformat(),
        "decided_by": grant.decided_by,
        "decided_at": grant.decided_at.isoformat() if grant.decided_at else None,
    }


def audit_grant(session: Session, grant: AccessGrant, event: str, actor: str) -> None:
    AuditLog(session).append(
        AuditAction.ACCESS_GRANT,
        actor=actor,
        subject_type=GRANT_SUBJECT,
        subject_id=str(grant.id),
        details={**grant_summary(grant), "event": event},
    )


def _opened(session: Session, grant: AccessGrant) -> AccessGrant:
    session.add(grant)
    session.flush()
    session.refresh(grant)  # loads user / api_key for the summary
    audit_grant(session, grant, "requested", grant.requested_by)
    return grant
