"""`make bench`: run every benchmark script in turn at the size given (default: each script's own).

    python bench/run_all.py                # each script's default size (about 1 M rows/persons)
    python bench/run_all.py --quick        # small sizes, a smoke run of every script (minutes)

Each script prints its own figures (rows/s, seconds, peak RSS, ratios against its baseline).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

QUICK = {
    "bench_synth.py": ["100000", "--formats", "parquet"],
    "bench_ingest.py": ["--rows", "100000", "--xlsx-rows", "20000"],
    "bench_linkage.py": ["--people", "100000", "--id-less", "5000"],
    "bench_policy.py": ["--persons", "100000"],
    "bench_web.py": ["--persons", "20000", "--requests", "100"],
    "bench_engines.py": ["--persons", "2000"],
    "bench_pipeline.py": ["--persons", "20000", "--months", "2", "--threads", "2"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--only", nargs="*", help="script names to run (default: all)")
    args = parser.parse_args()
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if args.only and script.name not in args.only and script.stem not in args.only:
            continue
        extra = QUICK.get(script.name, []) if args.quick else []
        print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *extra])
        print(f"=== {script.name}: exit {code}, {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
