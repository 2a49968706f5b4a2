"""The PostgreSQL fallback a fresh machine uses when no server answers on 127.0.0.1:5432."""

from __future__ import annotations

import psycopg
import pytest

from conftest_pg import find_pg_bin, throwaway_postgres

pytestmark = pytest.mark.postgres


@pytest.mark.skipif(find_pg_bin() is None, reason="PostgreSQL binaries (Debian package postgresql) not installed")
def test_throwaway_server_starts_serves_and_stops() -> None:
    with throwaway_postgres() as admin:
        with psycopg.connect(**admin, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (41), (1)")
            assert conn.execute("SELECT sum(x) FROM t").fetchone() == (42,)
        port = admin["port"]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2)
