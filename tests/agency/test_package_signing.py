"""The package signing key file: created private, reused, and refused when other users can
read it or when it does not hold an Ed25519 private key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from vigil.agency.signing import (
    SigningKeyError,
    default_signing_key_path,
    load_or_create_signing_key,
    load_public_key,
    public_key_pem,
    sign,
    verify,
)
from vigil.core.settings import Settings

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def test_created_0600_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.key"
    key = load_or_create_signing_key(path)
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_signing_key(path)
    assert public_key_pem(again) == public_key_pem(key)
    signature = sign(again, b"manifest")
    assert verify(key.public_key(), b"manifest", signature)
    assert not verify(key.public_key(), b"manifest!", signature)
    assert load_public_key(public_key_pem(key)) == key.public_key()


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "signing.key"
    load_or_create_signing_key(path)
    path.chmod(mode)
    with pytest.raises(SigningKeyError, match="readable by other users"):
        load_or_create_signing_key(path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a key at all",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\x00" * 20_000,
    ],
)
def test_malformed_key_file_is_refused_without_quoting_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "signing.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(SigningKeyError) as raised:
        load_or_create_signing_key(path)
    assert "AAAA" not in str(raised.value)
    assert path.read_bytes() == content  # never replaced


def test_a_key_of_another_algorithm_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing.key"
    other = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="not an Ed25519 key"):
        load_or_create_signing_key(path)


def test_a_public_key_of_another_algorithm_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        load_public_key(pem)
    with pytest.raises(ValueError):
        load_public_key(b"garbage")


def test_default_path_is_beside_the_master_key(tmp_path: Path) -> None:
    master = tmp_path / "secrets" / "master.key"
    settings = Settings(evidence={"master_key_file": master})
    assert default_signing_key_path(settings) == tmp_path / "secrets" / "signing.key"
    chosen = tmp_path / "elsewhere.key"
    settings = Settings(evidence={"master_key_file": master}, agency={"signing_key_file": chosen})
    assert default_signing_key_path(settings) == chosen
    default = default_signing_key_path(Settings())
    assert default.name == "signing.key"
    assert default.parent.name == "vigil"
