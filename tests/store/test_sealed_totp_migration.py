"""Migration 0013 seals the second-factor secrets an older Vigil stored in plaintext (the
authenticator app keeps working), refuses without a master key when there are any, and 0012
opens them again; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa

from vigil.core.settings import Settings, load_settings
from vigil.store import create_engine, head_revision, open_database
from vigil.store.accounts import authenticate, hash_password
from vigil.store.accounts.totp import totp_purpose
from vigil.store.evidence import MasterKey, MasterKeyMissing
from vigil.store.migrate import current_revision, downgrade_database, upgrade_database
from vigil.store.sealed_secrets import open_secret

pytestmark = pytest.mark.usefixtures("cheap_argon2")

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32, as pyotp.random_base32 makes
PASSWORD = "a-long-enough-passphrase"
NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)
USER_ID = 12


def _user_at_0012(url: str, secret: str | None = SECRET) -> None:
    upgrade_database(url, "0012")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (id, username, display_name, password_hash, "
                "must_change_password, totp_secret, totp_enabled, totp_last_step, "
                "failed_sign_ins, created_at, created_by) VALUES (:id, 'dave', '', :hash, :no, "
                ":secret, :enabled, NULL, 0, :now, 'cli:root')"
            ),
            {
                "id": USER_ID,
                "hash": hash_password(PASSWORD),
                "no": False,
                "secret": secret,
                "enabled": secret is not None,
                "now": NOW,
            },
        )
    engine.dispose()


def _stored(url: str, column: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(sa.text(f"SELECT {column} FROM users")).scalar()
    engine.dispose()
    return value


def _settings(url: str, tmp_path: Path, key: MasterKey | None) -> Settings:
    evidence = {"master_key": base64.b64encode(key.material).decode()} if key else {}
    return load_settings(data_dir=tmp_path / "data", database_url=url, evidence=evidence)


def test_migration_0013_seals_existing_secrets_and_sign_in_still_works(
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    _user_at_0012(empty_database_url)
    key = MasterKey.generate()
    settings = _settings(empty_database_url, tmp_path, key)
    upgrade_database(settings)
    sealed = _stored(empty_database_url, "sealed_totp_secret")
    assert sealed is not None and SECRET not in sealed
    assert open_secret(key, sealed, totp_purpose(USER_ID)) == SECRET
    upgrade_database(settings)  # idempotent: nothing sealed twice
    assert _stored(empty_database_url, "sealed_totp_secret") == sealed

    later = NOW + timedelta(seconds=30)
    with open_database(empty_database_url) as database, database.session() as session:
        code = pyotp.TOTP(SECRET).at(later)  # the code the user's app shows
        assert authenticate(session, "dave", PASSWORD, totp_code=code, now=later, master_key=key).ok
        session.rollback()

    downgrade_database(settings, "0012")
    assert _stored(empty_database_url, "totp_secret") == SECRET


def test_migration_0013_without_a_key_refuses_rather_than_keep_them_readable(
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    _user_at_0012(empty_database_url)
    with pytest.raises(MasterKeyMissing, match="1 second-factor secret"):
        upgrade_database(_settings(empty_database_url, tmp_path, None))
    engine = create_engine(empty_database_url)
    assert current_revision(engine) == "0012"
    engine.dispose()
    assert _stored(empty_database_url, "totp_secret") == SECRET


def test_migration_0013_needs_no_key_without_second_factors(
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    _user_at_0012(empty_database_url, secret=None)
    upgrade_database(_settings(empty_database_url, tmp_path, None))
    engine = create_engine(empty_database_url)
    assert current_revision(engine) == head_revision()  # 0013 and every later revision
    engine.dispose()
    assert _stored(empty_database_url, "sealed_totp_secret") is None
