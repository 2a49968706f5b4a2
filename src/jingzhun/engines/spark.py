"""Apache Spark as an engine: the same sqlglot trees, written in Spark SQL, over temp views.

Each :class:`SparkEngine` works in its own ``SparkSession.newSession()`` (own temp views and SQL settings,
shared SparkContext), so engines created one after another in a process never see each other's tables.
Relations are temp views: Arrow tables become DataFrames (Arrow transfer on), Parquet paths are read with
``mergeSchema``; :meth:`SparkEngine.materialize` caches the SELECT's DataFrame (lazily: computed once,
on first use) under a temp view.

Spark-dialect gaps of sqlglot and DuckDB/Spark differences in results are fixed in ONE place,
:func:`spark_tree`, which rewrites a copy of each tree before it is written as Spark SQL; nothing else in
Jingzhun asks which engine it runs on. ``pyspark`` is imported only when an engine is created, so the rest
of the package works without it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from sqlglot import exp

from jingzhun.engines.base import Engine, QueryError
from jingzhun.errors import JingzhunError

#: Settings every Jingzhun Spark session gets; the ones marked (parity) make results identical to DuckDB.
SESSION_CONF: dict[str, str] = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.sql.session.timeZone": "UTC",  # (parity) dates never shift
    "spark.sql.jsonGenerator.ignoreNullFields": "false",  # (parity) evidence keeps null values
    "spark.sql.ansi.enabled": "false",  # (parity) x / 0 is NULL as in DuckDB, not an error
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.parquet.mergeSchema": "true",
    # the optimizer derives constraints from every alias of the wide policy stage tables, which grows
    # exponentially (driver heap exhausted on one stage query); the plans gain nothing from it
    "spark.sql.constraintPropagation.enabled": "false",
}

#: Settings for a small local session (tests, a laptop); a cluster sets its own.
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "2g",
    "spark.sql.adaptive.enabled": "true",
    "spark.log.level": "ERROR",
    "spark.ui.showConsoleProgress": "false",
    # the driver keeps the plans of the last N SQL executions, jobs and stages even without the UI; the
    # compiled policy plans are large and a run makes thousands of queries (driver heap)
    "spark.sql.ui.retainedExecutions": "20",
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "50",
    "spark.ui.retainedTasks": "1000",
}


def _quote(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("spark")


def spark_session(
    master: str | None = None,
    conf: dict[str, str] | None = None,
    *,
    app_name: str = "jingzhun",
    splink_jar: bool = True,
) -> Any:
    """The process's SparkSession (``getOrCreate``), with :data:`SESSION_CONF` and, for a ``local``
    master, :data:`LOCAL_CONF`. ``splink_jar`` puts Splink's similarity UDF jar on the classpath
    (``JARO_WINKLER`` and friends for linkage on Spark). ``master`` defaults to ``$JINGZHUN_SPARK_MASTER``,
    then under ``spark-submit`` to what spark-submit set, else ``local[*]``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise JingzhunError(
            "Spark 引擎需要 pyspark / the Spark engine needs pyspark: install the `spark` extra (pip install 'jingzhun[spark]') "
            "and Java 17"
        ) from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = master or os.environ.get("JINGZHUN_SPARK_MASTER")
    if not master and "PYSPARK_GATEWAY_PORT" not in os.environ:
        # not under spark-submit (which sets the master and starts the JVM): every core of this machine,
        # with the small-machine settings
        master = "local[*]"
    builder = SparkSession.builder.appName(app_name)
    settings = dict(SESSION_CONF)
    if master:
        builder = builder.master(master)
        if master.startswith("local"):
            settings = {**LOCAL_CONF, **settings}
    settings.update(conf or {})
    if splink_jar:
        jar = _splink_jar()
        if jar:
            settings["spark.jars"] = ",".join(x for x in (settings.get("spark.jars"), jar) if x)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _splink_jar() -> str | None:
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:  # pragma: no cover - splink is a core dependency
        return None
    return str(similarity_jar_location())


# --- the one place where trees are adapted to Spark -------------------------------------------------------


def _double_division(tree: exp.Expr) -> None:
    """DuckDB's ``/`` always gives a DOUBLE; Spark's keeps DECIMAL for decimals (other digits, other
    JSON). Divide as DOUBLE on Spark too."""
    for div in list(tree.find_all(exp.Div)):
        div.set("this", exp.cast(div.this, "DOUBLE"))


def _double_average(tree: exp.Expr) -> None:
    """DuckDB's AVG of a DECIMAL is a DOUBLE; Spark's a DECIMAL(p+4, s+4). Average as DOUBLE."""
    for avg in list(tree.find_all(exp.Avg)):
        avg.set("this", exp.cast(avg.this, "DOUBLE"))


