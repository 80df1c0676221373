"""Machine credentials: ``vigil_<prefix>_<secret>`` tokens with scopes, expiry and revocation.

The prefix (12 of [a-z0-9]) is public: it finds the row with one indexed lookup and names the
key in logs and the audit trail. Only SHA-256 of the secret is stored. Not argon2: the secret
is 256 bits from ``secrets``, so no amount of hashing speed makes guessing it feasible, while
a deliberately slow hash would cost tens of milliseconds on every single API request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts.errors import InvalidAccountInput, InvalidCredentials, UnknownAccount
from vigil.store.accounts.grant_requests import open_key_grant
from vigil.store.accounts.permissions import (
    Permission,
    parse_scopes,
    scopes_need_second_approval,
)
from vigil.store.accounts.principal import Principal
from vigil.store.audit import AuditAction, AuditLog
from vigil.store.models.accounts import ApiKey
from vigil.store.models.base import utcnow

PREFIX_LENGTH = 12
TOKEN_PREFIX = "vigil_"
# Checked before any parsing or hashing: a hostile header costs nothing.
MAX_TOKEN_LENGTH = 100
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX = re.compile(rf"[a-z0-9]{{{PREFIX_LENGTH}}}")
# token_urlsafe(32) gives 43 characters of [A-Za-z0-9_-]; the secret may itself contain "_".
_TOKEN = re.compile(rf"vigil_([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{43}})")
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at precision; saves a write per request
_MAX_NAME = 200


def create_api_key(
    session: Session,
    name: str,
    scopes: Iterable[str | Permission],
    *,
    created_by: str,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
    note: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its token. The token is not stored anywhere: show it once. A key that
    may fetch media works only once a second administrator approves its grant
    (``awaiting_approval``; vigil.store.accounts.grants)."""
    granted = parse_scopes(scopes)
    label = _checked_name(name)
    _check_limits(expires_at, rate_limit_per_minute)
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=prefix,
        secret_hash=_digest(secret),
        name=label,
        scopes=sorted(scope.value for scope in granted),
        created_by=created_by,
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
        note=note,
        awaiting_approval=scopes_need_second_approval(granted),
    )
    session.add(key)
    session.flush()
    AuditLog(session).append(
        AuditAction.KEY_CREATED,
        actor=created_by,
        subject_type="api_key",
        subject_id=prefix,
        details={
            "prefix": prefix,
            "name": label,
            "scopes": key.scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "awaiting_approval": key.awaiting_approval,
        },
    )
    if key.awaiting_approval:
        open_key_grant(session, key, requested_by=created_by)
    return key, f"{TOKEN_PREFIX}{prefix}_{secret}"


def verify_api_key(session: Session, token: str, *, now: datetime | None = None) -> ApiKey:
    """The usable key the token belongs to; InvalidCredentials (saying no more) otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidCredentials()
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise InvalidCredentials()
    prefix, secret = match.groups()
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
    if key is None or not hmac.compare_digest(_digest(secret), key.secret_hash):
        raise InvalidCredentials()
    now = now or utcnow()
    if not key.is_usable(now):
        raise InvalidCredentials()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL:
        key.last_used_at = now
        session.flush()
    return key


def revoke_api_key(
    session: Session, prefix: str, *, actor: str, now: datetime | None = None
) -> ApiKey:
    """Revoke the key with this prefix (revoking a revoked key changes nothing)."""
    key = find_api_key(session, prefix)
    if key is None:
        raise UnknownAccount(f"no API key with prefix {str(prefix)[:40]!r}")
    if key.revoked_at is not None:
        return key
    key.revoked_at, key.revoked_by = now or utcnow(), actor
    session.flush()
    AuditLog(session).append(
        AuditAction.KEY_REVOKED,
        actor=actor,
        subject_type="api_key",
        subject_id=key.prefix,
        details={"prefix": key.prefix, "name": key.name},
        at=key.revoked_at,
    )
    return key


def find_api_key(session: Session, prefix: str) -> ApiKey | None:
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        return None
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first, revoked and expired included."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def principal_for_key(key: ApiKey) -> Principal:
    """The key as a principal. Scopes no longer known (a renamed permission) grant nothing."""
    known = {permission.value for permission in Permission}
    permissions = frozenset(Permission(scope) for scope in key.scopes if scope in known)
    return Principal(
        kind="api_key",
        id=key.id,
        name=key.prefix,
        permissions=permissions,
        rate_limit_per_minute=key.rate_limit_per_minute,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _checked_name(name: str) -> str:
    label = name.strip() if isinstance(name, str) else ""
    if not 0 < len(label) <= _MAX_NAME or not label.isprintable():
        raise InvalidAccountInput(f"an API key name is 1 to {_MAX_NAME} printable characters")
    return label


def _check_limits(expires_at: datetime | None, rate_limit_per_minute: int | None) -> None:
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise InvalidAccountInput("expires_at must be a time-zone-aware time in the future")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise InvalidAccountInput("the rate limit must be at least 1 request per minute")
