"""Migration 0002 goes down and up again on SQLite and PostgreSQL, triggers included."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from jingzhun.ops.db import alembic_config


def _migrate(store, target: str, up: bool) -> None:
    with store.engine.begin() as connection:
        config = alembic_config(store.url)
        config.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(config, target)


def test_downgrade_and_upgrade_again(store):
    _migrate(store, "0001", up=False)
    tables = set(inspect(store.engine).get_table_names())
    assert "audit_log" not in tables and "monitoring_case" not in tables and "import_ledger" in tables
    _migrate(store, "0002", up=True)
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, object_type) "
                "VALUES (CURRENT_TIMESTAMP, 'a', 'b', 'c')"
            )
        )
    with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
