"""Password hashing (argon2) and the password policy, including hostile input."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from vigil.store.accounts import (
    MAX_PASSWORD_LENGTH,
    WeakPassword,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

GOOD = "correct horse battery staple"


def test_hash_verifies_only_the_same_password() -> None:
    digest = hash_password(GOOD)
    assert digest.startswith("$argon2id$") and GOOD not in digest
    assert verify_password(digest, GOOD)
    assert not verify_password(digest, GOOD.upper())
    assert hash_password(GOOD) != digest  # salted


@pytest.mark.parametrize(
    "bad_hash", ["", "plain", "$argon2id$v=19$m=1,t=1,p=1$xx$yy", "$2b$12$" + "a" * 53, "\x00" * 10]
)
def test_malformed_hash_is_a_mismatch_not_an_error(bad_hash: str) -> None:
    assert verify_password(bad_hash, GOOD) is False
    assert needs_rehash(bad_hash) is True


def test_verify_survives_hostile_passwords() -> None:
    digest = hash_password(GOOD)
    assert verify_password(digest, "") is False
    assert verify_password(digest, "\x00" * 64) is False
    assert verify_password(digest, "🔒" * (MAX_PASSWORD_LENGTH + 1)) is False


def test_needs_rehash_spots_weaker_parameters() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(GOOD)
    assert needs_rehash(weak) and verify_password(weak, GOOD)
    assert not needs_rehash(hash_password(GOOD))


def test_unicode_password_round_trips() -> None:
    password = "pässwörd-ünïcödé-🔒-密码"
    digest = hash_password(password)
    check_password_policy(password, username="alice")
    assert verify_password(digest, password)
    assert not verify_password(digest, "pässwörd-ünïcödé-🔒-密")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-1", "at least 12"),
        ("x" * 11, "at least 12"),
        ("ab" * (MAX_PASSWORD_LENGTH // 2 + 1), "at most"),
        ("alice-2026-spring", "username"),
        ("MyALICEpassword", "username"),
        ("a" * 40, "repeated"),
    ],
)
def test_policy_names_the_rule_and_never_the_password(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword, match=rule) as caught:
        check_password_policy(password, username="Alice")
    assert password not in str(caught.value)


def test_policy_accepts_a_long_passphrase_and_honours_min_length() -> None:
    check_password_policy(GOOD, username="alice")
    check_password_policy("x" * 6 + "y" * 2, username="alice", min_length=8)
    with pytest.raises(WeakPassword):
        check_password_policy(GOOD, username="alice", min_length=40)
    check_password_policy("z" * 12 + "q" * (MAX_PASSWORD_LENGTH - 12), username="alice")
