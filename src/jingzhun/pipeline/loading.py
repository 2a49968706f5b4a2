"""Register a snapshot's files on the engine as the relations policies and linkage read.

Registry datasets and feeds are de-duplicated on their key, the newest import winning (imports are
ordered by period, then time of import). Every relation keeps the columns of the imported files (the
catalogue's canonical columns and the import's bookkeeping ``_import_id``, ``_row``, ``_period``); feeds
also get ``_arrived``, the period of the first import that brought the record (docs/DOMAIN.md "Time": an
event is counted in the first run that receives it, never again when it is sent a second time).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlglot

from jingzhun.catalog import DATASETS
from jingzhun.pipeline.snapshot import Snapshot
from jingzhun.policy.schema import ARRIVED
from jingzhun.sqltext import literal, quote


def register_dataset(engine: Any, snapshot: Snapshot, name: str, relation: str | None = None) -> int:
    """Register dataset ``name`` of the snapshot as ``relation`` (default: the dataset name); returns rows.

    The SQL is engine-neutral. A dataset made of one import is the import's Parquet file as it is (a
    view: the engine reads only the columns a query uses, and an import holds each key once, duplicates
    being rejected when it is imported). A dataset of several imports is de-duplicated once into a table:
    a row is kept unless a later import (or a later row of the same import) has its key, found with an
    anti-join on the key alone rather than a window over every column.
    """
    relation = relation or name
    inputs = snapshot.inputs.get(name, [])
    if not inputs:
        return 0
    dataset = DATASETS[name]
    feed = dataset.kind == "feed"
    if len(inputs) == 1:
        if not feed:
            engine.register_table(relation, [inputs[0].path])
            return count_rows(engine, relation)
        # a view over the file's view: still read lazily, one column more
        engine.register_table(f"__jz_file_{relation}", [inputs[0].path])
        engine.create_view(relation, sqlglot.parse_one(
            f"SELECT f.*, {literal(inputs[0].period)} AS {ARRIVED} FROM __jz_file_{relation} f", read="duckdb"))
        return count_rows(engine, relation)
    raw, order = f"__jz_raw_{name}", f"__jz_ord_{name}"
    engine.register_table(raw, [f.path for f in inputs])
    engine.register_table(order, pa.table({
        "_import_id": [f.import_id for f in inputs],
        "_ord": list(range(len(inputs))),
        "_arrival": [f.period for f in inputs],
    }))
    same_key = " AND ".join(f"n.{quote(k)} = d.{quote(k)}" for k in dataset.key)
    key = ", ".join(quote(k) for k in dataset.key)
    newest = f"""
        SELECT d.* FROM {raw} d JOIN {order} o ON d._import_id = o._import_id
        WHERE NOT EXISTS (
            SELECT 1 FROM (SELECT {key}, r._row, p._ord FROM {raw} r JOIN {order} p ON r._import_id = p._import_id) n
            WHERE {same_key} AND (n._ord > o._ord OR (n._ord = o._ord AND n._row > d._row))
        )
    """
    if feed:  # a record sent again keeps the period of its first arrival: an event is counted once
        same = " AND ".join(f"a.{quote(k)} = d.{quote(k)}" for k in dataset.key)
        newest = f"""
            SELECT d.*, a.{ARRIVED} FROM ({newest}) d
            JOIN (SELECT {", ".join(f"r.{quote(k)}" for k in dataset.key)}, MIN(p._arrival) AS {ARRIVED}
                  FROM {raw} r JOIN {order} p ON r._import_id = p._import_id
                  GROUP BY {", ".join(f"r.{quote(k)}" for k in dataset.key)}) a ON {same}
        """
    tree = sqlglot.parse_one(newest, read="duckdb")
    engine.materialize(relation, tree)
    engine.drop(raw)
    engine.drop(order)
    return count_rows(engine, relation)


def count_rows(engine: Any, relation: str) -> int:
    return int(engine.fetch_arrow(sqlglot.parse_one(f"SELECT count(*) AS n FROM {relation}")).column(0)[0].as_py())


def register_regions(engine: Any, snapshot: Snapshot) -> int:
    if snapshot.region_file is None:
        return 0
    engine.register_table("region", snapshot.region_file)
    return count_rows(engine, "region")
