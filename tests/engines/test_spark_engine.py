"""The Spark engine itself: typed Arrow in and out, Parquet, materialize/drop, errors carrying the SQL,
the rewrites that make Spark print what DuckDB prints, and evaluation over Parquet relations."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from jingzhun.engines.base import QueryError
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.engines.factory import make_engine
from jingzhun.engines.spark import SparkEngine
from jingzhun.policy import evaluate, load
from jingzhun.policy.loader import case_files
from jingzhun.policy.relations import rows_to_table
from jingzhun.policy.testing import _subset, load_cases

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2] / "policies"

TYPED = pa.table(
    {
        "money": pa.array([Decimal("30000.00"), Decimal("5500.50"), None], pa.decimal128(18, 2)),
        "day": pa.array([datetime.date(2025, 3, 1), None, datetime.date(2024, 1, 2)]),
        "ratio": [1.0e7, 0.1, None],
        "n": [1, None, 3],
        "text": ["a", None, "中文"],
        "ok": [True, False, None],
    }
)


def test_arrow_round_trip_keeps_types_and_nulls(spark: Any) -> None:
    eng = SparkEngine(spark)
    eng.register_table("t", TYPED)
    out = eng.fetch_arrow(sqlglot.parse_one("SELECT * FROM t"))
    assert out.schema == TYPED.schema
    assert out.to_pylist() == TYPED.to_pylist()
    empty = SparkEngine(spark)
    empty.register_table("e", TYPED.schema.empty_table())
    assert empty.fetch_arrow(sqlglot.parse_one("SELECT COUNT(*) AS n FROM e")).to_pylist() == [{"n": 0}]


def test_engines_are_isolated_and_drop_forgets(spark: Any) -> None:
    a, b = SparkEngine(spark), SparkEngine(spark)
    a.register_table("only_a", pa.table({"x": [1]}))
    assert a.has_table("only_a") and not b.has_table("only_a")
    with pytest.raises(QueryError):
        b.fetch_arrow(exp.select("x").from_("only_a"))
    a.materialize("m", exp.select("x + 1 AS y").from_("only_a"))
    a.drop("only_a")  # the stored step does not depend on its input any more
    assert a.fetch_arrow(exp.select("y").from_("m")).to_pylist() == [{"y": 2}]
    a.drop("m")
    assert not a.has_table("m")
    a.drop("never_there")


def test_errors_carry_the_spark_sql(spark: Any) -> None:
    eng = SparkEngine(spark)
    eng.register_table("t", pa.table({"x": [1]}))
    with pytest.raises(QueryError) as info:
        eng.fetch_arrow(exp.select("y").from_("t"))
    assert info.value.sql == "SELECT y FROM t"
    assert "failing SQL" in str(info.value)


def test_parquet_paths_merge_schemas(spark: Any, tmp_path: Path) -> None:
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": [3], "y": ["z"]}), tmp_path / "b.parquet")
    eng = make_engine("spark", session=spark)
    eng.register_table("p", [tmp_path / "a.parquet", tmp_path / "b.parquet"])
    rows = eng.fetch_arrow(sqlglot.parse_one("SELECT x, y FROM p ORDER BY x")).to_pylist()
    assert rows == [{"x": 1, "y": None}, {"x": 2, "y": None}, {"x": 3, "y": "z"}]


def test_numbers_print_as_on_duckdb(spark: Any) -> None:
    """Division, averages, rounded text of decimals and doubles, and empty record lists."""
    sql = """
        SELECT CAST(ROUND(money, 2) AS VARCHAR) AS a, CAST(ROUND(ratio, 2) AS VARCHAR) AS b,
          CAST(ROUND(money / 3, 2) AS VARCHAR) AS c, TO_JSON({'d': money / 4, 'e': n / 2}) AS j,
          LIST_SORT(ARRAY_AGG(text) FILTER (WHERE n > 100)) AS none
        FROM t GROUP BY money, ratio, n ORDER BY n NULLS LAST
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    duck, spk = DuckDBEngine(), SparkEngine(spark)
    for eng in (duck, spk):
        eng.register_table("t", TYPED)
    want = duck.fetch_arrow(tree).to_pylist()
    assert want[0]["b"] == "10000000.0"
    assert spk.fetch_arrow(tree).to_pylist() == want
    avg = sqlglot.parse_one("SELECT TO_JSON({'m': AVG(money)}) AS j FROM t", read="duckdb")
    assert spk.fetch_arrow(avg).to_pylist() == duck.fetch_arrow(avg).to_pylist()


def test_doubles_half_way_round_as_on_duckdb(spark: Any) -> None:
    """Per-capita incomes are doubles (a division): 2458.575 lies just below the half way in binary, so
    DuckDB rounds it down, where Spark's ROUND rounds its decimal text up. Explanations print DuckDB's."""
    import random

    rng = random.Random(5)
    values = [2458.575, 4540.815, 0.125, -2.675, 1.005, 1e7 + 0.005, 7200.0, 12.5, *(
        rng.randrange(1, 10**8) / rng.choice([3, 7, 8, 40, 200, 1000]) for _ in range(2000))]
    table = pa.table({"n": pa.array(range(len(values)), pa.int64()), "x": pa.array(values, pa.float64())})
    tree = sqlglot.parse_one("SELECT n, CAST(ROUND(x, 2) AS VARCHAR) AS r2, CAST(ROUND(x, 1) AS VARCHAR) AS r1 "
                             "FROM t ORDER BY n", read="duckdb")
    duck, spk = DuckDBEngine(), SparkEngine(spark)
    for eng in (duck, spk):
        eng.register_table("t", table)
    want = duck.fetch_arrow(tree).to_pylist()
    assert want[0]["r2"] == "2458.57"  # the case found at 2,000 persons
    assert spk.fetch_arrow(tree).to_pylist() == want


def test_whole_policy_set_on_parquet_relations_matches_duckdb(spark: Any, tmp_path: Path) -> None:
    """The same Parquet relations registered on both engines give the same flags."""
    case = next(c for f in case_files(ROOT) for c in load_cases(f) if "conflicts over one snapshot" in c.name)
    paths = {}
    for table, rows in case.input.items():
        paths[table] = tmp_path / f"{table}.parquet"
        pq.write_table(rows_to_table(table, rows), paths[table])
    ps = _subset(load(ROOT), list(case.expect))  # the rules this case tests (all of them: 80 s more)
    results = []
    for eng in (DuckDBEngine(), SparkEngine(spark)):
        for table, path in paths.items():
            eng.register_table(table, [path])
        results.append(evaluate(eng, ps, case.period).to_pylist())
        eng.close()
    duck, spk = results
    assert len(duck) > 5
    assert spk == duck
