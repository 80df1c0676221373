"""People: creating users, their roles and passwords, disabling them. (Signing in is
vigil.store.accounts.sign_in.)

Every function flushes and leaves the commit to the caller, so the change and its audit
record commit together. Roles that would let an administrator view media are not applied but
requested (vigil.store.accounts.grant_requests): a second administrator approves them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import (
    DuplicateUser,
    InvalidAccountInput,
    InvalidCredentials,
    WeakPassword,
)
from vigil.store.accounts.grant_requests import open_role_grant
from vigil.store.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    verify_password,
)
from vigil.store.accounts.permissions import media_roles, roles_need_second_approval
from vigil.store.accounts.sessions import revoke_user_sessions
from vigil.store.accounts.sign_in_locks import lift_locks
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import AccessGrant, Role, User, UserRole
from vigil.store.models.base import utcnow

# ASCII only: Unicode look-alikes (a Cyrillic "a", the Kelvin sign that lower()s to "k") would
# let two accounts appear to share a name.
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: Iterable[Role | str],
    *,
    actor: str,
    display_name: str = "",
    must_change_password: bool = False,
    min_password_length: int = 12,
) -> User:
    """The user, with the roles that need no second approval; media roles for an
    administrator are requested (pending_roles shows them) and follow once approved."""
    name = normalise_username(username)
    requested = parse_roles(roles)
    check_password_policy(password, username=name, min_length=min_password_length)
    if find_user(session, name) is not None:
        raise DuplicateUser(f"a user named {name!r} already exists")
    needs_approval = roles_need_second_approval(requested, (), self_granted=False)
    granted = requested - media_roles(requested) if needs_approval else requested
    user = User(
        username=name,
        display_name=display_name.strip()[:200],
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        created_by=actor,
        roles=[UserRole(role=role, granted_by=actor) for role in sorted(granted)],
    )
    _insert(session, user)
    _audit(session, AuditAction.USER_CREATED, actor, user, roles=sorted(granted))
    if needs_approval:
        open_role_grant(session, user, requested, requested_by=actor)
    return user


def find_user(session: Session, username: str) -> User | None:
    """The user by name, compared case-insensitively; None for a name that cannot exist."""
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        return None
    return session.scalars(select(User).where(User.username == username.lower())).one_or_none()


def user_by_id(session: Session, user_id: int) -> User | None:
    """The account a signed-in principal stands for; None once it no longer exists."""
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones included, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def set_roles(
    session: Session, user: User, roles: Iterable[Role | str], *, actor: str
) -> AccessGrant | None:
    """Give the user these roles; or, when they would newly let an administrator view media
    (or give the actor media access themselves), leave the roles as they are and return the
    request a second administrator must approve."""
    granted = parse_roles(roles)
    if roles_need_second_approval(
        granted, user.role_set, self_granted=actor == f"user:{user.username}"
    ):
        return open_role_grant(session, user, granted, requested_by=actor)
    apply_roles(session, user, granted, actor=actor)
    return None


def apply_roles(session: Session, user: User, roles: Iterable[Role | str], *, actor: str) -> None:
    """Replace the user's roles now: set_roles, or an approved grant."""
    granted, previous = parse_roles(roles), user.role_set
    # Keep unchanged grants (and when they were granted); swap only the difference.
    user.roles = [grant for grant in user.roles if grant.role in granted] + [
        UserRole(role=role, granted_by=actor) for role in sorted(granted - previous)
    ]
    session.flush()
    _audit(
        session,
        AuditAction.USER_CHANGED,
        actor,
        user,
        change="roles",
        roles=sorted(granted),
        previous_roles=sorted(previous),
    )


def set_password(
    session: Session,
    user: User,
    new_password: str,
    *,
    actor: str,
    min_password_length: int = 12,
    keep_session_id: int | None = None,
) -> None:
    """Replace the password and sign the user out everywhere (but ``keep_session_id``): a
    password change is often the answer to a suspected compromise."""
    check_password_policy(new_password, username=user.username, min_length=min_password_length)
    if verify_password(user.password_hash, new_password):
        raise WeakPassword("the new password must differ from the current one")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.failed_sign_ins = 0
    lift_locks(session, user)
    revoke_user_sessions(session, user, except_id=keep_session_id)
    session.flush()
    _audit(session, AuditAction.USER_CHANGED, actor, user, change="password")


def change_own_password(
    session: Session,
    user: User,
    current_password: str,
    new_password: str,
    *,
    min_password_length: int = 12,
) -> None:
    """A person replacing their own password (the console's page and the API alike): the
    current one proves it is them. InvalidCredentials for a wrong one, WeakPassword for a new
    one the policy refuses; every session of theirs ends."""
    if (
        not isinstance(current_password, str)
        or len(current_password) > MAX_PASSWORD_LENGTH
        or not verify_password(user.password_hash, current_password)
    ):
        raise InvalidCredentials("the current password is wrong")
    set_password(
        session,
        user,
        new_password,
        actor=f"user:{user.username}",
        min_password_length=min_password_length,
    )


def disable_user(session: Session, user: User, *, actor: str) -> None:
    """Refuse the user's sign-ins and end their sessions; the row stays for the audit trail."""
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    revoke_user_sessions(session, user)
    session.flush()
    _audit(session, AuditAction.USER_CHANGED, actor, user, change="disabled")


def enable_user(session: Session, user: User, *, actor: str) -> bool:
    """Let a disabled user sign in again (their password and roles as they were); False, and
    no audit record, when the account was not disabled."""
    if user.disabled_at is None:
        return False
    user.disabled_at = None
    session.flush()
    _audit(session, AuditAction.USER_CHANGED, actor, user, change="enabled")
    return True


def normalise_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise InvalidAccountInput(
            "a username is 1 to 100 characters of letters, digits, '.', '_', '@' and '-'"
        )
    return username.lower()


def parse_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    granted: set[Role] = set()
    for value in roles:
        try:
            granted.add(Role(value.strip() if isinstance(value, str) else value))
        except ValueError:
            choices = ", ".join(role.value for role in Role)
            raise InvalidAccountInput(
                f"unknown role {str(value)[:40]!r} (choose from {choices})"
            ) from None
    if not granted:
        raise InvalidAccountInput("a user needs at least one role")
    return frozenset(granted)


def _insert(session: Session, user: User) -> None:
    # In a savepoint, so a concurrent creator's row (the unique index) becomes DuplicateUser
    # and leaves the caller's transaction usable.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise DuplicateUser(f"a user named {user.username!r} already exists") from None


def _audit(session: Session, action: AuditAction, actor: str, user: User, **details: Any) -> None:
    AuditLog(session).append(
        action,
        actor=actor,
        subject_type="user",
        subject_id=str(user.id),
        details={"username": user.username, **details},
    )
