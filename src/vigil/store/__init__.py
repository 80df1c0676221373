"""Database models and migrations (SQLAlchemy 2 + Alembic), configuration, and the encrypted
evidence store.
The only layer that opens database connections.
"""
