"""The results of one run: writing them atomically, hashing them, reading them back."""

from __future__ import annotations

import hashlib
from pathlib import Path

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


def sort_table(name: str, table: pa.Table) -> pa.Table:
    keys = [(k, "ascending") for k in SORT_KEYS.get(name, []) if k in table.column_names]
    return table.sort_by(keys) if keys and table.num_rows else table


def table_hash(table: pa.Table) -> str:
    """A content hash of a table: its schema and its rows in order (Arrow IPC bytes, batch by batch)."""
    digest = hashlib.sha256(str(table.schema).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.combine_chunks().to_batches(max_chunksize=65536):
            writer.write_batch(batch)
    digest.update(sink.getvalue().to_pybytes())
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
