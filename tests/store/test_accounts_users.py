"""Users, roles, passwords, sign-in bookkeeping (lockout, audit) and the first administrator,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store import Database
from vigil.store.accounts import (
    DuplicateUser,
    InvalidAccountInput,
    Role,
    User,
    WeakPassword,
    authenticate,
    bootstrap_admin,
    create_user,
    disable_user,
    find_user,
    list_users,
    needs_rehash,
    principal_for_session,
    resolve_session,
    set_password,
    set_roles,
    start_session,
    verify_password,
)
from vigil.store.accounts.errors import InvalidCredentials
from vigil.store.audit import AuditAction, AuditRecord

pytestmark = pytest.mark.usefixtures("cheap_argon2")  # see tests/conftest.py

PASSWORD = "Tr0ub4dor&3-horse-staple"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ATTACKER = "203.0.113.66"


def _audit(session: Session) -> list[AuditRecord]:
    return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _audit_text(session: Session) -> str:
    return json.dumps([[r.actor, r.subject_id, r.details] for r in _audit(session)])


def _alice(session: Session, **options: object) -> User:
    return create_user(session, "Alice", PASSWORD, [Role.REVIEWER], actor="cli:root", **options)  # type: ignore[arg-type]


def test_create_user_stores_lowercase_name_roles_and_a_hash(session: Session) -> None:
    user = create_user(
        session,
        "Alice.Smith@example",
        PASSWORD,
        ["reviewer", Role.AUDITOR],
        actor="cli:root",
        display_name=" Alice ",
    )
    session.commit()
    assert user.username == "alice.smith@example" and user.display_name == "Alice"
    assert user.role_set == {Role.REVIEWER, Role.AUDITOR} and user.created_by == "cli:root"
    assert PASSWORD not in user.password_hash and verify_password(user.password_hash, PASSWORD)
    assert find_user(session, "ALICE.SMITH@EXAMPLE") is user
    [record] = _audit(session)
    assert record.action == AuditAction.USER_CREATED and record.actor == "cli:root"
    assert record.details == {"username": "alice.smith@example", "roles": ["auditor", "reviewer"]}
    assert PASSWORD not in _audit_text(session) and "argon2" not in _audit_text(session)


def test_names_are_unique_case_insensitively(session: Session) -> None:
    _alice(session)
    with pytest.raises(DuplicateUser):
        create_user(session, "ALICE", PASSWORD + "x", [Role.AUDITOR], actor="cli:root")
    session.commit()
    assert [user.username for user in list_users(session)] == ["alice"]


MALFORMED_NAMES = [
    "",
    "a" * 101,
    "bob'; DROP TABLE users;--",
    "al ice",
    "alice\n",
    "ädmin",
    "\u212aelvin",  # KELVIN SIGN, which lower()s to an ASCII "k"
    "\u0430dmin",  # Cyrillic small a
    "alice\x00",
]


def test_malformed_usernames_are_refused(session: Session) -> None:
    for username in MALFORMED_NAMES:
        with pytest.raises(InvalidAccountInput):
            create_user(session, username, PASSWORD, [Role.AUDITOR], actor="cli:root")
        assert find_user(session, username) is None
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_lookalike_name_does_not_find_the_ascii_user(session: Session) -> None:
    create_user(session, "kelvin", PASSWORD, [Role.AUDITOR], actor="cli:root")
    assert find_user(session, "\u212aelvin") is None
    assert find_user(session, "KELVIN") is not None


def test_unknown_or_missing_roles_are_refused(session: Session) -> None:
    for roles in ([], ["root"], ["admin", "superuser"], ["ADMIN "], ["admin; DROP TABLE x"]):
        with pytest.raises(InvalidAccountInput):
            create_user(session, "bob", PASSWORD, roles, actor="cli:root")
    assert find_user(session, "bob") is None


def test_weak_password_is_refused_before_anything_is_stored(session: Session) -> None:
    with pytest.raises(WeakPassword):
        create_user(session, "bob", "bob-is-my-name", [Role.AUDITOR], actor="cli:root")
    assert session.scalar(select(func.count()).select_from(User)) == 0
    assert _audit(session) == []


def test_sign_in_success_resets_counters_and_is_audited(session: Session) -> None:
    user = _alice(session)
    user.failed_sign_ins = 2
    outcome = authenticate(session, "ALICE", PASSWORD, now=NOW, source_ip="198.51.100.7")
    session.commit()
    assert outcome.ok and outcome.reason == "ok" and outcome.user is user
    assert user.failed_sign_ins == 0 and user.last_sign_in_at == NOW
    record = _audit(session)[-1]
    assert record.action == AuditAction.SIGN_IN and record.actor == "user:alice"
    assert record.details == {"username": "alice", "reason": "ok", "source_ip": "198.51.100.7"}


def test_wrong_password_counts_and_is_audited_without_the_password(session: Session) -> None:
    user = _alice(session)
    outcome = authenticate(session, "alice", "not-" + PASSWORD, now=NOW)
    session.commit()
    assert (outcome.ok, outcome.reason, outcome.user) == (False, "invalid", None)
    assert user.failed_sign_ins == 1 and user.last_sign_in_at is None
    record = _audit(session)[-1]
    assert record.action == AuditAction.SIGN_IN_FAILED
    assert record.details == {"username": "alice", "reason": "invalid", "source_ip": None}
    assert PASSWORD not in _audit_text(session)


def test_unknown_user_looks_like_a_wrong_password(session: Session) -> None:
    outcome = authenticate(
        session, "mallory", "typed-my-password-here", now=NOW, source_ip="x" * 10_000
    )
    session.commit()
    assert (outcome.ok, outcome.reason) == (False, "invalid")
    [record] = _audit(session)
    # An unknown name is not recorded: it is often a password typed into the wrong field.
    assert record.actor == "anonymous" and record.details["username"] is None
    assert "typed-my-password-here" not in _audit_text(session)
    assert len(record.details["source_ip"]) <= 64


def test_hostile_sign_in_input_is_refused(session: Session) -> None:
    user = _alice(session)
    for username, password in [
        ("alice' OR '1'='1", PASSWORD),
        ("a" * 100_000, PASSWORD),
        ("alice", PASSWORD + "x" * 5_000_000),
        ("alice", ""),
    ]:
        assert authenticate(session, username, password, now=NOW).reason == "invalid"
    assert user.failed_sign_ins == 2  # the two attempts that named alice


def test_lockout_after_repeated_failures_then_expiry(session: Session) -> None:
    _alice(session)
    for attempt in range(3):
        outcome = authenticate(
            session,
            "alice",
            f"wrong-{attempt}-password",
            now=NOW,
            lockout_after=3,
            lockout_minutes=15,
            source_ip=ATTACKER,
        )
        assert outcome.reason == "invalid"
    session.commit()
    # The right password does not help that address while locked (and is not even checked).
    locked = authenticate(
        session,
        "alice",
        PASSWORD,
        now=NOW + timedelta(minutes=14),
        lockout_after=3,
        source_ip=ATTACKER,
    )
    assert (locked.ok, locked.reason, locked.locked_until) == (
        False,
        "locked",
        NOW + timedelta(minutes=15),
    )
    after = authenticate(
        session,
        "alice",
        PASSWORD,
        now=NOW + timedelta(minutes=16),
        lockout_after=3,
        source_ip=ATTACKER,
    )
    session.commit()
    assert after.ok and after.user is not None and after.user.failed_sign_ins == 0
    reasons = [r.details["reason"] for r in _audit(session) if r.action != "user_created"]
    assert reasons == ["invalid", "invalid", "invalid", "locked", "ok"]


def test_disabled_user_cannot_sign_in_and_loses_sessions(session: Session) -> None:
    user = _alice(session)
    _row, token, _csrf = start_session(session, user, now=NOW)
    disable_user(session, user, actor="cli:root")
    session.commit()
    assert authenticate(session, "alice", PASSWORD, now=NOW).reason == "invalid"
    with pytest.raises(InvalidCredentials):
        resolve_session(session, token, now=NOW)
    assert any(r.details.get("change") == "disabled" for r in _audit(session))


def test_sign_in_upgrades_a_weak_hash(session: Session) -> None:
    user = _alice(session)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    assert authenticate(session, "alice", PASSWORD, now=NOW).ok
    assert not needs_rehash(user.password_hash)
    assert verify_password(user.password_hash, PASSWORD)


def test_set_password_replaces_it_and_signs_out_elsewhere(session: Session) -> None:
    user = _alice(session, must_change_password=True)
    first, _token, _csrf = start_session(session, user, now=NOW)
    current, token, _csrf = start_session(session, user, now=NOW)
    new = "a-completely-new-passphrase"
    set_password(session, user, new, actor="user:alice", keep_session_id=current.id)
    session.commit()
    assert not user.must_change_password and verify_password(user.password_hash, new)
    session.refresh(first)
    assert first.revoked_at is not None
    assert resolve_session(session, token, now=NOW + timedelta(seconds=5)) is current
    record = _audit(session)[-1]
    assert record.action == AuditAction.USER_CHANGED
    assert record.details == {"username": "alice", "change": "password"}
    assert new not in _audit_text(session)


def test_set_password_refuses_weak_and_unchanged(session: Session) -> None:
    user = _alice(session)
    for bad in ("short", PASSWORD, "alice-" + PASSWORD):
        with pytest.raises(WeakPassword):
            set_password(session, user, bad, actor="user:alice")
    assert verify_password(user.password_hash, PASSWORD)


def test_set_roles_replaces_grants_and_audits_both(session: Session) -> None:
    user = _alice(session)
    set_roles(session, user, [Role.AUDITOR, Role.REVIEWER], actor="cli:root")
    set_roles(session, user, [Role.AUDITOR], actor="cli:root")
    session.commit()
    session.expire_all()
    assert find_user(session, "alice").role_set == {Role.AUDITOR}  # type: ignore[union-attr]
    record = _audit(session)[-1]
    assert record.details == {
        "username": "alice",
        "change": "roles",
        "roles": ["auditor"],
        "previous_roles": ["auditor", "reviewer"],
    }
    with pytest.raises(InvalidAccountInput):
        set_roles(session, user, ["god"], actor="cli:root")


def test_bootstrap_creates_one_admin_who_must_change_the_password(session: Session) -> None:
    password = bootstrap_admin(session, now=NOW)
    session.commit()
    assert password is not None and len(password) >= 20
    assert bootstrap_admin(session) is None
    admin = find_user(session, "admin")
    assert admin is not None and admin.role_set == {Role.ADMIN}
    assert admin.must_change_password and admin.created_by == "bootstrap"
    assert admin.created_at == NOW
    outcome = authenticate(session, "admin", password, now=NOW)
    assert outcome.ok
    row, _token, _csrf = start_session(session, admin, now=NOW)
    assert principal_for_session(row).permissions == frozenset()
    assert password not in _audit_text(session)


def test_bootstrap_is_a_no_op_when_any_user_exists(session: Session) -> None:
    _alice(session)
    session.commit()
    assert bootstrap_admin(session) is None
    assert find_user(session, "admin") is None


def test_concurrent_bootstrap_creates_one_admin(database: Database) -> None:
    results: list[str | None] = []
    first = database.session(write=True)
    try:
        assert bootstrap_admin(first) is not None  # holds its transaction open

        def second() -> None:
            with database.transaction(write=True) as other:
                results.append(bootstrap_admin(other))

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)  # it now waits on the first (write lock or unique index)
        first.commit()
        thread.join(10)
    finally:
        first.close()
    assert results == [None]
    with database.session() as check:
        assert check.scalar(select(func.count()).select_from(User)) == 1
