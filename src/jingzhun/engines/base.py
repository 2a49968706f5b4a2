"""The engine interface: register relations, turn sqlglot trees into the engine's dialect, run them.

Capabilities are class constants; :meth:`Engine.execute` is final and wraps every backend error together
with the SQL that failed. An engine for Spark implements the same ``_``-prefixed hooks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, final

import pyarrow as pa
from sqlglot import exp

from jingzhun.errors import JingzhunError


class QueryError(JingzhunError):
    """The engine rejected or failed a query; ``sql`` is the statement that failed."""

    def __init__(self, message: str, sql: str):
        self.sql = sql
        super().__init__(f"{message}\n-- failing SQL:\n{sql}")


class Engine(ABC):
    """One way of running the compiled trees."""

    #: sqlglot dialect name used by :meth:`sql`.
    DIALECT: ClassVar[str] = ""
    #: Temporary tables survive between statements of one engine object.
    SUPPORTS_TEMP_TABLES: ClassVar[bool] = True
    #: ``agg(x) FILTER (WHERE …)`` is supported.
    SUPPORTS_AGG_FILTER: ClassVar[bool] = True
    #: Relations can be registered straight from Parquet paths.
    SUPPORTS_PARQUET: ClassVar[bool] = True
    #: Resource options the constructor takes (``threads``, ``memory_limit``, ``temp_directory``).
    RESOURCE_OPTIONS: ClassVar[tuple[str, ...]] = ()

    def sql(self, tree: exp.Expr) -> str:
        """The tree as SQL text in this engine's dialect."""
        return tree.sql(dialect=self.DIALECT)

    @final
    def execute(self, sql: str) -> Any:
        """Run one statement; backend errors become :class:`QueryError` carrying the SQL."""
        try:
            return self._execute(sql)
        except JingzhunError:
            raise
        except Exception as exc:  # every backend has its own exception classes
            raise QueryError(f"{type(self).__name__} failed: {exc}", sql) from exc

    def fetch_arrow(self, tree: exp.Expr) -> pa.Table:
        """Run a SELECT and return its rows as an Arrow table."""
        sql = self.sql(tree)
        try:
            return self._fetch_arrow(sql)
        except JingzhunError:
            raise
        except Exception as exc:
            raise QueryError(f"{type(self).__name__} failed: {exc}", sql) from exc

    def fetch_batches(self, tree: exp.Expr, batch_rows: int = 131072) -> pa.RecordBatchReader:
        """Run a SELECT and return its rows as a stream of Arrow record batches (in the query's order),
        for writers that should not hold a large result in memory. Engines that can stream override
        :meth:`_fetch_batches`; the default fetches the whole result and streams it."""
        sql = self.sql(tree)
        try:
            return self._fetch_batches(sql, batch_rows)
        except JingzhunError:
            raise
        except Exception as exc:
            raise QueryError(f"{type(self).__name__} failed: {exc}", sql) from exc

    def _fetch_batches(self, sql: str, batch_rows: int) -> pa.RecordBatchReader:
        return self._fetch_arrow(sql).to_reader(max_chunksize=batch_rows)

    def materialize(self, name: str, tree: exp.Expr) -> None:
        """Store the rows of a SELECT as a temporary table ``name`` (replacing it)."""
        self.execute(self._create_temp_sql(name, self.sql(tree)))

    def create_view(self, name: str, tree: exp.Expr) -> None:
        """Define ``name`` as a temporary view of a SELECT (computed where used)."""
        self.execute(self._create_view_sql(name, self.sql(tree)))

    @abstractmethod
    def register_table(self, name: str, data: pa.Table | str | Path | Sequence[str | Path]) -> None:
        """Make an Arrow table, or Parquet file(s), queryable as ``name``."""

    @abstractmethod
    def has_table(self, name: str) -> bool:
        """Whether ``name`` is registered or materialized."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Forget a registered or materialized table (no error when absent)."""

    @abstractmethod
    def _execute(self, sql: str) -> Any: ...

    @abstractmethod
    def _fetch_arrow(self, sql: str) -> pa.Table: ...

    @abstractmethod
    def _create_temp_sql(self, name: str, select_sql: str) -> str: ...

    @abstractmethod
    def _create_view_sql(self, name: str, select_sql: str) -> str: ...

    def splink_api(self) -> Any:
        """A Splink ``DatabaseAPI`` working in this engine's catalogue, for probabilistic linkage.

        Contract (``jingzhun.link.probabilistic`` relies on it): relations registered or materialized on
        this engine can be passed to ``api.register(name)`` by name, and the tables Splink creates
        (``SplinkDataFrame.physical_name``) can be queried by trees run on this engine. Engines that
        cannot run Splink keep this default, which refuses with a clear error.
        """
        raise JingzhunError(
            f"引擎不支持概率匹配 / engine {type(self).__name__} cannot run probabilistic linkage (Splink)"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the engine's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
