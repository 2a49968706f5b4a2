from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def rows_of(path: Path, sql: str = "SELECT * FROM t ORDER BY _row") -> list[dict]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{path}', hive_partitioning=false)")
    rel = con.sql(sql)
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


@pytest.fixture
def parquet_rows():
    return rows_of