def _rounded_text(tree: exp.Expr) -> None:
    """``CAST(ROUND(x, n) AS VARCHAR)`` (explanation text, ``jingzhun.policy.flags.fmt``): a DECIMAL prints
    the same on both engines, but a DOUBLE prints ``1.0E7`` on Spark and ``10000000.0`` on DuckDB. For a
    DOUBLE, print it as DuckDB does: fixed notation, trailing zeros dropped but one decimal kept."""
    for cast in list(tree.find_all(exp.Cast)):
        rnd = cast.this
        if not (cast.to.is_type(*exp.DataType.TEXT_TYPES) and isinstance(rnd, exp.Round)):
            continue
        digits = rnd.args.get("decimals")
        if not (isinstance(digits, exp.Literal) and digits.is_int and int(digits.name) > 0):
            continue
        # DuckDB rounds a DOUBLE as C does, round(x * 10^n) / 10^n on the binary value; Spark's ROUND(x, n)
        # rounds the shortest decimal text of x (2458.575 → 2458.58 where DuckDB gives 2458.57). Spark's
        # ROUND(y, 0) of the product agrees with C's round (half away from zero, on the value itself).
        scale = exp.cast(exp.Literal.number(10 ** int(digits.name)), "DOUBLE")
        as_duckdb = exp.Div(this=exp.Round(this=exp.Mul(this=exp.cast(rnd.this.copy(), "DOUBLE"), expression=scale),
                                           decimals=exp.Literal.number(0)), expression=scale.copy())
        fixed = exp.cast(exp.cast(as_duckdb, f"DECIMAL(38, {int(digits.name)})"), "STRING")
        trimmed = exp.func(
            "REGEXP_REPLACE", fixed, exp.Literal.string("([.][0-9]*?[0-9])0+$"), exp.Literal.string("$1")
        )
        is_double = exp.In(
            this=exp.func("TYPEOF", rnd.copy()),
            expressions=[exp.Literal.string("double"), exp.Literal.string("float")],
        )
        cast.replace(exp.Case().when(is_double, trimmed).else_(exp.cast(rnd.copy(), "STRING")))


def _null_for_no_records(tree: exp.Expr) -> None:
    """DuckDB's ARRAY_AGG over no rows (all filtered out) is NULL; Spark's COLLECT_LIST an empty array.
    Give NULL on Spark too (evidence ``records`` lists print ``null`` on both)."""
    for srt in list(tree.find_all(exp.ArraySort)):
        agg = srt.this
        inner = agg.this if isinstance(agg, exp.Filter) else agg
        if not isinstance(inner, exp.ArrayAgg):
            continue
        empty = exp.EQ(this=exp.func("SIZE", agg.copy()), expression=exp.Literal.number(0))
        srt.replace(exp.If(this=empty, true=exp.Null(), false=srt.copy()))


#: The rewrites :func:`spark_tree` applies, in order (each mutates the copy in place).
SPARK_REWRITES = (_double_division, _double_average, _rounded_text, _null_for_no_records)


def spark_tree(tree: exp.Expr) -> exp.Expr:
    """A copy of ``tree`` rewritten where Spark and DuckDB differ (see :data:`SPARK_REWRITES`).

    >>> from sqlglot import parse_one
    >>> spark_tree(parse_one("SELECT a / b AS r, AVG(c) AS m FROM t", read="duckdb")).sql("spark")
    'SELECT CAST(a AS DOUBLE) / b AS r, AVG(CAST(c AS DOUBLE)) AS m FROM t'
    """
    out = tree.copy()
    for rewrite in SPARK_REWRITES:
        rewrite(out)
    return out


