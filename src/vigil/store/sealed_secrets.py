"""Secrets Vigil has to use again, not just check (a webhook's HMAC key, a TOTP secret), kept
sealed at rest under the evidence master key with AES-256-GCM.

A sealed secret is one line of text, ``v1:<master key id>:<base64url(nonce + ciphertext)>``:
it fits a text column, names the key it was sealed under (so a wrong key is reported as
such), and the purpose is authenticated, so a sealed value cannot be reused for another kind
of secret. A copy of the database alone reveals none of them.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vigil.store.errors import StoreError
from vigil.store.evidence.keys import NONCE_BYTES, MasterKey

FORMAT = "v1"
_CONTEXT = b"vigil-sealed-secret/v1:"
MAX_SEALED_LENGTH = 256  # a 43-character secret seals to about 120


class SealedSecretError(StoreError):
    """A sealed secret that cannot be opened: another master key, damage, or not sealed."""


def seal_secret(master_key: MasterKey, secret: str, purpose: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(master_key.material).encrypt(nonce, secret.encode(), _aad(purpose))
    text = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{FORMAT}:{master_key.key_id}:{text}"


def open_secret(master_key: MasterKey, sealed: str, purpose: str) -> str:
    version, key_id, text = _parts(sealed)
    if key_id != master_key.key_id:
        raise SealedSecretError(
            f"sealed under master key {key_id}, but key {master_key.key_id} is loaded"
        )
    try:
        raw = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
        opened = AESGCM(master_key.material).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(purpose)
        )
        return opened.decode()
    except (binascii.Error, ValueError, InvalidTag):
        # ValueError also covers a nonce cut short and bytes that are not UTF-8.
        raise SealedSecretError(
            f"a {version} sealed secret is damaged or not for {purpose!r}"
        ) from None


def reseal_secret(old_key: MasterKey, new_key: MasterKey, sealed: str, purpose: str) -> str:
    """The same secret sealed under ``new_key`` (master key rotation); raises
    SealedSecretError if ``sealed`` does not open under ``old_key``."""
    return seal_secret(new_key, open_secret(old_key, sealed, purpose), purpose)


def sealed_prefix(key_id: str) -> str:
    """How every value sealed under the key ``key_id`` begins: finds them in a query."""
    return f"{FORMAT}:{key_id}:"


def is_sealed(text: str) -> bool:
    try:
        _parts(text)
    except SealedSecretError:
        return False
    return True


def _parts(sealed: str) -> tuple[str, str, str]:
    version, _, rest = sealed.partition(":")
    key_id, _, text = rest.partition(":")
    if version != FORMAT or len(key_id) != 16 or not text:
        raise SealedSecretError("not a sealed secret")
    return version, key_id, text


def _aad(purpose: str) -> bytes:
    return _CONTEXT + purpose.encode()
