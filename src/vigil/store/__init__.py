"""Database models and migrations (SQLAlchemy 2 + Alembic), the change feed and the list
catalogue/imports (later also the encrypted evidence store). The only layer that opens
database connections. The settings live in ``vigil.core.settings`` (re-exported here).

Owns:
- ``database``: engines and sessions for SQLite (WAL, foreign keys, busy timeout) and
  PostgreSQL (psycopg 3), with locked/unreachable errors raised as DatabaseUnavailable;
- ``models``: the tables, split by domain (lists, imports, scans, matches, feed);
- ``change_feed``: the commit-ordered change sequence the in-memory match index follows;
- ``match_stats``: hourly per-entry match counts for the flood guard;
- ``migrate`` + ``migrations/``: packaged Alembic migrations (``upgrade_database``).
May import vigil.core, vigil.fingerprint, vigil.index and vigil.lists; never services or interfaces.
"""

from vigil.core.database_urls import mask_url
from vigil.core.settings import Settings, find_config_file, load_settings
from vigil.store import change_feed as change_feed  # registers the ORM flush hooks
from vigil.store.database import Database, create_engine, open_database
from vigil.store.errors import (
    AppendOnlyViolation,
    ConfigurationError,
    DatabaseUnavailable,
    InvalidSignal,
    SchemaNotReady,
    StoreError,
    UnavailableReason,
)
from vigil.store.migrate import ensure_current_schema, head_revision, upgrade_database

__all__ = [
    "AppendOnlyViolation",
    "ConfigurationError",
    "Database",
    "DatabaseUnavailable",
    "InvalidSignal",
    "SchemaNotReady",
    "Settings",
    "StoreError",
    "UnavailableReason",
    "create_engine",
    "ensure_current_schema",
    "find_config_file",
    "head_revision",
    "load_settings",
    "mask_url",
    "open_database",
    "upgrade_database",
]
