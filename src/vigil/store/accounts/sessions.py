"""Browser sign-in sessions: an opaque cookie token plus a CSRF token, both stored as SHA-256.

Both tokens are 256-bit random values, so a fast digest is enough (nothing to brute-force)
and a database leak still yields no usable cookie. A session ends at an absolute limit
(``expires_at``) or after ``idle_minutes`` without a request, whichever comes first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import InvalidCredentials
from vigil.store.accounts.permissions import permissions_for_roles
from vigil.store.accounts.principal import Principal
from vigil.store.affected_rows import affected_rows
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import User, UserSession
from vigil.store.models.base import utcnow

MAX_TOKEN_LENGTH = 128  # token_urlsafe(32) is 43 characters; anything longer is not ours
# last_seen_at is rewritten at most this often: a write per request would serialise readers
# on SQLite and bloat PostgreSQL for a precision nobody needs.
TOUCH_INTERVAL = timedelta(minutes=1)
_MAX_USER_AGENT = 300


def start_session(
    session: Session,
    user: User,
    *,
    now: datetime | None = None,
    hours: int = 12,
    user_agent: str | None = None,
) -> tuple[UserSession, str, str]:
    """A new session for a user who has just signed in: (row, session token, CSRF token).
    The tokens exist only in the return value; hand them to the browser and forget them."""
    now = now or utcnow()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=token_digest(token),
        csrf_hash=token_digest(csrf),
        user=user,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=hours),
        # authenticate only succeeds past the second factor when the user has one.
        second_factor_passed=user.totp_enabled,
        user_agent=user_agent[:_MAX_USER_AGENT] if isinstance(user_agent, str) else None,
    )
    session.add(row)
    session.flush()
    return row, token, csrf


def resolve_session(
    session: Session,
    token: str,
    *,
    now: datetime | None = None,
    idle_minutes: int = 30,
) -> UserSession:
    """The live session the cookie token names; InvalidCredentials otherwise."""
    now = now or utcnow()
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise InvalidCredentials()
    row = session.scalars(
        select(UserSession).where(UserSession.token_hash == token_digest(token))
    ).one_or_none()
    if row is None or not _is_live(row, now, timedelta(minutes=idle_minutes)):
        raise InvalidCredentials()
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        session.flush()
    return row


def check_csrf(user_session: UserSession, csrf_token: str | None) -> bool:
    """True when the request's CSRF token is the session's (compared in constant time)."""
    if not isinstance(csrf_token, str) or not 0 < len(csrf_token) <= MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(token_digest(csrf_token), user_session.csrf_hash)


def end_session(
    session: Session, user_session: UserSession, *, now: datetime | None = None
) -> None:
    """Sign out: revoke the session and record it."""
    now = now or utcnow()
    if user_session.revoked_at is None:
        user_session.revoked_at = now
    session.flush()
    user = user_session.user
    AuditLog(session).append(
        AuditAction.SIGN_OUT,
        actor=f"user:{user.username}",
        subject_type="user",
        subject_id=str(user.id),
        details={"username": user.username, "session": user_session.id},
        at=now,
    )


def revoke_user_sessions(
    session: Session,
    user: User,
    *,
    now: datetime | None = None,
    except_id: int | None = None,
) -> int:
    """Revoke every live session of the user (but ``except_id``); how many were revoked."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    return affected_rows(
        session,
        query.values(revoked_at=now or utcnow()).execution_options(synchronize_session="fetch"),
    )


def principal_for_session(user_session: UserSession) -> Principal:
    """The signed-in user. Someone who must change their password gets no permissions at all:
    the bootstrap or admin-set password is known to someone else, so until it is replaced the
    session is good only for replacing it."""
    user = user_session.user
    permissions = frozenset() if user.must_change_password else permissions_for_roles(user.role_set)
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        permissions=permissions,
        session_id=user_session.id,
        must_change_password=user.must_change_password,
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _is_live(row: UserSession, now: datetime, idle: timedelta) -> bool:
    return (
        row.revoked_at is None
        and row.expires_at > now
        and row.last_seen_at + idle > now
        and row.user.disabled_at is None
    )
