"""Issue 14, item 11: five bad passwords from anyone locked any account, administrators
included, for 15 minutes. Locks now belong to (account, address), grow with each new lock of
the pair, and many failing addresses on one account raise an alert."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts import Role, User, authenticate, create_user, set_password
from vigil.store.accounts.sign_in_locks import ALERT_ADDRESSES, MAX_LOCK, locked_addresses
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.models import SignInLock

pytestmark = pytest.mark.usefixtures("cheap_argon2")

PASSWORD = "Tr0ub4dor&3-horse-staple"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OWNER, STRANGER = "198.51.100.7", "203.0.113.66"


def _admin(session: Session) -> User:
    return create_user(session, "root-admin", PASSWORD, [Role.ADMIN], actor="cli:root")


def _fail(session: Session, source: str | None, times: int = 5, now: datetime = NOW) -> str:
    reason = ""
    for attempt in range(times):
        reason = authenticate(
            session, "root-admin", f"guess-{attempt}-wrong", now=now, source_ip=source
        ).reason
    session.commit()
    return reason


def test_a_strangers_bad_passwords_do_not_lock_the_owner_out(session: Session) -> None:
    _admin(session)
    _fail(session, STRANGER)
    # The stranger is locked out, even with the right password ...
    stranger = authenticate(session, "root-admin", PASSWORD, now=NOW, source_ip=STRANGER)
    assert (stranger.ok, stranger.reason) == (False, "locked")
    # ... while the owner, from their own address, signs in.
    owner = authenticate(session, "root-admin", PASSWORD, now=NOW, source_ip=OWNER)
    assert owner.ok
    session.commit()
    # The owner's success does not forgive the stranger's address.
    again = authenticate(
        session, "root-admin", PASSWORD, now=NOW + timedelta(minutes=1), source_ip=STRANGER
    )
    assert again.reason == "locked"


def test_each_new_lock_of_the_same_address_lasts_longer(session: Session) -> None:
    _admin(session)
    now, lengths = NOW, []
    for _ in range(4):
        _fail(session, STRANGER, now=now)
        lock = session.get(SignInLock, (session.scalars(select(User.id)).one(), STRANGER))
        assert lock is not None and lock.locked_until is not None
        lengths.append(lock.locked_until - now)
        now = lock.locked_until + timedelta(seconds=1)
    assert lengths == [timedelta(minutes=minutes) for minutes in (15, 30, 60, 120)]


def test_the_lock_never_exceeds_a_day_and_a_quiet_day_starts_afresh(session: Session) -> None:
    user = _admin(session)
    session.add(
        SignInLock(user_id=user.id, source=STRANGER, failures=0, locks=60, last_failure_at=NOW)
    )
    session.commit()
    _fail(session, STRANGER, now=NOW + timedelta(minutes=1))
    lock = session.get(SignInLock, (user.id, STRANGER))
    assert lock is not None and lock.locked_until == NOW + timedelta(minutes=1) + MAX_LOCK
    later = lock.locked_until + timedelta(days=2)
    _fail(session, STRANGER, now=later)
    assert lock.locked_until == later + timedelta(minutes=15)


def test_failures_from_many_addresses_raise_one_alert(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    _admin(session)
    with caplog.at_level(logging.WARNING, logger="vigil.store.accounts.sign_in_locks"):
        for number in range(ALERT_ADDRESSES + 3):
            _fail(session, f"192.0.2.{number}", times=1, now=NOW + timedelta(seconds=number))
    alerts = list(
        session.scalars(select(AuditRecord).where(AuditRecord.action == AuditAction.SIGN_IN_ALERT))
    )
    assert len(alerts) == 1
    assert alerts[0].details["username"] == "root-admin"
    assert alerts[0].details["addresses"] == ALERT_ADDRESSES
    assert [r for r in caplog.records if "root-admin" in r.getMessage()]


def test_one_address_failing_often_raises_no_alert(session: Session) -> None:
    _admin(session)
    for round_ in range(4):
        _fail(session, STRANGER, now=NOW + timedelta(hours=round_ * 5))
    assert (
        session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.SIGN_IN_ALERT)
        ).first()
        is None
    )


def test_an_unknown_address_is_one_address(session: Session) -> None:
    _admin(session)
    assert _fail(session, None) == "invalid"
    assert authenticate(session, "root-admin", PASSWORD, now=NOW).reason == "locked"
    assert authenticate(session, "root-admin", PASSWORD, now=NOW, source_ip=OWNER).ok


def test_a_new_password_lifts_every_lock(session: Session) -> None:
    user = _admin(session)
    _fail(session, STRANGER)
    assert locked_addresses(session, NOW) == {user.id: 1}
    set_password(session, user, "another long passphrase", actor="cli:root")
    session.commit()
    assert locked_addresses(session, NOW) == {}
    assert authenticate(
        session, "root-admin", "another long passphrase", now=NOW, source_ip=STRANGER
    ).ok
