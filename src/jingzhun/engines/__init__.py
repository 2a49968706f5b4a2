"""Execution engines: the only place that knows an engine's SQL dialect and API.

``jingzhun.engines.base.Engine`` is the interface; ``jingzhun.engines.duckdb.DuckDBEngine`` the embedded
default (import it from its module so that importing this package needs neither DuckDB nor Spark).
"""

from jingzhun.engines.base import Engine, QueryError

__all__ = ["Engine", "QueryError"]
