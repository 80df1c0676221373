"""Password hashing (argon2id, argon2-cffi's defaults) and the password policy."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vigil.store.accounts.errors import WeakPassword

# Argon2 pre-hashes its input, but a megabyte "password" still costs work and memory on every
# attempt; nobody types more than this.
MAX_PASSWORD_LENGTH = 1024

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False on a mismatch or a malformed hash, never raises."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError, TypeError, ValueError):
        return False


def verify_decoy(password: str) -> None:
    """Spend the work of one verify_password on a throw-away hash. Used when there is no
    account to check, so an unknown name answers as slowly as a wrong password and response
    times do not reveal which names exist."""
    bounded = password[:MAX_PASSWORD_LENGTH] if isinstance(password, str) else ""
    verify_password(_decoy_hash(_HASHER), bounded)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (or is unreadable)."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, TypeError, ValueError):
        return True


@functools.cache
def _decoy_hash(hasher: PasswordHasher) -> str:
    # Made on first use with the hasher's current parameters, not at import time.
    return hasher.hash("vigil-timing-decoy-not-a-real-password")


def check_password_policy(password: str, *, username: str, min_length: int = 12) -> None:
    """Raise WeakPassword naming the broken rule; the message never contains the password.

    Length is the rule that matters; composition rules push people to predictable patterns.
    """
    if not isinstance(password, str) or len(password) < min_length:
        raise WeakPassword(f"the password must have at least {min_length} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("the password must not contain the username")
    if len(set(password)) == 1:
        raise WeakPassword("the password must not be one character repeated")
