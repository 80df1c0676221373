"""API keys: token format, storage of the digest only, verification of hostile tokens, expiry,
revocation and their audit records, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.accounts import (
    ApiKey,
    InvalidAccountInput,
    InvalidCredentials,
    InvalidScope,
    Permission,
    UnknownAccount,
    create_api_key,
    list_api_keys,
    principal_for_key,
    revoke_api_key,
    verify_api_key,
)
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.models.base import utcnow

TOKEN_SHAPE = re.compile(r"vigil_[a-z0-9]{12}_[A-Za-z0-9_-]{43}")


def _audit(session: Session) -> list[AuditRecord]:
    return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _new_key(session: Session, **options: object) -> tuple[ApiKey, str]:
    key, token = create_api_key(
        session, "uploader", ["screen", Permission.FLAG], created_by="user:root", **options
    )  # type: ignore[arg-type]
    session.commit()
    return key, token


def _secret(token: str) -> str:
    return token[len("vigil_") + 13 :]


def test_token_shape_and_only_a_digest_is_stored(session: Session) -> None:
    key, token = _new_key(session, rate_limit_per_minute=120, note="ingest service")
    assert TOKEN_SHAPE.fullmatch(token) and token.startswith(f"vigil_{key.prefix}_")
    secret = _secret(token)
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps([str(value) for value in vars(key).values()])
    assert secret not in stored
    assert key.scopes == ["flag", "screen"] and key.rate_limit_per_minute == 120


def test_creation_is_audited_without_the_secret(session: Session) -> None:
    expires = utcnow() + timedelta(days=30)
    key, token = _new_key(session, expires_at=expires)
    [record] = _audit(session)
    assert record.action == AuditAction.KEY_CREATED and record.actor == "user:root"
    assert record.subject_id == key.prefix
    assert record.details == {
        "prefix": key.prefix,
        "name": "uploader",
        "scopes": ["flag", "screen"],
        "expires_at": expires.isoformat(),
        "awaiting_approval": False,
    }
    text = json.dumps(record.details)
    assert _secret(token) not in text and key.secret_hash not in text


def test_verify_returns_the_key_and_touches_last_used_at_once_a_minute(session: Session) -> None:
    key, token = _new_key(session)
    now = utcnow()
    assert verify_api_key(session, token, now=now) is key
    assert key.last_used_at == now
    verify_api_key(session, token, now=now + timedelta(seconds=30))
    assert key.last_used_at == now
    later = now + timedelta(seconds=61)
    verify_api_key(session, token, now=later)
    session.commit()
    session.expire_all()
    assert session.get(ApiKey, key.id).last_used_at == later  # type: ignore[union-attr]


MANGLERS = [
    lambda t: "",
    lambda t: "vigil_",
    lambda t: t[:-1],
    lambda t: t + "A",
    lambda t: t.upper(),
    lambda t: t.replace("vigil_", "vigi1_"),
    lambda t: " " + t,
    lambda t: t + "\n",
    lambda t: t[:6] + t[6:18].upper() + t[18:],
    lambda t: t[:-1] + "\u0410",  # Cyrillic capital A
    lambda t: "vigil_' OR '1'='1_" + "a" * 43,
    lambda t: t + "x" * 10_000_000,
    lambda t: "Bearer " + t,
]


def test_malformed_tokens_are_invalid_and_not_echoed(session: Session) -> None:
    # One database per backend for all of them: each case is cheap, the fixture is not.
    key, token = _new_key(session)
    for mangle in MANGLERS:
        bad = mangle(token)
        with pytest.raises(InvalidCredentials) as caught:
            verify_api_key(session, bad)
        assert str(caught.value) == "invalid credentials"
    for not_text in (None, 42, token.encode()):
        with pytest.raises(InvalidCredentials):
            verify_api_key(session, not_text)  # type: ignore[arg-type]
    assert key.last_used_at is None


def test_wrong_secret_and_unknown_prefix_are_invalid(session: Session) -> None:
    key, token = _new_key(session)
    other_secret = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    unknown_prefix = token.replace(key.prefix, "0" * 12)
    for bad in (other_secret, unknown_prefix):
        with pytest.raises(InvalidCredentials):
            verify_api_key(session, bad)
    assert key.last_used_at is None


def test_expired_key_is_refused(session: Session) -> None:
    expires = utcnow() + timedelta(hours=1)
    _key_row, token = _new_key(session, expires_at=expires)
    verify_api_key(session, token, now=expires - timedelta(seconds=1))
    with pytest.raises(InvalidCredentials):
        verify_api_key(session, token, now=expires)


def test_revocation_is_immediate_audited_and_idempotent(session: Session) -> None:
    key, token = _new_key(session)
    revoked = revoke_api_key(session, key.prefix, actor="user:root")
    session.commit()
    assert revoked is key and key.revoked_at is not None and key.revoked_by == "user:root"
    with pytest.raises(InvalidCredentials):
        verify_api_key(session, token)
    assert revoke_api_key(session, key.prefix, actor="user:other").revoked_by == "user:root"
    actions = [record.action for record in _audit(session)]
    assert actions == [AuditAction.KEY_CREATED, AuditAction.KEY_REVOKED]
    assert _audit(session)[-1].details == {"prefix": key.prefix, "name": "uploader"}


def test_revoking_an_unknown_prefix_raises(session: Session) -> None:
    key, _token = _new_key(session)
    for prefix in ("", "nope", "0" * 12, key.prefix.upper(), "' OR 1=1 --", "x" * 10_000):
        with pytest.raises(UnknownAccount):
            revoke_api_key(session, prefix, actor="user:root")
    assert key.revoked_at is None


def test_bad_scopes_and_options_create_nothing(session: Session) -> None:
    for scopes in ([], ["users:manage"], ["screen", "nope"]):
        with pytest.raises(InvalidScope):
            create_api_key(session, "k", scopes, created_by="user:root")
    bad_options: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "evil\x1b[2Jname"},
        {"expires_at": datetime(2000, 1, 1, tzinfo=UTC)},
        {"expires_at": datetime(2999, 1, 1)},  # naive
        {"rate_limit_per_minute": 0},
    ]
    for options in bad_options:
        name = options.pop("name", "k")
        with pytest.raises(InvalidAccountInput):
            create_api_key(session, name, ["screen"], created_by="user:root", **options)
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0
    assert _audit(session) == []


def test_principal_for_key_ignores_scopes_no_longer_known(session: Session) -> None:
    key, _token = _new_key(session, rate_limit_per_minute=10)
    key.scopes = [*key.scopes, "bogus:scope"]
    principal = principal_for_key(key)
    assert principal.kind == "api_key" and principal.actor == f"key:{key.prefix}"
    assert principal.permissions == {Permission.SCREEN, Permission.FLAG}
    assert principal.rate_limit_per_minute == 10 and not principal.can(Permission.MEDIA_VIEW)


def test_list_includes_revoked_keys_oldest_first(session: Session) -> None:
    first, _ = _new_key(session)
    second, _ = create_api_key(session, "viewer", ["media:view"], created_by="user:root")
    revoke_api_key(session, first.prefix, actor="user:root")
    session.commit()
    assert [key.prefix for key in list_api_keys(session)] == [first.prefix, second.prefix]
    assert first.prefix != second.prefix
