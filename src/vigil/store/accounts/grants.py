"""Deciding media access for administrators: separation of duties (issue 14).

Administrators manage accounts and keys and never see content (docs/accounts.md). So what
would let an administrator reach media - an API key with media:view, or roles that would give
an administrator (or the person making the change) media access - is only a request
(vigil.store.accounts.grant_requests) until a second administrator approves it here. The
approver may not be whoever asked, whoever would receive it, nor an account the asker created
or made an administrator. Any administrator may refuse (the asker thereby withdraws).
Every step is audited (``access_grant``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import GrantClosed, SecondApproverRequired, UnknownAccount
from vigil.store.accounts.grant_requests import audit_grant
from vigil.store.accounts.users import apply_roles
from vigil.store.models.accounts import (
    AccessGrant,
    ApiKey,
    GrantKind,
    GrantState,
    Role,
    User,
)
from vigil.store.models.base import utcnow

MAX_LISTED = 500


def list_grants(session: Session) -> list[AccessGrant]:
    """Pending grants first, then the latest decisions."""
    pending_first = case((AccessGrant.state == GrantState.PENDING, 0), else_=1)
    return list(
        session.scalars(
            select(AccessGrant).order_by(pending_first, AccessGrant.id.desc()).limit(MAX_LISTED)
        )
    )


def pending_roles(session: Session, user: User) -> list[str] | None:
    """The roles requested for the user and waiting for approval, if any."""
    grant = session.scalars(
        select(AccessGrant)
        .where(AccessGrant.user_id == user.id, AccessGrant.state == GrantState.PENDING)
        .order_by(AccessGrant.id.desc())
        .limit(1)
    ).one_or_none()
    return grant.roles if grant is not None else None


def grant_for_key(session: Session, key: ApiKey) -> AccessGrant | None:
    return session.scalars(
        select(AccessGrant)
        .where(AccessGrant.api_key_id == key.id)
        .order_by(AccessGrant.id.desc())
        .limit(1)
    ).one_or_none()


def approve_grant(
    session: Session,
    grant_id: int,
    *,
    actor: str,
    approver: User | None = None,
    now: datetime | None = None,
) -> AccessGrant:
    """Put the grant in force. ``approver`` is the approving person's account (None on the
    server's command line, where ``actor`` is the login name). Raises UnknownAccount,
    GrantClosed, SecondApproverRequired."""
    grant = _pending(session, grant_id)
    _check_second_person(grant, actor, approver)
    if grant.kind is GrantKind.ROLES:
        user = grant.user
        assert user is not None  # the row is deleted with its user
        if sorted(role.value for role in user.role_set) != grant.previous_roles:
            raise GrantClosed(
                f"{user.username}'s roles changed since grant {grant.id} was "
                "asked for: refuse it and ask again"
            )
        apply_roles(session, user, [Role(role) for role in grant.roles or []], actor=actor)
    else:
        key = grant.api_key
        assert key is not None
        if key.revoked_at is not None:
            raise GrantClosed(f"API key {key.prefix} was revoked")
        key.awaiting_approval = False
    return _decide(session, grant, GrantState.APPROVED, actor, now)


def refuse_grant(
    session: Session, grant_id: int, *, actor: str, now: datetime | None = None
) -> AccessGrant:
    """Close the grant unapplied; a key awaiting approval is revoked."""
    grant = _pending(session, grant_id)
    if (
        grant.kind is GrantKind.API_KEY
        and grant.api_key is not None
        and grant.api_key.revoked_at is None
    ):
        grant.api_key.revoked_at, grant.api_key.revoked_by = now or utcnow(), actor
    return _decide(session, grant, GrantState.REFUSED, actor, now)


def _pending(session: Session, grant_id: int) -> AccessGrant:
    grant = session.get(AccessGrant, grant_id) if 0 < grant_id < 2**31 else None
    if grant is None:
        raise UnknownAccount(f"no access grant {grant_id}")
    if grant.state is not GrantState.PENDING:
        raise GrantClosed(f"grant {grant.id} was {grant.state.value} already")
    return grant


def _check_second_person(grant: AccessGrant, actor: str, approver: User | None) -> None:
    if actor == grant.requested_by:
        raise SecondApproverRequired("another administrator must approve what you asked for")
    if approver is None:
        return
    if grant.user_id == approver.id:
        raise SecondApproverRequired("nobody approves media access for themselves")
    made_admin_by = {
        grant_row.granted_by for grant_row in approver.roles if grant_row.role == Role.ADMIN
    }
    if grant.requested_by == approver.created_by or grant.requested_by in made_admin_by:
        raise SecondApproverRequired(
            f"{approver.username} was created or made an administrator by "
            f"{grant.requested_by}, who asked for this: another administrator must approve"
        )


def _decide(
    session: Session, grant: AccessGrant, state: GrantState, actor: str, now: datetime | None
) -> AccessGrant:
    grant.state, grant.decided_by, grant.decided_at = state, actor, now or utcnow()
    session.flush()
    audit_grant(session, grant, state.value, actor)
    return grant
