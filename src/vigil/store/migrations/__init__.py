"""Alembic migrations, shipped inside the package; run them with vigil.store.upgrade_database."""
