"""Store tests use the repository-wide database fixtures of tests/db.py (see tests/conftest.py)."""
