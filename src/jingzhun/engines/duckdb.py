"""The embedded engine: DuckDB in memory over Arrow tables and Parquet files.

>>> import pyarrow as pa
>>> from sqlglot import exp
>>> eng = DuckDBEngine()
>>> eng.register_table("t", pa.table({"x": [1, 2, 3]}))
>>> eng.fetch_arrow(exp.select("MAX(x) AS s").from_("t")).to_pylist()
[{'s': 3}]
>>> eng.execute("SELECT nope FROM t")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
jingzhun.engines.base.QueryError: DuckDBEngine failed: Binder Error: ...
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from jingzhun.engines.base import Engine


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


class DuckDBEngine(Engine):
    DIALECT: ClassVar[str] = "duckdb"
    RESOURCE_OPTIONS: ClassVar[tuple[str, ...]] = ("threads", "memory_limit", "temp_directory")

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection | None = None,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        temp_directory: str | Path | None = None,
    ):
        """``memory_limit`` (e.g. ``"12GiB"``): DuckDB spills to ``temp_directory`` beyond it (by default
        DuckDB's own: ``.tmp`` in the working directory)."""
        self.con = connection or duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        if temp_directory:
            Path(temp_directory).mkdir(parents=True, exist_ok=True)
            self.con.execute("SET temp_directory = ?", [str(temp_directory)])
        self._arrow: dict[str, pa.Table] = {}
        self._views: set[str] = set()
        self._temps: set[str] = set()
        self._temp_views: set[str] = set()

    def register_table(self, name: str, data: pa.Table | str | Path | Sequence[str | Path]) -> None:
        self.drop(name)
        if isinstance(data, pa.Table):
            self.con.register(name, data)
            self._arrow[name] = data
            return
        paths = [str(data)] if isinstance(data, str | Path) else [str(p) for p in data]
        files = exp.Array(expressions=[exp.Literal.string(p) for p in paths]).sql("duckdb")
        self.execute(
            f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT * FROM read_parquet({files}, "
            "union_by_name = true, hive_partitioning = false)"
        )
        self._views.add(name)

    def has_table(self, name: str) -> bool:
        return name in self._arrow or name in self._views or name in self._temps or name in self._temp_views

    def drop(self, name: str) -> None:
        if name in self._arrow:
            self.con.unregister(name)
            del self._arrow[name]
        if name in self._views:
            self.execute(f"DROP VIEW IF EXISTS {_ident(name)}")
            self._views.discard(name)
        if name in self._temps:
            self.execute(f"DROP TABLE IF EXISTS {_ident(name)}")
            self._temps.discard(name)
        if name in self._temp_views:
            self.execute(f"DROP VIEW IF EXISTS {_ident(name)}")
            self._temp_views.discard(name)

    def materialize(self, name: str, tree: exp.Expr) -> None:
        if name in self._arrow or name in self._views or name in self._temp_views:
            self.drop(name)
        super().materialize(name, tree)
        self._temps.add(name)

    def create_view(self, name: str, tree: exp.Expr) -> None:
        if name in self._arrow or name in self._views or name in self._temps:
            self.drop(name)
        super().create_view(name, tree)
        self._temp_views.add(name)

    def _create_temp_sql(self, name: str, select_sql: str) -> str:
        return f"CREATE OR REPLACE TEMP TABLE {_ident(name)} AS {select_sql}"

    def _create_view_sql(self, name: str, select_sql: str) -> str:
        return f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS {select_sql}"

    def _execute(self, sql: str) -> Any:
        return self.con.execute(sql)

    def _fetch_arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def _fetch_batches(self, sql: str, batch_rows: int) -> pa.RecordBatchReader:
        return self.con.sql(sql).to_arrow_reader(batch_rows)

    def splink_api(self) -> Any:
        """Splink's ``DuckDBAPI`` on this engine's connection (see :meth:`Engine.splink_api`)."""
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def close(self) -> None:
        self.con.close()
