"""Benchmark: the same monthly run (snapshot → load → link → evaluate → conflicts → diff → write) on
DuckDB and on Spark over the same synthetic county, Spark once with ``local[2]`` and once with
``local[N]`` (every core, or ``--cores``).

    SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python bench/bench_engines.py [--persons 2000] [--months 2]
        [--cores N] [--threads 2] [--keep DIR]

The county is generated and imported once (not timed); each engine then runs every month in its own copy
of the data folder. Prints seconds per engine and stage, the Spark session start apart, the results hash
of each month (must be identical on every engine: the script exits 1 otherwise), peak RSS of this Python
process (the Spark JVM is a separate process, its heap bounded by ``spark.driver.memory``), and the ratio
of each Spark run to DuckDB's.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(root: Path, persons: int, months: list[str]) -> Path:
    from jingzhun import regions
    from jingzhun.ingest import import_files
    from jingzhun.synth import generate

    county = root / "synth"
    generate(county, persons=persons, seed=11, start=months[0], months=len(months), fmt="parquet")
    data = root / "imported"
    regions.save_reference(regions.load_csv(county / "regions.csv"), data)
    for month in months:
        results = import_files(data, [county / month], user="bench")
        bad = [r.error for r in results if r.status != "imported"]
        if bad:
            raise SystemExit(f"import failed: {bad}")
    return data


def run_all(data: Path, months: list[str], engine: str, options: dict[str, Any]) -> tuple[float, list[Any]]:
    from jingzhun.pipeline import run_period

    t0 = time.perf_counter()
    outcomes = [run_period(data, m, engine_name=engine, engine_options=options, handoff=False,
                           policy_dir=ROOT / "policies", link_config_dir=ROOT / "config" / "linkage")
                for m in months]
    return time.perf_counter() - t0, outcomes


def show(label: str, seconds: float, outcomes: list[Any]) -> None:
    stages: dict[str, float] = {}
    for o in outcomes:
        for name, s in o.stages.items():
            stages[name] = stages.get(name, 0.0) + s["seconds"]
    per_stage = "  ".join(f"{k} {v:.1f}" for k, v in stages.items())
    hashes = " ".join(o.result_hash[:12] for o in outcomes)
    print(f"{label:<22} {seconds:8.1f} s   [{per_stage}]   hashes {hashes}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=2000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--start", default="2025-01")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="N of local[N] (default: every core)")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temporary one)")
    args = ap.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from jingzhun import periods

    months = [periods.shift(args.start, i) for i in range(args.months)]
    work = args.keep or Path(tempfile.mkdtemp(prefix="jz-bench-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        imported = prepare(work, args.persons, months)
        print(f"county of {args.persons:,} persons, {len(months)} months generated and imported in "
              f"{time.perf_counter() - t0:.1f} s (not timed below)", flush=True)

        def copy(name: str) -> Path:
            target = work / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(imported, target)
            return target

        results: dict[str, tuple[float, list[Any]]] = {}
        results["duckdb"] = run_all(copy("duckdb"), months, "duckdb", {"threads": args.threads})
        show(f"duckdb ({args.threads} threads)", *results["duckdb"])

        from jingzhun.engines.spark import spark_session

        masters = ["local[2]"] + ([f"local[{args.cores}]"] if args.cores != 2 else [])
        for master in masters:
            t0 = time.perf_counter()
            session = spark_session(master)
            start = time.perf_counter() - t0
            results[master] = run_all(copy(master.replace("[", "_").strip("]")), months, "spark",
                                      {"session": session})
            show(f"spark {master}", *results[master])
            print(f"{'':<22} (+{start:.1f} s session start)", flush=True)
            session.stop()

        duck_s, duck_runs = results["duckdb"]
        same = True
        for master in masters:
            seconds, runs = results[master]
            identical = [a.result_hash == b.result_hash for a, b in zip(duck_runs, runs, strict=True)]
            same = same and all(identical)
            print(f"spark {master} / duckdb: {seconds / duck_s:.1f}x   identical results: {all(identical)}")
        print(f"peak RSS (python): {rss_mib():,.0f} MiB")
        if not same:
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
