"""Database URL normalisation and masking (passwords must never reach logs or messages)."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from vigil.core.errors import ConfigurationError

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_SECRET_QUERY_KEYS = ("password", "passwd", "secret", "token", "sslpassword")
_MASK = "***"
# Fallback for strings SQLAlchemy cannot parse: hide anything between "://user:" and "@".
_USERINFO = re.compile(r"(://[^:/@]*:)[^@]*@")


def normalise_database_url(url: str | URL) -> URL:
    """Parse ``url``; plain ``postgresql://`` / ``postgres://`` get the psycopg 3 driver,
    the only PostgreSQL driver Vigil installs."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"invalid database URL {mask_url(str(url))!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r} in {mask_url(parsed)!r}; "
            "use sqlite:///path or postgresql+psycopg://user@host/db"
        )
    return parsed


def mask_url(url: str | URL) -> str:
    """``url`` with its password (and secret-looking query parameters) replaced by ``***``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return _USERINFO.sub(rf"\1{_MASK}@", str(url))
    masked_query = {
        key: (_MASK if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in parsed.query.items()
    }
    rendered = parsed.set(query=masked_query).render_as_string(hide_password=True)
    return rendered.replace("%2A%2A%2A", _MASK)  # query values come back percent-encoded


def sqlite_path(url: URL) -> str | None:
    """The file of a file-backed SQLite URL; None for PostgreSQL and in-memory SQLite."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return database
