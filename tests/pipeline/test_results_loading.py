"""Results written streamed (hash in the same pass) and datasets registered with or without de-duplication."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.pipeline.loading import register_dataset
from jingzhun.pipeline.results import results_hash, write_results
from jingzhun.pipeline.snapshot import InputFile, Snapshot


def _table(n: int) -> pa.Table:
    # text columns, like the streamed tables (flags, alerts): the hash covers Arrow IPC bytes, and the
    # bytes under NULL slots of numeric columns differ between engines and kernels
    return pa.table({
        "k": [f"r{i:06d}" for i in range(n)],
        "v": [None if i % 7 == 0 else str(i * 1.5) for i in range(n)],
        "s": [None if i % 5 == 0 else "值" * (i % 4) for i in range(n)],
    })


def test_streamed_results_hash_and_files_equal_the_in_memory_ones(tmp_path: Path) -> None:
    big, small = _table(200_003), _table(11)
    engine = DuckDBEngine()
    engine.register_table("big", big)
    tables = {
        "flags": lambda: engine.fetch_batches(sqlglot.parse_one("SELECT * FROM big ORDER BY k"), 7_777),
        "alerts": lambda: engine.fetch_batches(sqlglot.parse_one("SELECT * FROM big ORDER BY k DESC")),
        "links": small,
    }
    digest = write_results(tmp_path / "run", tables)
    expected = {"flags": big, "alerts": big.sort_by([("k", "descending")]), "links": small}
    assert digest == results_hash(expected)
    for name, table in expected.items():
        assert pq.read_table(tmp_path / "run" / f"{name}.parquet").equals(table)
    assert digest != results_hash({**expected, "links": small.slice(1)})


def _with_bytes_under_nulls(array: pa.Array, filler: pa.Array) -> pa.Array:
    """``array`` with ``filler``'s value bytes (what an engine may leave) under its NULL slots."""
    return pa.Array.from_buffers(array.type, len(array), [array.buffers()[0], *filler.buffers()[1:]],
                                 null_count=array.null_count)


def test_equal_content_hashes_the_same_whatever_lies_under_null_slots() -> None:
    score = pa.array([0.5, None, 1.0, None])
    name = pa.array(["甲", None, "丙", None])
    clean = pa.table({"score": score, "name": name})
    dirty = pa.table({"score": _with_bytes_under_nulls(score, pa.array([0.5, 9.25, 1.0, -3.0])),
                      "name": _with_bytes_under_nulls(name, pa.array(["甲", "垃圾", "丙", "x"]))})
    assert dirty.equals(clean) and dirty.column("score").chunk(0).buffers()[1] != score.buffers()[1]
    assert results_hash({"links": dirty}) == results_hash({"links": clean})
    # NULL is still not a value: a table whose NULLs are filled hashes differently
    filled = pa.table({"score": pa.array([0.5, 0.5, 1.0, 0.5]), "name": pa.array(["甲", "甲", "丙", "甲"])})
    assert results_hash({"links": filled}) != results_hash({"links": clean})


def _import(tmp_path: Path, import_id: str, rows: list[tuple[str, int]], period: str = "2025-01") -> InputFile:
    path = tmp_path / f"{import_id}.parquet"
    pq.write_table(pa.table({
        "record_id": [r for r, _ in rows], "total_cost": [c for _, c in rows],
        "_import_id": [import_id] * len(rows), "_row": list(range(2, len(rows) + 2)),
    }), path)
    return InputFile("medical_claim", period, import_id, import_id, path, "")


def test_newest_import_wins_and_a_single_import_is_read_as_is(tmp_path: Path) -> None:
    first = _import(tmp_path, "imp1", [("A", 1), ("B", 2), ("C", 3)])
    second = _import(tmp_path, "imp2", [("B", 20), ("D", 40)], "2025-02")
    third = _import(tmp_path, "imp3", [("C", 300)], "2025-03")
    engine = DuckDBEngine()
    select = sqlglot.parse_one("SELECT record_id, total_cost, _import_id FROM t ORDER BY record_id")

    one = Snapshot("2025-03", {"medical_claim": [first]})
    assert register_dataset(engine, one, "medical_claim", "t") == 3
    assert engine.fetch_arrow(select).column("total_cost").to_pylist() == [1, 2, 3]

    # every feed record carries the period of the first import that brought it (its arrival)
    arrived = sqlglot.parse_one("SELECT record_id, _arrived FROM t ORDER BY record_id")
    assert set(engine.fetch_arrow(arrived).column("_arrived").to_pylist()) == {first.period}

    several = Snapshot("2025-03", {"medical_claim": [first, second, third]})
    assert register_dataset(engine, several, "medical_claim", "t") == 4
    # B was sent again by the second import: it keeps the first one's arrival
    assert {r["record_id"]: r["_arrived"] for r in engine.fetch_arrow(arrived).to_pylist()} == {
        "A": "2025-01", "B": "2025-01", "C": "2025-01", "D": "2025-02"}
    assert engine.fetch_arrow(select).to_pylist() == [
        {"record_id": "A", "total_cost": 1, "_import_id": "imp1"},
        {"record_id": "B", "total_cost": 20, "_import_id": "imp2"},
        {"record_id": "C", "total_cost": 300, "_import_id": "imp3"},
        {"record_id": "D", "total_cost": 40, "_import_id": "imp2"},
    ]
    assert register_dataset(engine, Snapshot("2025-03", {}), "medical_claim", "u") == 0
