"""Linkage and conflicts run through the Engine interface only: an engine that exposes nothing else (no
connection) gives the same links, review queue and conflicts as DuckDB, and every statement it receives is
a syntax tree that can also be written as Spark SQL."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from conftest import config
from jingzhun.engines.base import Engine
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.errors import JingzhunError
from jingzhun.link import LinkSession, link_feed_result
from jingzhun.link.conflicts import find_conflicts

DUCKDB_ONLY = ("MACRO", "GETVARIABLE", "SET VARIABLE", "DUCKDB_TABLES", "LIST_TRANSFORM", "QUALIFY")


class InterfaceOnly(Engine):
    """The Engine interface and nothing more, running on a private DuckDB engine; records every tree."""

    DIALECT = "duckdb"

    def __init__(self, splink: bool = True):
        self._duck = DuckDBEngine()
        self._splink = splink
        self.trees: list[sqlglot.exp.Expr] = []

    def fetch_arrow(self, tree: Any) -> pa.Table:
        self.trees.append(tree)
        return self._duck.fetch_arrow(tree)

    def materialize(self, name: str, tree: Any) -> None:
        self.trees.append(tree)
        self._duck.materialize(name, tree)

    def create_view(self, name: str, tree: Any) -> None:
        self.trees.append(tree)
        self._duck.create_view(name, tree)

    def register_table(self, name: str, data: Any) -> None:
        self._duck.register_table(name, data)

    def has_table(self, name: str) -> bool:
        return self._duck.has_table(name)

    def drop(self, name: str) -> None:
        self._duck.drop(name)

    def _execute(self, sql: str) -> Any:
        raise AssertionError(f"linkage sent SQL text instead of a tree: {sql}")

    def _fetch_arrow(self, sql: str) -> pa.Table:
        raise AssertionError("fetch_arrow is delegated")

    def _create_temp_sql(self, name: str, select_sql: str) -> str:
        raise AssertionError("materialize is delegated")

    def _create_view_sql(self, name: str, select_sql: str) -> str:
        raise AssertionError("create_view is delegated")

    def splink_api(self) -> Any:
        return self._duck.splink_api() if self._splink else super().splink_api()

    def close(self) -> None:
        self._duck.close()


def _assert_spark_writable(trees: list[Any]) -> None:
    assert trees
    for tree in trees:
        spark = tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
        upper = spark.upper()
        assert not [w for w in DUCKDB_ONLY if w in upper], spark


@pytest.fixture(scope="module")
def both(synthetic):
    reg, records, _truth = synthetic
    engine = InterfaceOnly()
    engine.register_table("members", reg)
    engine.register_table("feed", records)
    con = duckdb.connect()
    con.register("members", reg)
    con.register("feed", records)
    cfg = config(thresholds={"accept": 0.999999, "review": 0.3})
    yield engine, link_feed_result(engine, "members", "feed", cfg), link_feed_result(con, "members", "feed", cfg)
    engine.close()
    con.close()


def test_links_through_the_interface_equal_duckdb(both):
    engine, neutral, direct = both
    assert neutral.links.equals(direct.links)
    assert neutral.review.equals(direct.review)
    assert neutral.review.num_rows > 0  # the comparison covers the review queue too
    methods = set(neutral.links.column("method").drop_null().to_pylist())
    assert {"exact", "probabilistic"} <= methods
    _assert_spark_writable(engine.trees)


def test_linkage_leaves_no_relation_behind(synthetic):
    reg, records, _truth = synthetic
    engine = InterfaceOnly()
    engine.register_table("members", reg)
    engine.register_table("feed", records)
    with LinkSession(engine, "members") as session:
        session.link("feed", config())
    names = {r["name"] for r in engine._duck.fetch_arrow(sqlglot.parse_one(
        "SELECT table_name AS name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() "
        "WHERE NOT internal"
    )).to_pylist()}
    assert not [n for n in names if n.startswith("__jz") or n.startswith("__splink")], names
    engine.close()


def test_an_engine_without_splink_links_exactly_and_refuses_probabilistic(synthetic):
    reg, records, _truth = synthetic
    engine = InterfaceOnly(splink=False)
    engine.register_table("members", reg)
    engine.register_table("feed", records)
    exact = link_feed_result(engine, "members", "feed", config(probabilistic={"enabled": False})).links
    assert set(exact.column("method").drop_null().to_pylist()) == {"exact"}
    with pytest.raises(JingzhunError, match="cannot run probabilistic linkage"):
        link_feed_result(engine, "members", "feed", config())
    engine.close()


def test_conflicts_through_the_interface(synthetic):
    from test_conflicts import HOUSEHOLDS, _members

    engine = InterfaceOnly()
    con = duckdb.connect()
    for target in (engine, con):
        register = target.register_table if target is engine else target.register
        register("member", _members())
        register("household", HOUSEHOLDS)
        register("enrolment", pa.table({
            "record_id": ["E1"], "id_number": ["520322201003150017"], "stage": ["小学"], "status": ["辍学"],
            "status_date": pa.array([None], pa.date32()),
        }))
    neutral = find_conflicts(engine, "member", "household", enrolment="enrolment")
    assert neutral.equals(find_conflicts(con, "member", "household", enrolment="enrolment"))
    assert "school_status_mismatch" in neutral.column("conflict_type").to_pylist()
    _assert_spark_writable(engine.trees)
    engine.close()
