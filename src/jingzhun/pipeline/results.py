"""The results of one run: writing them atomically, hashing them, reading them back."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jingzhun.store import atomic_dir

RESULT_TABLES = ("links", "flags", "alerts", "conflicts", "review", "handoff")

# Sort keys that make each table's order (and so its hash) deterministic.
SORT_KEYS: dict[str, list[str]] = {
    "links": ["feed", "record_id"],
    "flags": ["rule_id", "entity_id"],
    "alerts": ["household_id", "rule_id"],
    "conflicts": ["conflict_type", "household_id", "person_id", "value_a", "value_b", "source_a", "source_b",
                  "detail_zh"],
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


#: rows per batch hashed (the hash's unit) and rows per Parquet row group written
HASH_BATCH_ROWS = 65536
ROW_GROUP_ROWS = 4 * HASH_BATCH_ROWS

#: a result table: in memory, or a stream of batches already in the table's order (e.g. from
#: :meth:`jingzhun.engines.base.Engine.fetch_batches` with an ORDER BY on the table's sort keys)
Source: TypeAlias = pa.Table | pa.RecordBatchReader


def _blank_nulls(array: pa.Array) -> pa.Array:
    """``array`` with the bytes under its NULL slots made canonical (engines leave anything there, which
    Parquet ignores but the IPC bytes of the hash would not): the values of a fixed-width or string
    column are rebuilt with its first valid value under every NULL, the validity bitmap kept.

    >>> a = pa.array([1.5, None, 2.0])
    >>> _blank_nulls(a).to_pylist(), _blank_nulls(a).buffers()[1] == pa.array([1.5, 1.5, 2.0]).buffers()[1]
    ([1.5, None, 2.0], True)
    """
    t = array.type
    if not array.null_count or array.offset:
        return array
    if array.null_count == len(array):
        return pa.nulls(len(array), t)
    if not _sortable(t):  # fixed-width and string types; nested ones are left as they are
        return array
    first = pc.drop_null(array)[0]
    filled = pc.fill_null(array, first)
    return pa.Array.from_buffers(t, len(array), [array.buffers()[0], *filled.buffers()[1:]],
                                 null_count=array.null_count)


def _compact(parts: list[pa.RecordBatch], schema: pa.Schema) -> pa.RecordBatch:
    arrays = [_blank_nulls(pa.concat_arrays([*(p.column(i) for p in parts), pa.array([], f.type)]))
              for i, f in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def fixed_batches(batches: Iterable[pa.RecordBatch], schema: pa.Schema,
                  rows: int = HASH_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The rows of ``batches`` (cast to ``schema``) as batches of exactly ``rows`` rows (the last one
    shorter), every array rebuilt from offset 0: the same batches however the input is chunked."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.schema != schema:
            batch = batch.cast(schema)
        while batch.num_rows:
            take = min(rows - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == rows:
                yield _compact(pending, schema)
                pending, count = [], 0
    if count:
        yield _compact(pending, schema)


def _batches(source: Source) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    if isinstance(source, pa.Table):
        return source.schema, iter(source.to_batches())
    return source.schema, iter(source)


def _stream(source: Source, schema: pa.Schema | None = None,
            sink: Callable[[pa.RecordBatch], None] | None = None, batch_rows: int = HASH_BATCH_ROWS) -> str:
    """Hash ``source`` (see :func:`table_hash`), passing each fixed-size batch to ``sink`` too."""
    own_schema, batches = _batches(source)
    schema = schema or own_schema
    digest = hashlib.sha256(str(schema).encode())
    with pa.ipc.new_stream(pa.PythonFile(_DigestSink(digest), mode="w"), schema) as writer:
        for batch in fixed_batches(batches, schema, batch_rows):
            writer.write_batch(batch)
            if sink is not None:
                sink(batch)
    return digest.hexdigest()


def table_hash(table: Source, batch_rows: int = HASH_BATCH_ROWS) -> str:
    """A content hash of a table: its schema and its rows in order, as Arrow IPC bytes of fixed-size
    batches streamed into the hash (never the whole table copied). Each batch's arrays are rebuilt from
    offset 0, so the hash does not depend on how the table happens to be chunked, nor on whether it is
    in memory or streamed.

    >>> t = pa.table({"a": ["x", None, "z"] * 50, "b": list(range(150))})
    >>> rechunked = pa.concat_tables([t.slice(0, 7), t.slice(7, 100), t.slice(107)])
    >>> table_hash(t, 64) == table_hash(rechunked, 64) != table_hash(t.slice(1), 64)
    True
    >>> table_hash(t) == table_hash(t.to_reader(max_chunksize=9))
    True
    """
    return _stream(table, batch_rows=batch_rows)


def _combine(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}:{hashes[name]};".encode())
    return digest.hexdigest()


def results_hash(tables: dict[str, pa.Table]) -> str:
    return _combine({name: table_hash(table) for name, table in tables.items()})


def write_results(run_dir: Path, tables: dict[str, Source | Callable[[], Source]],
                  schemas: dict[str, pa.Schema] | None = None) -> str:
    """Write every table as ``<name>.parquet`` into ``run_dir`` in one atomic folder swap and return
    the results hash (:func:`results_hash`), computed in the same pass: a streamed table is read once
    and never held whole in memory. A table given as a function returning a stream is opened when its
    turn comes (an engine may stream one result at a time). ``schemas`` casts a table's batches to a
    given schema (its hash and file use it)."""
    schemas = schemas or {}
    hashes: dict[str, str] = {}
    with atomic_dir(run_dir) as tmp:
        for name, given in tables.items():
            source = given() if callable(given) else given
            schema = schemas.get(name) or source.schema
            pending: list[pa.RecordBatch] = []
            with pq.ParquetWriter(tmp / f"{name}.parquet", schema, compression="zstd") as writer:

                def sink(batch: pa.RecordBatch, writer: pq.ParquetWriter = writer,
                         pending: list[pa.RecordBatch] = pending) -> None:
                    pending.append(batch)
                    if sum(b.num_rows for b in pending) >= ROW_GROUP_ROWS:
                        writer.write_table(pa.Table.from_batches(pending, schema=writer.schema))
                        pending.clear()

                try:
                    hashes[name] = _stream(source, schema, sink)
                finally:
                    if isinstance(source, pa.RecordBatchReader):
                        source.close()  # an engine's stream left open would block its next query
                if pending:
                    writer.write_table(pa.Table.from_batches(pending, schema=schema))
    return _combine(hashes)


def read_result(run_dir: Path, name: str) -> pa.Table:
    return pq.read_table(run_dir / f"{name}.parquet")
