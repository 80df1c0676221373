"""TOTP second factor: enrolment, the drift window, replay refusal, malformed codes, and its
place in sign-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.store.accounts import (
    AccountError,
    Role,
    User,
    authenticate,
    begin_totp_enrolment,
    confirm_totp,
    create_user,
    disable_totp,
    verify_totp,
)
from vigil.store.audit import AuditAction, AuditRecord

pytestmark = pytest.mark.usefixtures("cheap_argon2")  # see tests/conftest.py

PASSWORD = "a-long-enough-passphrase"
NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step
STEP = timedelta(seconds=30)



@pytest.fixture
def user(session: Session) -> User:
    created = create_user(session, "dave", PASSWORD, [Role.REVIEWER], actor="cli:root")
    session.commit()
    return created


def _enrolled(session: Session, user: User) -> pyotp.TOTP:
    begin_totp_enrolment(session, user)
    app = pyotp.TOTP(user.totp_secret or "")
    assert confirm_totp(session, user, app.at(NOW), actor="user:dave", now=NOW)
    session.commit()
    return app


def test_enrolment_returns_a_uri_and_enables_only_after_a_valid_code(
    session: Session, user: User
) -> None:
    uri = begin_totp_enrolment(session, user, issuer="Vigil Test")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp") and "dave" in parsed.path
    query = parse_qs(parsed.query)
    assert query["secret"] == [user.totp_secret] and query["issuer"] == ["Vigil Test"]
    assert not user.totp_enabled
    app = pyotp.TOTP(user.totp_secret or "")
    assert not confirm_totp(session, user, "000000" if app.at(NOW) != "000000" else "111111",
                            actor="user:dave", now=NOW)
    assert not user.totp_enabled
    assert confirm_totp(session, user, app.at(NOW), actor="user:dave", now=NOW)
    session.commit()
    assert user.totp_enabled
    [record] = [r for r in session.scalars(select(AuditRecord))
                if r.action == AuditAction.USER_CHANGED]
    assert record.details == {"username": "dave", "change": "second_factor_enabled"}
    assert (user.totp_secret or "") not in json.dumps(record.details)


def test_re_enrolling_an_enabled_factor_is_refused(session: Session, user: User) -> None:
    _enrolled(session, user)
    secret = user.totp_secret
    with pytest.raises(AccountError):
        begin_totp_enrolment(session, user)
    assert user.totp_secret == secret


def test_a_code_works_once(session: Session, user: User) -> None:
    app = _enrolled(session, user)  # used the code of NOW's step
    assert not verify_totp(user, app.at(NOW), now=NOW)
    assert verify_totp(user, app.at(NOW + STEP), now=NOW + STEP)
    assert not verify_totp(user, app.at(NOW + STEP), now=NOW + STEP + timedelta(seconds=5))


def test_drift_window_is_one_step(session: Session, user: User) -> None:
    app = _enrolled(session, user)
    later = NOW + 4 * STEP
    assert not verify_totp(user, app.at(later - 2 * STEP), now=later)
    assert verify_totp(user, app.at(later - STEP), now=later)
    # A code older than one already accepted is refused even inside the window.
    assert not verify_totp(user, app.at(later - 2 * STEP), now=later - STEP)
    assert verify_totp(user, app.at(later + STEP), now=later)


def test_malformed_codes_are_refused(session: Session, user: User) -> None:
    app = _enrolled(session, user)
    code = app.at(NOW + STEP)
    step = user.totp_last_step
    arabic = "".join(chr(0x660 + int(digit)) for digit in code)
    for bad in ("", code[:5], code + "0", "abcdef", " " + code, code + "\n", arabic,
                "1" * 1_000_000, None, int(code)):
        assert not verify_totp(user, bad, now=NOW + STEP)  # type: ignore[arg-type]
    assert user.totp_last_step == step
    assert verify_totp(user, code, now=NOW + STEP)


def test_no_secret_never_verifies(user: User) -> None:
    assert not verify_totp(user, "123456", now=NOW)


def test_sign_in_asks_for_the_second_factor_and_counts_bad_codes(
    session: Session, user: User
) -> None:
    app = _enrolled(session, user)
    later = NOW + STEP
    asked = authenticate(session, "dave", PASSWORD, now=later)
    assert (asked.ok, asked.reason) == (False, "second_factor_required")
    assert user.failed_sign_ins == 0
    wrong = "000000" if app.at(later) != "000000" else "111111"
    assert authenticate(session, "dave", PASSWORD, totp_code=wrong, now=later).reason == "invalid"
    assert user.failed_sign_ins == 1
    # The password is checked before the code: a right code does not rescue a wrong password.
    bad = authenticate(session, "dave", "x" + PASSWORD, totp_code=app.at(later), now=later)
    assert bad.reason == "invalid" and user.failed_sign_ins == 2
    ok = authenticate(session, "dave", PASSWORD, totp_code=app.at(later), now=later)
    assert ok.ok and user.failed_sign_ins == 0
    replay = authenticate(session, "dave", PASSWORD, totp_code=app.at(later), now=later)
    assert replay.reason == "invalid"
    session.commit()
    reasons = [r.details["reason"] for r in session.scalars(
        select(AuditRecord).where(AuditRecord.action.in_(["sign_in", "sign_in_failed"]))
        .order_by(AuditRecord.seq))]
    assert reasons == ["second_factor_required", "invalid", "invalid", "ok", "invalid"]


def test_disable_clears_the_secret(session: Session, user: User) -> None:
    _enrolled(session, user)
    disable_totp(session, user, actor="user:root")
    session.commit()
    assert (user.totp_secret, user.totp_enabled, user.totp_last_step) == (None, False, None)
    assert authenticate(session, "dave", PASSWORD, now=NOW + STEP).ok
