"""TOTP second factor: enrolment, the drift window, replay refusal, malformed codes, the secret
sealed under the master key, and its place in sign-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vigil.store.accounts import (
    AccountError,
    Role,
    SecondFactorUnavailable,
    SignInOutcome,
    User,
    authenticate,
    begin_totp_enrolment,
    confirm_totp,
    create_user,
    disable_totp,
    verify_totp,
)
from vigil.store.accounts.totp import totp_purpose
from vigil.store.audit import AuditAction, AuditRecord
from vigil.store.evidence import MasterKey
from vigil.store.sealed_secrets import open_secret

pytestmark = pytest.mark.usefixtures("cheap_argon2")  # see tests/conftest.py

PASSWORD = "a-long-enough-passphrase"
NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step
STEP = timedelta(seconds=30)
KEY = MasterKey.generate()  # the evidence master key, which seals the secrets


@pytest.fixture
def user(session: Session) -> User:
    created = create_user(session, "dave", PASSWORD, [Role.REVIEWER], actor="cli:root")
    session.commit()
    return created


def _secret(uri: str) -> str:
    return parse_qs(urlparse(uri).query)["secret"][0]


def _enrolled(session: Session, user: User) -> pyotp.TOTP:
    app = pyotp.TOTP(_secret(begin_totp_enrolment(session, user, master_key=KEY)))
    assert confirm_totp(session, user, app.at(NOW), actor="user:dave", master_key=KEY, now=NOW)
    session.commit()
    return app


def _verify(user: User, code: str, now: datetime) -> bool:
    return verify_totp(user, code, master_key=KEY, now=now)


def test_enrolment_returns_a_uri_and_enables_only_after_a_valid_code(
    session: Session, user: User
) -> None:
    uri = begin_totp_enrolment(session, user, master_key=KEY, issuer="Vigil Test")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp") and "dave" in parsed.path
    query = parse_qs(parsed.query)
    assert query["issuer"] == ["Vigil Test"]
    assert not user.totp_enabled
    app = pyotp.TOTP(query["secret"][0])
    assert not confirm_totp(
        session,
        user,
        "000000" if app.at(NOW) != "000000" else "111111",
        actor="user:dave",
        master_key=KEY,
        now=NOW,
    )
    assert not user.totp_enabled
    assert confirm_totp(session, user, app.at(NOW), actor="user:dave", master_key=KEY, now=NOW)
    session.commit()
    assert user.totp_enabled
    [record] = [
        r for r in session.scalars(select(AuditRecord)) if r.action == AuditAction.USER_CHANGED
    ]
    assert record.details == {"username": "dave", "change": "second_factor_enabled"}
    assert query["secret"][0] not in json.dumps(record.details)


def test_re_enrolling_an_enabled_factor_is_refused(session: Session, user: User) -> None:
    _enrolled(session, user)
    secret = user.sealed_totp_secret
    with pytest.raises(AccountError):
        begin_totp_enrolment(session, user, master_key=KEY)
    assert user.sealed_totp_secret == secret


def test_a_code_works_once(session: Session, user: User) -> None:
    app = _enrolled(session, user)  # used the code of NOW's step
    assert not _verify(user, app.at(NOW), NOW)
    assert _verify(user, app.at(NOW + STEP), NOW + STEP)
    assert not _verify(user, app.at(NOW + STEP), NOW + STEP + timedelta(seconds=5))


def test_drift_window_is_one_step(session: Session, user: User) -> None:
    app = _enrolled(session, user)
    later = NOW + 4 * STEP
    assert not _verify(user, app.at(later - 2 * STEP), later)
    assert _verify(user, app.at(later - STEP), later)
    # A code older than one already accepted is refused even inside the window.
    assert not _verify(user, app.at(later - 2 * STEP), later - STEP)
    assert _verify(user, app.at(later + STEP), later)


def test_malformed_codes_are_refused(session: Session, user: User) -> None:
    app = _enrolled(session, user)
    code = app.at(NOW + STEP)
    step = user.totp_last_step
    arabic = "".join(chr(0x660 + int(digit)) for digit in code)
    for bad in (
        "",
        code[:5],
        code + "0",
        "abcdef",
        " " + code,
        code + "\n",
        arabic,
        "1" * 1_000_000,
        None,
        int(code),
    ):
        assert not _verify(user, bad, NOW + STEP)  # type: ignore[arg-type]
    assert user.totp_last_step == step
    assert _verify(user, code, NOW + STEP)


def test_no_secret_never_verifies(user: User) -> None:
    assert not _verify(user, "123456", NOW)


def _sign_in(
    session: Session,
    code: str | None,
    now: datetime,
    *,
    password: str = PASSWORD,
    key: MasterKey | None = KEY,
) -> SignInOutcome:
    return authenticate(session, "dave", password, totp_code=code, now=now, master_key=key)


def test_sign_in_asks_for_the_second_factor_and_counts_bad_codes(
    session: Session, user: User
) -> None:
    app = _enrolled(session, user)
    later = NOW + STEP
    asked = _sign_in(session, None, later)
    assert (asked.ok, asked.reason) == (False, "second_factor_required")
    assert user.failed_sign_ins == 0
    wrong = "000000" if app.at(later) != "000000" else "111111"
    assert _sign_in(session, wrong, later).reason == "invalid"
    assert user.failed_sign_ins == 1
    # The password is checked before the code: a right code does not rescue a wrong password.
    bad = _sign_in(session, app.at(later), later, password="x" + PASSWORD)
    assert bad.reason == "invalid" and user.failed_sign_ins == 2
    ok = _sign_in(session, app.at(later), later)
    assert ok.ok and user.failed_sign_ins == 0
    replay = _sign_in(session, app.at(later), later)
    assert replay.reason == "invalid"
    session.commit()
    reasons = [
        r.details["reason"]
        for r in session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action.in_(["sign_in", "sign_in_failed"]))
            .order_by(AuditRecord.seq)
        )
    ]
    assert reasons == ["second_factor_required", "invalid", "invalid", "ok", "invalid"]


def test_disable_clears_the_secret(session: Session, user: User) -> None:
    _enrolled(session, user)
    disable_totp(session, user, actor="user:root")
    session.commit()
    assert (user.sealed_totp_secret, user.totp_enabled, user.totp_last_step) == (None, False, None)
    assert _sign_in(session, None, NOW + STEP).ok


def test_the_secret_is_sealed_in_the_database_and_bound_to_its_user(
    session: Session, user: User
) -> None:
    app = _enrolled(session, user)
    row = session.execute(text("SELECT * FROM users WHERE username = 'dave'")).one()
    assert not any(app.secret in str(value) for value in row)  # no plaintext in any column
    assert row.sealed_totp_secret.startswith(f"v1:{KEY.key_id}:")
    assert open_secret(KEY, row.sealed_totp_secret, totp_purpose(user.id)) == app.secret
    # Copied to another account (by someone who can write the database), it does not open.
    other = create_user(session, "erin", PASSWORD, [Role.REVIEWER], actor="cli:root")
    other.sealed_totp_secret, other.totp_enabled = user.sealed_totp_secret, True
    session.commit()
    with pytest.raises(SecondFactorUnavailable):
        verify_totp(other, app.at(NOW + STEP), master_key=KEY, now=NOW + STEP)


@pytest.mark.parametrize("key", [None, MasterKey.generate()], ids=["no key", "another key"])
def test_a_factor_that_cannot_be_opened_refuses_sign_in_without_counting_it(
    session: Session, user: User, key: MasterKey | None
) -> None:
    app = _enrolled(session, user)
    later = NOW + STEP
    refused = _sign_in(session, app.at(later), later, key=key)
    assert (refused.ok, refused.reason) == (False, "second_factor_unavailable")
    assert user.failed_sign_ins == 0 and user.totp_last_step == app.timecode(NOW)
    # A wrong password is still a wrong password, key or not.
    assert (
        _sign_in(session, app.at(later), later, password="x" + PASSWORD, key=key).reason
        == "invalid"
    )
    assert _sign_in(session, app.at(later), later).ok  # the right key: signed in
    session.commit()
    reasons = [
        r.details["reason"]
        for r in session.scalars(select(AuditRecord).where(AuditRecord.action == "sign_in_failed"))
    ]
    assert "second_factor_unavailable" in reasons


def test_enrolment_needs_the_master_key(session: Session, user: User) -> None:
    with pytest.raises(SecondFactorUnavailable):
        begin_totp_enrolment(session, user, master_key=None)
    assert user.sealed_totp_secret is None
    with pytest.raises(SecondFactorUnavailable):
        confirm_totp(
            session,
            _enrolled_without_confirming(session, user),
            "123456",
            actor="user:dave",
            master_key=None,
            now=NOW,
        )
    assert not user.totp_enabled


def _enrolled_without_confirming(session: Session, user: User) -> User:
    begin_totp_enrolment(session, user, master_key=KEY)
    return user


def test_a_user_without_a_second_factor_signs_in_without_the_key(
    session: Session, user: User
) -> None:
    assert _sign_in(session, None, NOW, key=None).ok
