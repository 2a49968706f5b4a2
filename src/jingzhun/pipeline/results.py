"""The results of one run: writing them atomically, hashing them, reading them back."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jingzhun.store import atomic_dir

RESULT_TABLES = ("links", "flags", "alerts", "conflicts", "review", "handoff")

# Sort keys that make each table's order (and so its hash) deterministic.
SORT_KEYS: dict[str, list[str]] = {
    "links": ["feed", "record_id"],
    "flags": ["rule_id", "entity_id"],
    "alerts": ["household_id", "rule_id"],
    "conflicts": ["conflict_type", "household_id", "person_id", "value_a", "value_b"],
    "review": ["feed", "record_id"],
    "handoff": ["household_id", "status", "rule_id"],
}


def _sortable(t: pa.DataType) -> bool:
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
            or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_temporal(t)
            or pa.types.is_decimal(t))


def sort_table(name: str, table: pa.Table) -> pa.Table:
    """``table`` in a deterministic order: its sort keys (:data:`SORT_KEYS`), then every other sortable
    column, so rows equal on the keys come in the same order whatever engine produced them.

    >>> t = pa.table({"rule_id": ["b", "a", "a"], "entity_id": ["1", "2", "2"], "evidence": ["y", "z", "x"]})
    >>> sort_table("flags", t).column("evidence").to_pylist()
    ['x', 'z', 'y']
    """
    keys = [k for k in SORT_KEYS.get(name, []) if k in table.column_names]
    keys += [f.name for f in table.schema if f.name not in keys and _sortable(f.type)]
    return table.sort_by([(k, "ascending") for k in keys]) if keys and table.num_rows else table


class _DigestSink(io.RawIOBase):
    """A file that hashes what is written to it instead of keeping it."""

    def __init__(self, digest: Any):
        self.digest = digest

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return len(data)


def table_hash(table: pa.Table, batch_rows: int = 65536) -> str:
    """A content hash of a table: its schema and its rows in order, as Arrow IPC bytes of fixed-size
    batches streamed into the hash (never the whole table copied). Each batch's arrays are rebuilt from
    offset 0, so the hash does not depend on how the table happens to be chunked.

    >>> t = pa.table({"a": ["x", None, "z"] * 50, "b": list(range(150))})
    >>> rechunked = pa.concat_tables([t.slice(0, 7), t.slice(7, 100), t.slice(107)])
    >>> table_hash(t, 64) == table_hash(rechunked, 64) != table_hash(t.slice(1), 64)
    True
    """
    digest = hashlib.sha256(str(table.schema).encode())
    with pa.ipc.new_stream(pa.PythonFile(_DigestSink(digest), mode="w"), table.schema) as writer:
        for start in range(0, table.num_rows, batch_rows):
            part = table.slice(start, batch_rows)
            arrays = [pa.concat_arrays([*column.chunks, pa.array([], column.type)]) for column in part.columns]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=table.schema))
    return digest.hexdigest()


def results_hash(tables: dict[str, pa.Table]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(f"{name}:{table_hash(tables[name])};".encode())
    return digest.hexdigest()


def write_results(run_dir: Path, tables: dict[str, pa.Table]) -> None:
    """Write every table as ``<name>.parquet`` into ``run_dir`` in one atomic folder swap."""
    with atomic_dir(run_dir) as tmp:
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")


def read_result(run_dir: Path, name: str) -> pa.Table:
    return pq.read_table(run_dir / f"{name}.parquet")
