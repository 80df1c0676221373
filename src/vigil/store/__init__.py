"""The database: engines and sessions, migrations, the models, and the persistence each
domain needs, in folders named for what they hold.

- ``database``, ``migrate`` + ``migrations/``, ``models/``, ``errors``: SQLite or PostgreSQL,
  the schema and its upgrades, the errors callers see (DatabaseUnavailable, SchemaNotReady);
- ``lists/``: the hash-list catalogue, entries, imports, exports, the change feed the match
  index follows, match counts and the flood guard's suspicions;
- ``records/``: match records, review cases and the webhook outbox;
- ``exchanges/``: configured hash exchanges (sealed credentials), checkpoints and fetch
  state, the feedback queue;
- ``shared/``: the few rules several domain services share (vocabulary, report links, rescoring);
- ``accounts/``, ``audit/``, ``evidence/``: users and keys, the append-only audit log, the
  encrypted evidence vault;
- ``sealed_secrets``, ``key_rotation``, ``job_locks``, ``affected_rows``: secrets sealed at
  rest, master-key rotation, database-level job locks, a portable row count.
May import vigil.core, vigil.fingerprint, vigil.index and vigil.lists; never services or interfaces.
"""

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
from vigil.store.lists import change_feed as change_feed  # registers the ORM flush hooks
from vigil.store.migrate import ensure_current_schema, head_revision, upgrade_database

__all__ = [
    "AppendOnlyViolation",
    "ConfigurationError",
    "Database",
    "DatabaseUnavailable",
    "InvalidSignal",
    "SchemaNotReady",
    "StoreError",
    "UnavailableReason",
    "create_engine",
    "ensure_current_schema",
    "head_revision",
    "open_database",
    "upgrade_database",
]
