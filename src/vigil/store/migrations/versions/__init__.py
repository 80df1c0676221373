"""Migration revisions, oldest first (Alembic ignores this file)."""
