"""Pick an engine by name (``--engine duckdb|spark``), importing its backend only when asked for.

>>> sorted(ENGINES)
['duckdb', 'spark']
>>> make_engine("oracle")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
jingzhun.errors.JingzhunError: 未知引擎 / unknown engine 'oracle'; choose one of: duckdb, spark
"""

from __future__ import annotations

from typing import Any

from jingzhun.engines.base import Engine
from jingzhun.errors import JingzhunError

#: Engine name -> "module:class"; modules are imported lazily so that neither DuckDB nor pyspark is
#: needed to import Jingzhun.
ENGINES: dict[str, str] = {
    "duckdb": "jingzhun.engines.duckdb:DuckDBEngine",
    "spark": "jingzhun.engines.spark:SparkEngine",
}

#: Engines the whole monthly run (linkage and conflicts included) can use; the others evaluate policies.
PIPELINE_ENGINES: frozenset[str] = frozenset({"duckdb", "spark"})


def engine_class(name: str) -> type[Engine]:
    """The class of engine ``name`` (its module imported now)."""
    import importlib

    if name not in ENGINES:
        raise JingzhunError(
            f"未知引擎 / unknown engine {name!r}; choose one of: {', '.join(sorted(ENGINES))}"
        )
    module, _, cls = ENGINES[name].partition(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        extra = " (install the `spark` extra and Java 17)" if name == "spark" else ""
        raise JingzhunError(f"引擎未安装 / engine {name!r} is not installed here{extra}: {exc}") from exc
    engine: type[Engine] = getattr(mod, cls)
    return engine


def make_engine(name: str = "duckdb", **opts: Any) -> Engine:
    """A new engine: ``make_engine("duckdb", threads=4)``, ``make_engine("spark", master="local[2]")``."""
    return engine_class(name)(**opts)


def check_pipeline_engine(name: str) -> None:
    """Raise a clear error when the monthly run cannot use engine ``name`` (yet).

    >>> check_pipeline_engine("duckdb"), check_pipeline_engine("spark")
    (None, None)
    >>> check_pipeline_engine("oracle")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    jingzhun.errors.JingzhunError: 未知引擎 / unknown engine 'oracle'; choose one of: duckdb, spark
    """
    if name not in ENGINES:
        engine_class(name)
    if name not in PIPELINE_ENGINES:
        raise JingzhunError(
            f"月度运行暂不支持该引擎 / the monthly run cannot use engine {name!r}: it evaluates policies only. "
            f"Use one of: {', '.join(sorted(PIPELINE_ENGINES))}"
        )
