"""What the exchange store refuses, in words fit for an operator."""

from __future__ import annotations

from vigil.store.errors import StoreError


class UnknownExchange(StoreError, LookupError):
    """No exchange of that name (or id)."""


class DuplicateExchange(StoreError):
    """An exchange of that name already exists."""


class InvalidExchangeSetting(StoreError, ValueError):
    """A setting (name, URL, credentials, interval, lists) that cannot be stored."""


class FeedbackStillPending(StoreError):
    """Removing the exchange would drop feedback reviewers queued for it."""
