"""The clearinghouse's Ed25519 key that signs referral packages, so an agency can tell that a
package came from the clearinghouse and was not changed on the way.

The private key lives in a 0600 PEM file (PKCS#8, unencrypted: the server signs unattended),
by default ``signing.key`` beside the evidence master key and, like it, outside the data
directory. It is created on first use; an existing file is never replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vigil.core.errors import ConfigurationError
from vigil.core.files import create_atomically
from vigil.core.settings import Settings
from vigil.store.evidence.keys import default_master_key_path

SIGNING_KEY_FILE_NAME = "signing.key"
MAX_KEY_FILE_BYTES = 16 * 1024  # an Ed25519 PEM is about 120 bytes


class SigningKeyError(ConfigurationError):
    """The signing key file is unusable (unreadable, shared with others, or not a key)."""


def default_signing_key_path(settings: Settings) -> Path:
    """``agency.signing_key_file``, else ``signing.key`` in the master key's folder."""
    if settings.agency.signing_key_file is not None:
        return settings.agency.signing_key_file.expanduser()
    master = settings.evidence.master_key_file
    folder = master.expanduser().parent if master is not None else default_master_key_path().parent
    return folder / SIGNING_KEY_FILE_NAME


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``; a new one written there (0600) when the file does not exist."""
    path = path.expanduser()
    if not path.exists() and not path.is_symlink():
        with contextlib.suppress(FileExistsError):  # another worker won: read theirs below
            return _create(path)
    return _read(path)


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, for comparing with the published one by eye."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError for anything else."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _create(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # 0600, and FileExistsError rather than replace a key another worker created.
    create_atomically(path, pem, temporary_prefix=".signing-key-")
    return key


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        with path.open("rb") as key_file:
            pem = key_file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise SigningKeyError(
            f"cannot read the package signing key file {path}: {exc.__class__.__name__}"
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"the package signing key file {path} is readable by other users; chmod 600 it"
        )
    if not stat.S_ISREG(mode) or len(pem) > MAX_KEY_FILE_BYTES:
        raise SigningKeyError(f"the package signing key file {path} is not a key file")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        # The parser's message could quote key material: say only what is wrong.
        raise SigningKeyError(
            f"the package signing key file {path} does not hold an unencrypted PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the package signing key file {path} is not an Ed25519 key")
    return key
