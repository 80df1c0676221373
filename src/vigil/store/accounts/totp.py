"""Time-based one-time passwords (RFC 6238, 30-second steps, 6 digits) as a second factor.

Enrolment is two steps so a typo in the authenticator app cannot lock anyone out: the secret is
stored first, and the factor is only switched on once a code from the app has been verified.
Each accepted time step is remembered, so a code seen over someone's shoulder is useless after.

The secret has to be used again at every sign-in, so it cannot be hashed: it is kept sealed
under the evidence master key (vigil.store.sealed_secrets), bound to its user's id, and a copy
of the database alone gives no second factor away. Without the key (or under another one) the
factor cannot be checked: SecondFactorUnavailable, never a silent refusal or acceptance.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import AccountError, SecondFactorUnavailable
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.evidence.keys import MasterKey
from vigil.store.models.accounts import User
from vigil.store.models.base import utcnow
from vigil.store.sealed_secrets import SealedSecretError, open_secret, seal_secret

log = logging.getLogger(__name__)

CODE_DIGITS = 6
SECRET_PURPOSE = "totp-secret"  # with the user's id: totp_purpose
VALID_WINDOW = 1  # one step either side: tolerates 30 s of clock drift, no more


def begin_totp_enrolment(
    session: Session, user: User, *, master_key: MasterKey | None, issuer: str = "Vigil"
) -> str:
    """Store a new secret (not yet enabled), sealed under ``master_key``, and return the
    otpauth:// URI for the app: the only time the secret leaves Vigil."""
    if user.totp_enabled:
        # Otherwise a hijacked session could silently rebind the second factor.
        raise AccountError("the second factor is already enabled: disable it first")
    key = _required(master_key)
    secret = pyotp.random_base32()
    session.flush()  # the user's id is part of what the seal authenticates
    user.sealed_totp_secret = seal_secret(key, secret, totp_purpose(user.id))
    user.totp_last_step = None
    session.flush()
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)


def confirm_totp(
    session: Session,
    user: User,
    code: str,
    *,
    actor: str,
    master_key: MasterKey | None,
    now: datetime | None = None,
) -> bool:
    """Switch the factor on if ``code`` is valid for the enrolled secret."""
    if user.totp_enabled or not verify_totp(user, code, master_key=master_key, now=now):
        return False
    user.totp_enabled = True
    session.flush()
    _audit(session, user, actor, "second_factor_enabled")
    return True


def verify_totp(
    user: User, code: str, *, master_key: MasterKey | None, now: datetime | None = None
) -> bool:
    """True for a current code not used before; records the time step it used. Raises
    SecondFactorUnavailable when the secret cannot be opened with ``master_key``."""
    if not user.sealed_totp_secret or not _well_formed(code):
        return False
    totp = pyotp.TOTP(totp_secret(user, master_key))
    current = totp.timecode(now or utcnow())
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue  # a replay, or older than a code already accepted
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def disable_totp(session: Session, user: User, *, actor: str) -> None:
    user.sealed_totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
    session.flush()
    _audit(session, user, actor, "second_factor_disabled")


def totp_purpose(user_id: int) -> str:
    """What a user's sealed secret is bound to: it opens for that user's row only."""
    return f"{SECRET_PURPOSE}:user:{user_id}"


def totp_secret(user: User, master_key: MasterKey | None) -> str:
    """The user's secret in the clear (base32), for checking a code and nothing else."""
    if user.sealed_totp_secret is None:
        raise AccountError(f"{user.username} has no second factor enrolled")
    try:
        return open_secret(_required(master_key), user.sealed_totp_secret, totp_purpose(user.id))
    except SealedSecretError as exc:
        log.error("the second factor of %s cannot be opened: %s", user.username, exc)
        raise SecondFactorUnavailable(
            "the second factor cannot be checked: its secret is sealed under another "
            "evidence master key, or damaged"
        ) from None


def _required(master_key: MasterKey | None) -> MasterKey:
    if master_key is None:
        raise SecondFactorUnavailable(
            "second factors need the evidence master key (their secrets are sealed under it); "
            "the operator has to configure one"
        )
    return master_key


def _well_formed(code: str) -> bool:
    # isdigit alone accepts other scripts' digits ("١٢٣٤٥٦").
    return isinstance(code, str) and len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def _audit(session: Session, user: User, actor: str, change: str) -> None:
    AuditLog(session).append(
        AuditAction.USER_CHANGED,
        actor=actor,
        subject_type="user",
        subject_id=str(user.id),
        details={"username": user.username, "change": change},
    )