class SparkEngine(Engine):
    """Policies and the monthly run on Spark (local or a cluster).

    ``session``: an existing SparkSession (its ``newSession()`` is used); otherwise
    :func:`spark_session` with ``master`` and ``conf``. ``materialize``: how a step is stored:
    ``"checkpoint"`` (default: computed now, kept in the executors' block store with its lineage cut, so
    later plans stay small), ``"cache"`` (computed on first use, lineage kept) or ``"view"`` (not stored).
    """

    DIALECT: ClassVar[str] = "spark"
    SUPPORTS_TEMP_TABLES: ClassVar[bool] = True
    #: Spark 3+ supports ``agg(x) FILTER (WHERE …)``.
    SUPPORTS_AGG_FILTER: ClassVar[bool] = True
    SUPPORTS_PARQUET: ClassVar[bool] = True

    def __init__(
        self,
        session: Any | None = None,
        *,
        master: str | None = None,
        conf: dict[str, str] | None = None,
        materialize: str = "checkpoint",
        stop_on_close: bool = False,
    ):
        root = session if session is not None else spark_session(master, conf)
        self.spark = root.newSession()
        for key, value in {**SESSION_CONF, **(conf or {})}.items():
            if key.startswith("spark.sql."):  # runtime SQL settings are per session
                self.spark.conf.set(key, value)
        self._root = root
        if materialize not in ("checkpoint", "cache", "view"):
            raise JingzhunError(f"materialize must be checkpoint, cache or view, not {materialize!r}")
        self._mode = materialize
        self._stop = stop_on_close
        self._tables: dict[str, Any] = {}  # name -> DataFrame (registered or materialized)
        self._cached: set[str] = set()

    # -- SQL ---------------------------------------------------------------------------------------------

    def sql(self, tree: exp.Expr) -> str:
        return spark_tree(tree).sql(dialect=self.DIALECT)

    def _execute(self, sql: str) -> Any:
        return self.spark.sql(sql)

    def _fetch_arrow(self, sql: str) -> pa.Table:
        df = self.spark.sql(sql)
        expected = _arrow_schema(df.schema)
        table = df.toArrow()
        return table.cast(expected) if table.schema != expected else table

    def _create_temp_sql(self, name: str, select_sql: str) -> str:
        return f"CREATE OR REPLACE TEMPORARY VIEW {_quote(name)} AS {select_sql}"

    def _create_view_sql(self, name: str, select_sql: str) -> str:
        return f"CREATE OR REPLACE TEMPORARY VIEW {_quote(name)} AS {select_sql}"

    # -- relations ---------------------------------------------------------------------------------------

    def register_table(self, name: str, data: pa.Table | str | Path | Sequence[str | Path]) -> None:
        self.drop(name)
        if isinstance(data, pa.Table):
            df = self._from_arrow(data)
        else:
            paths = [str(data)] if isinstance(data, str | Path) else [str(p) for p in data]
            if not paths:
                raise JingzhunError(f"no Parquet files to register as {name!r}")
            try:
                df = self.spark.read.option("mergeSchema", "true").parquet(*paths)
            except Exception as exc:
                raise JingzhunError(f"cannot read Parquet for {name!r} from {paths[:3]}: {exc}") from exc
        df.createOrReplaceTempView(name)
        self._tables[name] = df

    def _from_arrow(self, table: pa.Table) -> Any:
        from pyspark.sql.pandas.types import from_arrow_schema

        schema = from_arrow_schema(_plain_arrow_schema(table.schema))
        table = table.cast(_plain_arrow_schema(table.schema))
        if table.num_rows == 0:
            return self.spark.createDataFrame([], schema)
        return self.spark.createDataFrame(table, schema=schema)

    def materialize(self, name: str, tree: exp.Expr) -> None:
        self.drop(name)
        sql = self.sql(tree)
        df = self.execute(sql)
        if self._mode == "checkpoint":
            try:
                df = df.localCheckpoint(eager=True)
            except Exception as exc:
                raise QueryError(f"{type(self).__name__} failed: {exc}", sql) from exc
            self._cached.add(name)
        elif self._mode == "cache":
            df = df.cache()
            self._cached.add(name)
        df.createOrReplaceTempView(name)
        self._tables[name] = df

    def create_view(self, name: str, tree: exp.Expr) -> None:
        self.drop(name)
        super().create_view(name, tree)
        self._tables[name] = None

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def drop(self, name: str) -> None:
        if name not in self._tables:
            return
        df = self._tables.pop(name)
        if name in self._cached and df is not None:
            df.unpersist()
            self._cached.discard(name)
        self.spark.catalog.dropTempView(name)

    def splink_api(self) -> Any:
        """Splink's ``SparkAPI`` on this engine's session (see :meth:`Engine.splink_api`): relations of the
        engine are temp views of that session, so Splink reads them by name, and Splink's tables are temp
        views there too, so trees run on this engine read them. Splink's intermediate tables are persisted
        (no checkpoint folder needed) and unpersisted when Splink deletes them."""
        return _splink_api_class()(spark_session=self.spark, break_lineage_method="persist")

    def dataframe(self, name: str) -> Any:
        """The Spark DataFrame behind relation ``name`` (for Spark-native callers such as linkage)."""
        if name not in self._tables:
            raise JingzhunError(f"no relation {name!r} on this Spark engine")
        return self.spark.table(name)

    def close(self) -> None:
        for name in list(self._tables):
            try:
                self.drop(name)
            except Exception:  # best effort when the session is already gone
                continue
        if self._stop:
            self._root.stop()


_SPLINK_API: Any = None


def _splink_api_class() -> Any:
    """``SparkAPI`` whose table deletion also frees the persisted data (Splink only drops the view)."""
    global _SPLINK_API
    if _SPLINK_API is None:
        from splink.backends.spark import SparkAPI

        class JingzhunSparkAPI(SparkAPI):
            def delete_table_from_database(self, name: str) -> None:
                try:
                    if self.spark.catalog.tableExists(name):
                        self.spark.table(name).unpersist()
                except Exception:  # best effort: dropping the view below is what matters
                    pass
                super().delete_table_from_database(name)

        _SPLINK_API = JingzhunSparkAPI
    return _SPLINK_API


def _plain_arrow_schema(schema: pa.Schema) -> pa.Schema:
    """Arrow types Spark reads: large strings as strings, dictionaries decoded, timestamps in µs."""
    fields = []
    for f in schema:
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_large_string(t):
            t = pa.string()
        elif pa.types.is_timestamp(t):
            t = pa.timestamp("us", tz=t.tz)
        elif pa.types.is_null(t):
            t = pa.string()
        fields.append(pa.field(f.name, t, True))
    return pa.schema(fields)


def _arrow_schema(spark_schema: Any) -> pa.Schema:
    """The Arrow schema of a result, every field nullable as DuckDB gives it (Spark marks some columns
    NOT NULL, which would show in written Parquet schemas and in the results hash)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(spark_schema)
    return pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)
