"""One-time passwords: made up by Vigil, shown once to whoever runs the command, and useful
only to sign in and replace them (``must_change_password``)."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from vigil.store.accounts.errors import InvalidAccountInput, UnknownAccount, WeakPassword
from vigil.store.accounts.passwords import check_password_policy, hash_password
from vigil.store.accounts.sessions import revoke_user_sessions
from vigil.store.accounts.sign_in_locks import lift_locks
from vigil.store.accounts.users import find_user
from vigil.store.audit import AuditAction, AuditLog


def one_time_password(username: str) -> str:
    """A random password that passes the policy for ``username``."""
    while True:  # the policy refuses e.g. the username inside it: vanishingly rare
        password = secrets.token_urlsafe(18)
        try:
            check_password_policy(password, username=username)
        except WeakPassword:
            continue
        return password


def reset_password(
    session: Session,
    username: str,
    *,
    actor: str,
    chosen: str | None = None,
    min_password_length: int = 12,
) -> str:
    """Give the user a new one-time password (returned, never stored in clear), end their
    sessions and lift a lockout; they must replace it at their next sign-in. For a person
    who forgot theirs, or whose first password was lost before anyone saw it. ``chosen``
    (an API client's) is used instead of a made-up one once it passes the policy."""
    user = find_user(session, username)
    if user is None:
        raise UnknownAccount(f"no user named {username[:100]!r}")
    if user.disabled_at is not None:
        raise InvalidAccountInput(f"user {user.username!r} is disabled; enable it first")
    if chosen is not None:
        check_password_policy(chosen, username=user.username, min_length=min_password_length)
    password = one_time_password(user.username) if chosen is None else chosen
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.failed_sign_ins = 0
    lift_locks(session, user)
    revoke_user_sessions(session, user)
    session.flush()
    AuditLog(session).append(
        AuditAction.USER_CHANGED,
        actor=actor,
        subject_type="user",
        subject_id=str(user.id),
        details={
            "username": user.username,
            "change": "password reset",
            "generated": chosen is None,
        },
    )
    return password
