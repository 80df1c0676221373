"""Webhook signing secrets at rest: sealed under the master key, and migration 0011 seals the
plaintext ones an older Vigil stored (receivers keep verifying with the secret they have)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from vigil.core.settings import load_settings
from vigil.store import create_engine
from vigil.store.evidence import MasterKey, MasterKeyMissing
from vigil.store.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from vigil.store.sealed_secrets import SealedSecretError, is_sealed, open_secret, seal_secret

SECRET = "plain-old-secret-of-an-older-vigil-0123456789"


def test_sealing_round_trips_and_names_a_wrong_key() -> None:
    key = MasterKey.generate()
    sealed = seal_secret(key, SECRET, "webhook-endpoint")
    assert SECRET not in sealed and is_sealed(sealed) and not is_sealed(SECRET)
    assert seal_secret(key, SECRET, "webhook-endpoint") != sealed  # a fresh nonce each time
    assert open_secret(key, sealed, "webhook-endpoint") == SECRET
    other = MasterKey.generate()
    with pytest.raises(SealedSecretError, match=other.key_id):
        open_secret(other, sealed, "webhook-endpoint")
    with pytest.raises(SealedSecretError):
        open_secret(key, sealed, "totp")  # sealed for another purpose


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s[:-4] + "AAAA",  # ciphertext changed
        lambda s: s[:30],  # cut short
        lambda s: s.replace("v1:", "v2:"),
        lambda s: s + "!!",  # not base64
        lambda _s: "",
        lambda _s: "v1:" + "0" * 16 + ":",
    ],
)
def test_a_damaged_sealed_secret_is_refused(damage) -> None:  # type: ignore[no-untyped-def]
    key = MasterKey.generate()
    damaged = damage(seal_secret(key, SECRET, "webhook-endpoint"))
    with pytest.raises(SealedSecretError):
        open_secret(key, damaged, "webhook-endpoint")


def _endpoint_at_0010(url: str) -> None:
    upgrade_database(url, "0010")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO webhook_endpoints (id, url, secret, events, enabled, description, "
                "created_at, created_by) VALUES (7, 'https://8.8.8.8/h', :secret, '[\"verdict\"]', "
                ":enabled, '', :now, 'key:old')"
            ),
            {"secret": SECRET, "enabled": True, "now": datetime.now(UTC)},
        )
    engine.dispose()


def _stored(url: str, column: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(sa.text(f"SELECT {column} FROM webhook_endpoints")).scalar()
    engine.dispose()
    return str(value)


def test_migration_0011_seals_existing_secrets_and_0010_opens_them(
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    _endpoint_at_0010(empty_database_url)
    key = MasterKey.generate()
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=empty_database_url,
        evidence={"master_key": base64.b64encode(key.material).decode()},
    )
    upgrade_database(settings)
    sealed = _stored(empty_database_url, "sealed_secret")
    assert SECRET not in sealed
    assert open_secret(key, sealed, "webhook-endpoint") == SECRET
    upgrade_database(settings)  # idempotent: nothing sealed twice
    assert _stored(empty_database_url, "sealed_secret") == sealed

    downgrade_database(settings, "0010")
    assert _stored(empty_database_url, "secret") == SECRET


def test_migration_0011_without_a_key_refuses_rather_than_keep_them_readable(
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    _endpoint_at_0010(empty_database_url)
    keyless = load_settings(data_dir=tmp_path / "data", database_url=empty_database_url)
    with pytest.raises(MasterKeyMissing, match="1 webhook signing secret"):
        upgrade_database(keyless)
    engine = create_engine(empty_database_url)
    assert current_revision(engine) == "0010"
    engine.dispose()
    assert _stored(empty_database_url, "secret") == SECRET


def test_migration_0011_needs_no_key_without_endpoints(
    empty_database_url: str, tmp_path: Path
) -> None:
    upgrade_database(load_settings(data_dir=tmp_path / "data", database_url=empty_database_url))
    engine = create_engine(empty_database_url)
    assert current_revision(engine) == head_revision()  # 0011 and every later revision
    engine.dispose()
