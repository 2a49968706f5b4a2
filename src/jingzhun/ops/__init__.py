"""The operational store: people's work and the ledgers (imports, runs, cases, users, audit), in a
relational database through SQLAlchemy 2 — SQLite by default (``ops.sqlite`` in the data folder),
PostgreSQL by URL — with Alembic migrations."""

from jingzhun.ops.db import OpsStore, open_store

__all__ = ["OpsStore", "open_store"]
