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

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigil.store.config import Settings
from vigil.store.evidence.errors import MasterKeyMissing

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # the GCM standard nonce; random nonces are safe since every key is used once
_WRAP_CONTEXT = b"vigil-evidence-key/v1:"
_GENERATE_HINT = (
    "generate one with: python -c \"import base64, os; "
    "print(base64.b64encode(os.urandom(32)).decode())\" and keep it outside the data directory"
)


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


def load_master_key(settings: Settings) -> MasterKey:
    """The configured master key; raises MasterKeyMissing rather than ever generating one."""
    secret = settings.evidence.master_key
    if secret is not None:
        return MasterKey.from_base64(secret.get_secret_value())
    path = settings.evidence.master_key_file
    if path is None:
        raise MasterKeyMissing(
            "no evidence master key: set VIGIL_EVIDENCE__MASTER_KEY (base64 of 32 bytes) or "
            f"evidence.master_key_file; {_GENERATE_HINT}"
        )
    return _read_key_file(path.expanduser())


def _read_key_file(path: Path) -> MasterKey:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyMissing(f"cannot read the evidence master key file {path}: "
                               f"{exc.__class__.__name__}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyMissing(
            f"the evidence master key file {path} is readable by other users; chmod 600 it"
        )
    return MasterKey.from_base64(text)
