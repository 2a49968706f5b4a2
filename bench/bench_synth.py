"""Generation speed and memory: persons per second and peak RSS for `jingzhun synth`.

    .venv/bin/python bench/bench_synth.py [PERSONS] [--months K] [--formats parquet,csv] [--workers 1,2]

Each configuration runs in a fresh child process so its peak RSS is its own (ru_maxrss of the child).
Defaults: 1,000,000 persons, 6 months, parquet and csv, 1 worker. The baseline row is parquet with one
worker; the other rows give their time as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys, time
from jingzhun.synth import generate
out, fmt = sys.argv[1], sys.argv[4]
persons, months, workers = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
t = time.perf_counter()
m = generate(out, persons=persons, months=months, fmt=fmt, workers=workers)
seconds = time.perf_counter() - t
rows = sum(f.rows for f in m.files if f.kind in ("registry", "feed"))
usage = resource.getrusage
peak = max(usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss)
cpu = sum(getattr(usage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
          for f in ("ru_utime", "ru_stime"))
print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "peak_kib": peak}))
"""


def run_one(persons: int, months: int, fmt: str, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, f"{tmp}/out", str(persons), str(months), fmt, str(workers)],
            check=True,
            capture_output=True,
            text=True,
        )
        du = subprocess.run(["du", "-sk", f"{tmp}/out"], capture_output=True, text=True).stdout.split()[0]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["disk_mib"] = int(du) / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("persons", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--workers", default="1")
    args = parser.parse_args()
    print(f"jingzhun synth: {args.persons:,} persons, {args.months} months")
    print(
        f"{'format':8} {'workers':>7} {'seconds':>9} {'CPU s':>7} {'persons/s':>11} {'rows/s':>11} "
        f"{'peak RSS MiB':>13} {'disk MiB':>9} {'vs baseline':>11}"
    )
    baseline = None
    for fmt in args.formats.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            r = run_one(args.persons, args.months, fmt, workers)
            baseline = baseline or r["seconds"]
            print(
                f"{fmt:8} {workers:>7} {r['seconds']:>9.1f} {r['cpu']:>7.1f} "
                f"{args.persons / r['seconds']:>11,.0f} "
                f"{r['rows'] / r['seconds']:>11,.0f} {r['peak_kib'] / 1024:>13,.0f} {r['disk_mib']:>9,.0f} "
                f"{r['seconds'] / baseline:>10.2f}x"
            )
    est = baseline * 34_000_000 / args.persons / 60
    print(f"linear estimate for 34 M persons (first configuration, this machine's load): {est:,.0f} min")


if __name__ == "__main__":
    main()
