"""Exceptions the accounts layer raises. Messages never contain a password, token or code."""

from __future__ import annotations

from vigil.store.errors import StoreError


class AccountError(StoreError):
    """Base class for every error raised by ``vigil.store.accounts``."""


class InvalidCredentials(AccountError):
    """A password, token or code was not accepted. Deliberately vague: saying which part was
    wrong (unknown name, bad secret, revoked, expired) would help someone guessing."""

    def __init__(self, message: str = "invalid credentials") -> None:
        super().__init__(message)


class WeakPassword(AccountError, ValueError):
    """A new password fails the policy; the message says which rule, never the password."""


class InvalidScope(AccountError, ValueError):
    """An API key scope is unknown, may not be granted to keys, or none was given."""


class DuplicateUser(AccountError, ValueError):
    """A user with that name (compared case-insensitively) already exists."""


class UnknownAccount(AccountError, LookupError):
    """No user or API key by that name or prefix."""


class InvalidAccountInput(AccountError, ValueError):
    """A username, role, key name or limit is malformed."""


class SecondApproverRequired(AccountError):
    """A grant of media access may not be approved by whoever asked for it, whoever would
    receive it, or an account the asker created or made an administrator."""


class GrantClosed(AccountError):
    """The grant was decided already, or what it would change has changed since it was
    asked for (ask again)."""


class SecondFactorUnavailable(AccountError):
    """A second factor that cannot be checked: no evidence master key is configured, or the
    sealed secret does not open under it (another key, damage). Neither accepted nor counted
    as a wrong code: the operator has to fix the key."""
