"""Exceptions the data layer raises; the CLI and server turn them into messages and exit codes."""

from __future__ import annotations

from enum import StrEnum

# Defined in core (the settings raise them); named here too, as the data layer's errors.
from vigil.core.errors import ConfigurationError as ConfigurationError
from vigil.core.errors import StoreError as StoreError


class UnavailableReason(StrEnum):
    LOCKED = "locked"  # SQLite busy / PostgreSQL lock timeout: retrying later may work
    UNREACHABLE = "unreachable"  # server down, wrong host/port, unopenable file


class DatabaseUnavailable(StoreError):
    """The database cannot be used right now. ``str(exc)`` is a message fit for end users;
    it never contains a password."""

    def __init__(self, message: str, *, reason: UnavailableReason, url: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url  # already masked


class SchemaNotReady(StoreError):
    """The database has not been migrated (``vigil db upgrade``) or is from a newer Vigil."""


class AppendOnlyViolation(StoreError):
    """Code tried to rewrite history: edit/delete an audit event or hard-delete a list entry."""


class InvalidSignal(StoreError, ValueError):
    """A hash value does not fit its signal type (wrong length or not hexadecimal)."""
