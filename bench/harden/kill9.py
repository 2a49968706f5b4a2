"""kill -9 at random moments of imports, monthly runs and handoffs (tests/ingest/kill9.py): after each
kill the store must be before or after the operation, and the next one must complete with the result
of an uninterrupted one. Writes the section "Killed imports, runs and handoffs" of docs/RELIABILITY.md
and exits non-zero on any violation.

    .venv/bin/python bench/harden/kill9.py [--imports 30] [--runs 12] [--handoffs 10] [--persons 300]
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ingest.kill9 import DELAY_FACTOR, prepare, trial  # noqa: E402
from tests.reliability import write_section  # noqa: E402

import jingzhun.ingest  # noqa: E402  (loaded once, before the forks)
import jingzhun.pipeline  # noqa: E402,F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imports", type=int, default=30)
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--handoffs", type=int, default=10)
    parser.add_argument("--persons", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/RELIABILITY.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="jz-kill9-"))
    started = time.time()
    county = prepare(work / "county", persons=args.persons, runs=bool(args.runs or args.handoffs))
    rng = random.Random(args.seed)
    wanted = {"import": args.imports, "run": args.runs, "handoff": args.handoffs}
    stats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    problems = []
    # until each operation has been killed mid-work as often as asked (at most twice as many kills)
    i = 0
    while True:
        short = [op for op, n in wanted.items() if stats[op]["killed mid-work"] < n and stats[op]["kills"] < 2 * n]
        if not short:
            break
        operation = rng.choice(short)
        i += 1
        t = trial(county, operation, rng, i)
        s = stats[operation]
        s["kills"] += 1
        s["killed mid-work"] += t.killed_mid_work
        s[f"store {t.state}"] += 1
        s["violations"] += bool(t.problems)
        s["next completes"] += t.next_completes
        problems += [f"{operation} #{i} (after {t.delay_s} s): {p}" for p in t.problems]
        print(f"{i} {operation} {t}", flush=True)
    seconds = time.time() - started
    columns = ["kills", "killed mid-work", "store before", "store partly", "store after", "violations",
               "next completes"]
    lines = [
        f"Command: `.venv/bin/python bench/harden/kill9.py --imports {args.imports} --runs {args.runs} "
        f"--handoffs {args.handoffs} --persons {args.persons} --seed {args.seed}` (part of `make harden`), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, the shared 2-core machine, {seconds:.0f} s.",
        "",
        f"A synthetic county of {args.persons} people with two months of department files. Each trial copies a "
        "prepared data folder, starts the operation in a forked process and sends it SIGKILL after a random "
        f"delay between 0 and {DELAY_FACTOR} × the time the latest uninterrupted run of it took (so that the "
        "delays follow the load of the shared machine; at the end: "
        f"import {county.seconds.get('import', 0):.1f} s, run {county.seconds.get('run', 0):.1f} s, "
        f"handoff {county.seconds.get('handoff', 0):.1f} s), then checks the store and runs the operation "
        f"again, until each operation was killed mid-work as often as asked ({args.imports} imports, "
        f"{args.runs} runs, {args.handoffs} handoffs; at most twice as many kills).",
        "",
        "| operation | " + " | ".join(columns) + " |",
        "| --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    total: collections.Counter = collections.Counter()
    for operation in ("import", "run", "handoff"):
        if operation in stats:
            total.update(stats[operation])
            lines.append(f"| {operation} | " + " | ".join(str(stats[operation][c]) for c in columns) + " |")
    lines.append("| **total** | " + " | ".join(f"**{total[c]}**" for c in columns) + " |")
    lines += [
        "",
        "*Store partly*: a folder of files is imported file by file; some files were imported, each whole. "
        "*Killed mid-work*: the process was still running when killed (the others had finished). "
        "What is checked (`tests/ingest/kill9.py`): *import*: every ledger row has its Parquet files with "
        "the counts it records, files left without a ledger row appear in no current file list and in no "
        "report's periods, and the next import sweeps the killed import's work folder and ends with exactly "
        "the ledger of an uninterrupted import; *run*: the period's current run is absent or finished "
        "with the reference result hash, and the next run finishes with that hash and the reference "
        "cases; *handoff*: not done and no case opened, or done with exactly the reference cases, and the "
        "next handoff completes with them.",
        "",
        f"**{total['kills']} kills, {total['violations']} violations, the next operation completed "
        f"{total['next completes']} of {total['kills']} times.**",
    ]
    if problems:
        lines += ["", "Violations:", ""] + [f"- {p[:300]}" for p in problems[:40]]
    body = "\n".join(lines)
    if not args.no_doc:
        write_section("Killed imports, runs and handoffs", body)
    print(body)
    shutil.rmtree(work, ignore_errors=True)
    return 1 if problems or total["next completes"] != total["kills"] else 0


if __name__ == "__main__":
    sys.exit(main())
