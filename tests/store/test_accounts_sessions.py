"""Browser sessions: digests only, absolute and idle expiry, revocation, CSRF, principals,
on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts import (
    ROLE_PERMISSIONS,
    InvalidCredentials,
    Role,
    User,
    UserSession,
    check_csrf,
    create_user,
    disable_user,
    end_session,
    principal_for_session,
    resolve_session,
    revoke_user_sessions,
    start_session,
)
from vigil.store.audit import AuditAction, AuditRecord

pytestmark = pytest.mark.usefixtures("cheap_argon2")  # see tests/conftest.py

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def user(session: Session) -> User:
    created = create_user(
        session, "carol", "a-long-enough-passphrase", [Role.AUDITOR], actor="cli:root"
    )
    session.commit()
    return created


def test_only_digests_are_stored(session: Session, user: User) -> None:
    row, token, csrf = start_session(session, user, now=NOW, user_agent="x" * 1000)
    session.commit()
    assert token != csrf and len(token) >= 43
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps([str(v) for v in vars(row).values()])
    assert row.expires_at == NOW + timedelta(hours=12) and len(row.user_agent or "") == 300


def test_resolve_finds_the_live_session(session: Session, user: User) -> None:
    row, token, _csrf = start_session(session, user, now=NOW)
    session.commit()
    assert resolve_session(session, token, now=NOW + timedelta(minutes=5)) is row


def test_unknown_and_hostile_tokens_are_invalid(session: Session, user: User) -> None:
    _row, token, _csrf = start_session(session, user, now=NOW)
    for bad in (
        "",
        "x",
        "' OR 1=1 --",
        "\u0000" * 10,
        token + " ",
        token[:-1],
        token.upper(),
        "a" * 1_000_000,
        None,
        7,
    ):
        with pytest.raises(InvalidCredentials) as caught:
            resolve_session(session, bad, now=NOW)  # type: ignore[arg-type]
        assert str(caught.value) == "invalid credentials"


def test_csrf_token_is_not_a_session_token(session: Session, user: User) -> None:
    _row, _token, csrf = start_session(session, user, now=NOW)
    with pytest.raises(InvalidCredentials):
        resolve_session(session, csrf, now=NOW)


def test_idle_timeout_and_touching_once_a_minute(session: Session, user: User) -> None:
    row, token, _csrf = start_session(session, user, now=NOW)
    resolve_session(session, token, now=NOW + timedelta(seconds=50))
    assert row.last_seen_at == NOW  # not rewritten within the minute
    resolve_session(session, token, now=NOW + timedelta(minutes=29))
    assert row.last_seen_at == NOW + timedelta(minutes=29)
    resolve_session(session, token, now=NOW + timedelta(minutes=58))  # 29 min idle: fine
    with pytest.raises(InvalidCredentials):
        resolve_session(session, token, now=NOW + timedelta(minutes=88), idle_minutes=30)


def test_absolute_expiry_despite_activity(session: Session, user: User) -> None:
    _row, token, _csrf = start_session(session, user, now=NOW, hours=1)
    for minutes in (20, 40, 59):
        resolve_session(session, token, now=NOW + timedelta(minutes=minutes))
    with pytest.raises(InvalidCredentials):
        resolve_session(session, token, now=NOW + timedelta(minutes=60))


def test_csrf_check(session: Session, user: User) -> None:
    row, token, csrf = start_session(session, user, now=NOW)
    other, _token, other_csrf = start_session(session, user, now=NOW)
    assert check_csrf(row, csrf)
    for bad in (None, "", token, other_csrf, csrf + "x", csrf.upper(), "x" * 1_000_000):
        assert not check_csrf(row, bad), bad[:20] if bad else bad
    assert check_csrf(other, other_csrf) and not check_csrf(other, 12345)  # type: ignore[arg-type]


def test_sign_out_revokes_and_is_audited(session: Session, user: User) -> None:
    row, token, _csrf = start_session(session, user, now=NOW)
    end_session(session, row, now=NOW + timedelta(minutes=1))
    session.commit()
    with pytest.raises(InvalidCredentials):
        resolve_session(session, token, now=NOW + timedelta(minutes=2))
    record = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert record is not None and record.action == AuditAction.SIGN_OUT
    assert record.actor == "user:carol" and record.details == {
        "username": "carol",
        "session": row.id,
    }
    assert token not in json.dumps(record.details)


def test_revoke_user_sessions_counts_and_spares_one(session: Session, user: User) -> None:
    rows = [start_session(session, user, now=NOW) for _ in range(3)]
    keep, keep_token = rows[0][0], rows[0][1]
    assert revoke_user_sessions(session, user, now=NOW, except_id=keep.id) == 2
    assert revoke_user_sessions(session, user, now=NOW, except_id=keep.id) == 0
    session.commit()
    assert resolve_session(session, keep_token, now=NOW) is keep
    for _row, token, _csrf in rows[1:]:
        with pytest.raises(InvalidCredentials):
            resolve_session(session, token, now=NOW)


def test_disabled_user_sessions_stop_working(session: Session, user: User) -> None:
    _row, token, _csrf = start_session(session, user, now=NOW)
    session.commit()
    user.disabled_at = NOW  # even without disable_user's revocation
    with pytest.raises(InvalidCredentials):
        resolve_session(session, token, now=NOW)
    disable_user(session, user, actor="cli:root")
    assert session.scalar(select(UserSession.revoked_at)) is not None


def test_principal_carries_role_permissions_unless_password_must_change(
    session: Session, user: User
) -> None:
    row, _token, _csrf = start_session(session, user, now=NOW)
    principal = principal_for_session(row)
    assert principal.permissions == ROLE_PERMISSIONS[Role.AUDITOR]
    assert (principal.kind, principal.actor, principal.session_id) == ("user", "user:carol", row.id)
    user.must_change_password = True
    assert principal_for_session(row).permissions == frozenset()
