"""Time-based one-time passwords (RFC 6238, 30-second steps, 6 digits) as a second factor.

Enrolment is two steps so a typo in the authenticator app cannot lock anyone out: the secret is
stored first, and the factor is only switched on once a code from the app has been verified.
Each accepted time step is remembered, so a code seen over someone's shoulder is useless after.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import AccountError
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import User
from vigil.store.models.base import utcnow

CODE_DIGITS = 6
VALID_WINDOW = 1  # one step either side: tolerates 30 s of clock drift, no more


def begin_totp_enrolment(session: Session, user: User, *, issuer: str = "Vigil") -> str:
    """Store a new secret (not yet enabled) and return the otpauth:// URI for the app."""
    if user.totp_enabled:
        # Otherwise a hijacked session could silently rebind the second factor.
        raise AccountError("the second factor is already enabled: disable it first")
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    session.flush()
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=issuer)


def confirm_totp(session: Session, user: User, code: str, *, actor: str,
                 now: datetime | None = None) -> bool:
    """Switch the factor on if ``code`` is valid for the enrolled secret."""
    if user.totp_enabled or not verify_totp(user, code, now=now):
        return False
    user.totp_enabled = True
    session.flush()
    _audit(session, user, actor, "second_factor_enabled")
    return True


def verify_totp(user: User, code: str, *, now: datetime | None = None) -> bool:
    """True for a current code not used before; records the time step it used."""
    if not user.totp_secret or not _well_formed(code):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now or utcnow())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue  # a replay, or older than a code already accepted
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def disable_totp(session: Session, user: User, *, actor: str) -> None:
    user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
    session.flush()
    _audit(session, user, actor, "second_factor_disabled")


def _well_formed(code: str) -> bool:
    # isdigit alone accepts other scripts' digits ("١٢٣٤٥٦").
    return (isinstance(code, str) and len(code) == CODE_DIGITS and code.isascii()
            and code.isdigit())


def _audit(session: Session, user: User, actor: str, change: str) -> None:
    AuditLog(session).append(AuditAction.USER_CHANGED, actor=actor, subject_type="user",
                             subject_id=str(user.id),
                             details={"username": user.username, "change": change})
