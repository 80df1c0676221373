"""Signing in: the password and second factor, the failure count and the locks per (account,
client address) (vigil.store.accounts.sign_in_locks), and the audit record of every attempt.

``authenticate`` never raises for a refused sign-in: the bookkeeping it writes must be
committed even then; the caller commits either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from vigil.store.accounts.errors import SecondFactorUnavailable
from vigil.store.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_decoy,
    verify_password,
)
from vigil.store.accounts.sign_in_locks import (
    active_lock,
    clear_address,
    record_failure,
    source_key,
)
from vigil.store.accounts.totp import verify_totp
from vigil.store.accounts.users import find_user
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.evidence.keys import MasterKey
from vigil.store.models.accounts import User
from vigil.store.models.base import utcnow

SignInReason = Literal[
    "ok", "invalid", "locked", "second_factor_required", "second_factor_unavailable"
]


@dataclass
class SignInOutcome:
    ok: bool
    user: User | None
    reason: SignInReason
    locked_until: datetime | None = None


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    totp_code: str | None = None,
    now: datetime | None = None,
    lockout_after: int = 5,
    lockout_minutes: int = 15,
    source_ip: str | None = None,
    master_key: MasterKey | None = None,
) -> SignInOutcome:
    """Check a sign-in; the outcome says why it was refused. ``source_ip`` is the client's
    address: locks apply to it alone. ``master_key`` opens second-factor secrets; without it
    (or under another key) an account with a second factor is refused as
    ``second_factor_unavailable``, which is not counted as a failure."""
    now = now or utcnow()
    attempt = _Attempt(session, now, source_ip, lockout_after, lockout_minutes)
    user = find_user(session, username)
    if user is None or user.disabled_at is not None:
        verify_decoy(password)
        return attempt.refuse(user, "invalid")
    locked_until = active_lock(session, user, attempt.source, now)
    if locked_until is not None:
        # No password check: a locked address must not become a free guessing oracle.
        return attempt.refuse(user, "locked", locked_until=locked_until)
    if (
        not isinstance(password, str)
        or len(password) > MAX_PASSWORD_LENGTH
        or not verify_password(user.password_hash, password)
    ):
        return attempt.fail(user)
    if user.totp_enabled:
        if totp_code is None:
            return attempt.refuse(user, "second_factor_required")
        try:
            if not verify_totp(user, totp_code, master_key=master_key, now=now):
                return attempt.fail(user)
        except SecondFactorUnavailable:
            return attempt.refuse(user, "second_factor_unavailable")
    return attempt.succeed(user, password)


class _Attempt:
    """The bookkeeping of one sign-in attempt: counters, locks and its audit record."""

    def __init__(
        self,
        session: Session,
        now: datetime,
        source_ip: str | None,
        lockout_after: int,
        lockout_minutes: int,
    ) -> None:
        self.session, self.now = session, now
        self.source_ip = source_ip[:64] if isinstance(source_ip, str) else None
        self.source = source_key(source_ip)
        self.lockout_after, self.lockout_minutes = lockout_after, lockout_minutes

    def refuse(
        self, user: User | None, reason: SignInReason, locked_until: datetime | None = None
    ) -> SignInOutcome:
        self._record(AuditAction.SIGN_IN_FAILED, user, reason)
        return SignInOutcome(ok=False, user=None, reason=reason, locked_until=locked_until)

    def fail(self, user: User) -> SignInOutcome:
        user.failed_sign_ins += 1
        record_failure(
            self.session,
            user,
            self.source,
            self.now,
            lockout_after=self.lockout_after,
            lockout_minutes=self.lockout_minutes,
        )
        return self.refuse(user, "invalid")

    def succeed(self, user: User, password: str) -> SignInOutcome:
        user.failed_sign_ins = 0
        clear_address(self.session, user, self.source)
        user.last_sign_in_at = self.now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        self.session.flush()
        self._record(AuditAction.SIGN_IN, user, "ok")
        return SignInOutcome(ok=True, user=user, reason="ok")

    def _record(self, action: AuditAction, user: User | None, reason: str) -> None:
        # An unknown name is not recorded: people type their password into the name field.
        AuditLog(self.session).append(
            action,
            actor=f"user:{user.username}" if user else "anonymous",
            subject_type="user" if user else None,
            subject_id=str(user.id) if user else None,
            details={
                "username": user.username if user else None,
                "reason": reason,
                "source_ip": self.source_ip,
            },
            at=self.now,
        )
