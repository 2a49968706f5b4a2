"""Register a snapshot's files on the engine as the relations policies and linkage read.

Registry datasets and feeds are de-duplicated on their key, the newest import winning (imports are
ordered by period, then time of import). Every relation keeps the catalogue's canonical columns.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlglot

from jingzhun.catalog import DATASETS
from jingzhun.pipeline.snapshot import Snapshot


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def register_dataset(engine: Any, snapshot: Snapshot, name: str, relation: str | None = None) -> int:
    """Register dataset ``name`` of the snapshot as ``relation`` (default: the dataset name); returns rows.

    The SQL is engine-neutral: the engine reads the Parquet files, and de-duplication joins the rows'
    ``_import_id`` to the order of the imports.
    """
    relation = relation or name
    inputs = snapshot.inputs.get(name, [])
    if not inputs:
        return 0
    dataset = DATASETS[name]
    raw, order = f"__jz_raw_{name}", f"__jz_ord_{name}"
    engine.register_table(raw, [f.path for f in inputs])
    engine.register_table(order, pa.table({
        "_import_id": [f.import_id for f in inputs],
        "_ord": list(range(len(inputs))),
    }))
    columns = engine.fetch_arrow(sqlglot.parse_one(f"SELECT * FROM {raw} LIMIT 0")).schema.names
    listed = ", ".join(_q(c) for c in columns)
    key = ", ".join(_q(k) for k in dataset.key)
    tree = sqlglot.parse_one(f"""
        SELECT {listed} FROM (
            SELECT d.*, row_number() OVER (PARTITION BY {key} ORDER BY o._ord DESC, d._row DESC) AS _jz_rank
            FROM {raw} d JOIN {order} o ON d._import_id = o._import_id
        ) ranked WHERE _jz_rank = 1
    """, read="duckdb")
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
