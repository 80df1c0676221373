"""The errors the bottom layer raises. ``StoreError`` is defined here, below the data layer
that names it, so that a bad setting stays a ``StoreError``: the CLI and the server turn
every ``StoreError`` into a one-line message or a 503, a configuration error included."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for every error raised by ``vigil.store`` (and by the settings)."""


class ConfigurationError(StoreError):
    """The configuration file or environment is invalid; the message says which setting."""
