"""People: creating users, their roles and passwords, disabling them, and signing in.

Every function flushes and leaves the commit to the caller, so the change and its audit
record commit together. ``authenticate`` never raises for a refused sign-in: the failure
counter, lockout and audit record it writes must be committed even then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import (
    DuplicateUser,
    InvalidAccountInput,
    InvalidCredentials,
    WeakPassword,
)
from vigil.store.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_decoy,
    verify_password,
)
from vigil.store.accounts.sessions import revoke_user_sessions
from vigil.store.accounts.totp import verify_totp
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import Role, User, UserRole
from vigil.store.models.base import utcnow

# ASCII only: Unicode look-alikes (a Cyrillic "a", the Kelvin sign that lower()s to "k") would
# let two accounts appear to share a name.
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")
_MAX_SOURCE_IP = 64

SignInReason = Literal["ok", "invalid", "locked", "second_factor_required"]


@dataclass
class SignInOutcome:
    ok: bool
    user: User | None
    reason: SignInReason
    locked_until: datetime | None = None


def create_user(
    session: Session, username: str, password: str, roles: Iterable[Role | str], *,
    actor: str, display_name: str = "", must_change_password: bool = False,
    min_password_length: int = 12,
) -> User:
    name = normalise_username(username)
    granted = parse_roles(roles)
    check_password_policy(password, username=name, min_length=min_password_length)
    if find_user(session, name) is not None:
        raise DuplicateUser(f"a user named {name!r} already exists")
    user = User(
        username=name, display_name=display_name.strip()[:200],
        password_hash=hash_password(password),
        must_change_password=must_change_password, created_by=actor,
        roles=[UserRole(role=role, granted_by=actor) for role in sorted(granted)],
    )
    _insert(session, user)
    _audit(session, AuditAction.USER_CREATED, actor, user, roles=sorted(granted))
    return user


def find_user(session: Session, username: str) -> User | None:
    """The user by name, compared case-insensitively; None for a name that cannot exist."""
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        return None
    return session.scalars(select(User).where(User.username == username.lower())).one_or_none()


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones included, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def set_roles(session: Session, user: User, roles: Iterable[Role | str], *, actor: str) -> None:
    granted, previous = parse_roles(roles), user.role_set
    # Keep unchanged grants (and when they were granted); swap only the difference.
    user.roles = [grant for grant in user.roles if grant.role in granted] + [
        UserRole(role=role, granted_by=actor) for role in sorted(granted - previous)
    ]
    session.flush()
    _audit(session, AuditAction.USER_CHANGED, actor, user, change="roles",
           roles=sorted(granted), previous_roles=sorted(previous))


def set_password(
    session: Session, user: User, new_password: str, *, actor: str,
    min_password_length: int = 12, keep_session_id: int | None = None,
) -> None:
    """Replace the password and sign the user out everywhere (but ``keep_session_id``): a
    password change is often the answer to a suspected compromise."""
    check_password_policy(new_password, username=user.username, min_length=min_password_length)
    if verify_password(user.password_hash, new_password):
        raise WeakPassword("the new password must differ from the current one")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.failed_sign_ins, user.locked_until = 0, None
    revoke_user_sessions(session, user, except_id=keep_session_id)
    session.flush()
    _audit(session, AuditAction.USER_CHANGED, actor, user, change="password")


def change_own_password(
    session: Session, user: User, current_password: str, new_password: str, *,
    min_password_length: int = 12,
) -> None:
    """A person replacing their own password (the console's page and the API alike): the
    current one proves it is them. InvalidCredentials for a wrong one, WeakPassword for a new
    one the policy refuses; every session of theirs ends."""
    if (not isinstance(current_password, str) or len(current_password) > MAX_PASSWORD_LENGTH
            or not verify_password(user.password_hash, current_password)):
        raise InvalidCredentials("the current password is wrong")
    set_password(session, user, new_password, actor=f"user:{user.username}",
                 min_password_length=min_password_length)


def disable_user(session: Session, user: User, *, actor: str) -> None:
    """Refuse the user's sign-ins and end their sessions; the row stays for the audit trail."""
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    revoke_user_sessions(session, user)
    session.flush()
    _audit(session, AuditAction.USER_CHANGED, actor, user, change="disabled")


def authenticate(
    session: Session, username: str, password: str, *, totp_code: str | None = None,
    now: datetime | None = None, lockout_after: int = 5, lockout_minutes: int = 15,
    source_ip: str | None = None,
) -> SignInOutcome:
    """Check a sign-in; the outcome says why it was refused. The caller commits either way."""
    now = now or utcnow()
    attempt = _Attempt(session, now, source_ip)
    user = find_user(session, username)
    if user is None or user.disabled_at is not None:
        verify_decoy(password)
        return attempt.refuse(user, "invalid")
    if user.locked_until is not None and user.locked_until > now:
        # No password check: a locked account must not become a free guessing oracle.
        return attempt.refuse(user, "locked", locked_until=user.locked_until)
    if (not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH
            or not verify_password(user.password_hash, password)):
        return attempt.fail(user, lockout_after, lockout_minutes)
    if user.totp_enabled:
        if totp_code is None:
            return attempt.refuse(user, "second_factor_required")
        if not verify_totp(user, totp_code, now=now):
            return attempt.fail(user, lockout_after, lockout_minutes)
    return attempt.succeed(user, password)


def normalise_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.fullmatch(username):
        raise InvalidAccountInput(
            "a username is 1 to 100 characters of letters, digits, '.', '_', '@' and '-'")
    return username.lower()


def parse_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    granted: set[Role] = set()
    for value in roles:
        try:
            granted.add(Role(value.strip() if isinstance(value, str) else value))
        except ValueError:
            choices = ", ".join(role.value for role in Role)
            raise InvalidAccountInput(
                f"unknown role {str(value)[:40]!r} (choose from {choices})") from None
    if not granted:
        raise InvalidAccountInput("a user needs at least one role")
    return frozenset(granted)


class _Attempt:
    """The bookkeeping of one sign-in attempt: counters, lockout and its audit record."""

    def __init__(self, session: Session, now: datetime, source_ip: str | None) -> None:
        self.session, self.now = session, now
        self.source_ip = source_ip[:_MAX_SOURCE_IP] if isinstance(source_ip, str) else None

    def refuse(self, user: User | None, reason: SignInReason,
               locked_until: datetime | None = None) -> SignInOutcome:
        self._record(AuditAction.SIGN_IN_FAILED, user, reason)
        return SignInOutcome(ok=False, user=None, reason=reason, locked_until=locked_until)

    def fail(self, user: User, lockout_after: int, lockout_minutes: int) -> SignInOutcome:
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= lockout_after:
            # The counter restarts so that, once the lock ends, the next lockout again takes
            # a full round of failures rather than a single one.
            user.locked_until = self.now + timedelta(minutes=lockout_minutes)
            user.failed_sign_ins = 0
        self.session.flush()
        return self.refuse(user, "invalid")

    def succeed(self, user: User, password: str) -> SignInOutcome:
        user.failed_sign_ins, user.locked_until = 0, None
        user.last_sign_in_at = self.now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        self.session.flush()
        self._record(AuditAction.SIGN_IN, user, "ok")
        return SignInOutcome(ok=True, user=user, reason="ok")

    def _record(self, action: AuditAction, user: User | None, reason: str) -> None:
        # An unknown name is not recorded: people type their password into the name field.
        AuditLog(self.session).append(
            action, actor=f"user:{user.username}" if user else "anonymous",
            subject_type="user" if user else None, subject_id=str(user.id) if user else None,
            details={"username": user.username if user else None, "reason": reason,
                     "source_ip": self.source_ip},
            at=self.now,
        )


def _insert(session: Session, user: User) -> None:
    # In a savepoint, so a concurrent creator's row (the unique index) becomes DuplicateUser
    # and leaves the caller's transaction usable.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise DuplicateUser(f"a user named {user.username!r} already exists") from None


def _audit(session: Session, action: AuditAction, actor: str, user: User, **details: Any) -> None:
    AuditLog(session).append(action, actor=actor, subject_type="user", subject_id=str(user.id),
                             details={"username": user.username, **details})
