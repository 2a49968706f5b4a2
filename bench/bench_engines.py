"""Benchmark: the shipped policy set evaluated on DuckDB and on Spark (local[N]) over the same synthetic
relations, written once to Parquet and registered on both engines (the data come from
``bench/bench_policy.py``'s vectorised generator).

    SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python bench/bench_engines.py [--persons 200000] [--period 2025-06]
        [--master local[2]] [--threads 2]

Prints seconds per engine (Spark's session start-up reported apart), flags per rule checked identical,
peak RSS of this process (the Spark JVM is a separate process), and the ratio Spark / DuckDB.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.policy import evaluate, load

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_policy", ROOT / "bench" / "bench_policy.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.generate


def digest(flags: pa.Table) -> str:
    """A hash of the rows (independent of how the engine split them into record batches)."""
    h = hashlib.sha256()
    for col in flags.columns:
        h.update(str(col.to_pylist()).encode())
    return h.hexdigest()[:16]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=200_000)
    ap.add_argument("--period", default="2025-06")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads (match the Spark cores)")
    args = ap.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    ps = load(ROOT / "policies")

    t0 = time.perf_counter()
    tables = _generator()(args.persons)
    rows = sum(t.num_rows for t in tables.values())
    print(
        f"generated {len(tables)} relations, {rows:,} rows for {args.persons:,} persons "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    with tempfile.TemporaryDirectory(prefix="jz-bench-engines-") as tmp:
        paths = {}
        for name, table in tables.items():
            paths[name] = Path(tmp) / f"{name}.parquet"
            pq.write_table(table, paths[name])

        t0 = time.perf_counter()
        duck = DuckDBEngine(threads=args.threads)
        for name, path in paths.items():
            duck.register_table(name, [path])
        duck_flags = evaluate(duck, ps, args.period)
        duck_s = time.perf_counter() - t0
        duck.close()
        print(
            f"duckdb  ({args.threads} threads): {duck_s:8.2f} s  {duck_flags.num_rows:,} flags  "
            f"{rows / duck_s:,.0f} input rows/s"
        )

        from jingzhun.engines.spark import SparkEngine, spark_session

        t0 = time.perf_counter()
        session = spark_session(args.master)
        start_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        spark = SparkEngine(session)
        for name, path in paths.items():
            spark.register_table(name, [path])
        spark_flags = evaluate(spark, ps, args.period)
        spark_s = time.perf_counter() - t0
        spark.close()
        session.stop()
        print(
            f"spark   ({args.master}): {spark_s:8.2f} s  {spark_flags.num_rows:,} flags  "
            f"{rows / spark_s:,.0f} input rows/s  (+{start_s:.1f} s session start)"
        )

    same = digest(duck_flags) == digest(spark_flags)
    print(f"identical flags: {same} ({digest(duck_flags)} / {digest(spark_flags)})")
    print(f"ratio spark / duckdb: {spark_s / duck_s:.1f}x   peak RSS (python): {rss_mib():,.0f} MiB")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
