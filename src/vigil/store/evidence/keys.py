"""The master key and the per-item data keys it wraps (AES-256-GCM for both).

Each item gets its own random data key; only the wrapped form is stored, in the item's row.
Destroying that row's wrapped key destroys the item (crypto-shredding) without touching the
master key or any other item.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigil.core.files import create_atomically
from vigil.core.settings import Settings
from vigil.store.evidence.errors import EvidenceError, MasterKeyMissing

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random nonces are safe since every key is used once
_WRAP_CONTEXT = b"vigil-evidence-key/v1:"
KEY_FILE_NAME = "master.key"
_GENERATE_HINT = (
    'create one with `vigil evidence new-key`, or generate one with: python -c "import '
    'base64, os; print(base64.b64encode(os.urandom(32)).decode())", and keep it outside the '
    "data directory"
)


class MasterKeyFileExists(EvidenceError):
    """A key file is already there; replacing it would make everything sealed under it
    unreadable, so it is never overwritten."""


@dataclass(frozen=True)
class MasterKey:
    """The key that wraps every data key. Its repr never shows the key."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise MasterKeyMissing(f"the evidence master key must be {KEY_BYTES} bytes")

    @property
    def key_id(self) -> str:
        """A short public fingerprint, stored per item so a wrong key is named as such."""
        return hashlib.sha256(b"vigil-evidence-key-id:" + self.material).hexdigest()[:16]

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(AESGCM.generate_key(bit_length=256))

    @classmethod
    def from_base64(cls, text: str) -> MasterKey:
        try:
            material = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyMissing("the evidence master key is not valid base64") from None
        return cls(material)

    def wrap(self, data_key: bytes, item_id: str) -> tuple[bytes, bytes]:
        """(nonce, wrapped key); the item id is authenticated so a key cannot move rows."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce, AESGCM(self.material).encrypt(nonce, data_key, _wrap_aad(item_id))

    def unwrap(self, nonce: bytes, wrapped: bytes, item_id: str) -> bytes:
        """The data key; raises cryptography's InvalidTag, which the vault translates."""
        return AESGCM(self.material).decrypt(nonce, wrapped, _wrap_aad(item_id))


def _wrap_aad(item_id: str) -> bytes:
    return _WRAP_CONTEXT + item_id.encode("ascii")


def default_master_key_path() -> Path:
    """``<user config dir>/master.key``, e.g. ``~/.config/vigil/master.key`` on Linux.

    Deliberately not in the data directory: a key beside the evidence and the database ends
    up in the same backups and protects nothing."""
    return platformdirs.user_config_path("vigil", appauthor=False) / KEY_FILE_NAME


def load_master_key(settings: Settings) -> MasterKey:
    """The configured master key, else the one at :func:`default_master_key_path`; raises
    MasterKeyMissing rather than ever generating one."""
    secret = settings.evidence.master_key
    if secret is not None:
        return MasterKey.from_base64(secret.get_secret_value())
    path = settings.evidence.master_key_file
    if path is not None:
        return _read_key_file(path.expanduser())
    default = default_master_key_path()
    if default.is_file():
        return _read_key_file(default)
    raise MasterKeyMissing(
        "no evidence master key: set VIGIL_EVIDENCE__MASTER_KEY (base64 of 32 bytes) or "
        f"evidence.master_key_file, or put a key file at {default}; {_GENERATE_HINT}"
    )


def ensure_master_key(settings: Settings) -> tuple[MasterKey, Path | None]:
    """The configured or default key; on a first run, a new key written to
    :func:`default_master_key_path`, whose path is returned so the caller can tell the
    operator, loudly, to back it up apart from the data (``None`` when nothing was created).
    """
    evidence = settings.evidence
    path = default_master_key_path()
    if evidence.master_key is not None or evidence.master_key_file is not None or path.is_file():
        return load_master_key(settings), None
    resolved = path.resolve()
    if resolved.is_relative_to(settings.data_dir) or resolved.is_relative_to(
        settings.evidence_dir.resolve()
    ):
        raise MasterKeyMissing(
            f"refusing to create the evidence master key at {path}, inside the data "
            f"directory {settings.data_dir}; {_GENERATE_HINT}"
        )
    try:
        return write_master_key_file(path), path
    except MasterKeyFileExists:  # another worker created it first: use theirs
        return _read_key_file(path), None


def write_master_key_file(path: Path) -> MasterKey:
    """Create a new random key in a new 0600 file (its folder 0700 if created here).

    Raises MasterKeyFileExists rather than overwrite anything. The key is written to a
    temporary file first and then hard-linked into place, so the path never shows a partial
    key and two concurrent creators cannot both win."""
    path = path.expanduser()
    if path.exists() or path.is_symlink():
        raise _exists(path)
    key = MasterKey.generate()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Evidence may be sealed under this key at once: its name must survive a power cut,
    # which create_atomically's synced folder makes sure of.
    encoded = base64.b64encode(key.material) + b"\n"
    try:
        create_atomically(path, encoded, temporary_prefix=".master-key-")
    except FileExistsError:
        raise _exists(path) from None
    return key


def _exists(path: Path) -> MasterKeyFileExists:
    return MasterKeyFileExists(
        f"{path} already exists; refusing to overwrite an evidence master key (everything "
        "sealed under it would become unreadable)"
    )


def read_master_key_file(path: Path) -> MasterKey:
    """The key in the file at ``path`` (e.g. the new key of a rotation); raises
    MasterKeyMissing if it is unreadable, readable by others, or not a key."""
    return _read_key_file(path.expanduser())


def _read_key_file(path: Path) -> MasterKey:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyMissing(
            f"cannot read the evidence master key file {path}: {exc.__class__.__name__}"
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyMissing(
            f"the evidence master key file {path} is readable by other users; chmod 600 it"
        )
    return MasterKey.from_base64(text)
