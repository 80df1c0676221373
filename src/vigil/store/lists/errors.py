"""Errors of the hash-list operations; every message is fit to show the operator as is."""

from __future__ import annotations

from vigil.store.errors import StoreError


class UnknownList(StoreError, LookupError):
    """No hash list has that name."""


class DuplicateList(StoreError):
    """A hash list with that name already exists."""


class UnknownEntry(StoreError, LookupError):
    """No entry with that id (in that list)."""


class InvalidListSetting(StoreError, ValueError):
    """A list name or setting is out of range."""


class StatusChangeRefused(StoreError):
    """The entry's status cannot change that way (e.g. enabling an entry its source deleted)."""


class ImportRefused(StoreError):
    """The file cannot be imported at all (unreadable, unknown format, option that does not
    apply); nothing was stored."""
