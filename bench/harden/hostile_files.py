"""Hostile files against ingest: generated files of every kind (tests/ingest/hostile.py), each imported
in its own process, plus property-based fuzzing of the readers, the ID functions and the policy parser
(tests/ingest/test_fuzz.py). Writes the section "Hostile files" of docs/RELIABILITY.md and exits
non-zero when any crash, wrong accept, lost row or silent corruption is found.

    .venv/bin/python bench/harden/hostile_files.py [--seeds 10] [--fuzz-examples 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ingest.hostile import PROBLEM_KINDS, generate, soffice, verify_isolated  # noqa: E402
from tests.reliability import write_section  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per kind of file (22 files per seed)")
    parser.add_argument("--fuzz-examples", type=int, default=50, help="JINGZHUN_FUZZ_EXAMPLES for the fuzzing")
    parser.add_argument("--keep", type=Path, help="keep the files and data folder here")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/RELIABILITY.md")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="jz-hostile-"))
    started = time.time()
    files = generate(work / "files", range(args.seeds))
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    problems: list[tuple[str, str, str, str]] = []
    for h in files:
        kind = h.kind.split("/")[0]
        stats = by_kind[kind]
        stats["files"] += 1
        stats["refused (expected)"] += bool(h.refused)
        stats["rows to accept"] += sum(r.bad is None for r in h.rows)
        stats["rows to quarantine"] += sum(r.bad is not None for r in h.rows)
        for problem, detail in verify_isolated(h, work / "data"):
            stats[problem] += 1
            problems.append((h.kind, h.path.name, problem, detail))
    seconds_files = time.time() - started
    started = time.time()
    env = {**os.environ, "JINGZHUN_FUZZ_EXAMPLES": str(args.fuzz_examples)}
    fuzz = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n0", "tests/ingest/test_fuzz.py"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    seconds_fuzz = time.time() - started
    fuzz_line = (fuzz.stdout.strip().splitlines() or ["(no output)"])[-1]
    totals = collections.Counter()
    for stats in by_kind.values():
        totals.update(stats)
    columns = ["files", "refused (expected)", "rows to accept", "rows to quarantine", *PROBLEM_KINDS]
    lines = [
        f"Command: `.venv/bin/python bench/harden/hostile_files.py --seeds {args.seeds} "
        f"--fuzz-examples {args.fuzz_examples}` (part of `make harden`), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, the shared 2-core machine, "
        f"{seconds_files:.0f} s for the files and {seconds_fuzz:.0f} s for the fuzzing.",
        "",
        f"**{len(files)} generated hostile files** (`tests/ingest/hostile.py`, deterministic by seed, ID numbers "
        "from the synthetic generator), each imported in its own process and checked row by row: every "
        "row accepted with exactly the value sent, or quarantined with a reason naming file, sheet, row "
        "and field; files that must be refused refused with an error naming the place.",
        "",
        "| kind | " + " | ".join(columns) + " |",
        "| --- | " + " | ".join("---:" for _ in columns) + " |",
    ]
    for kind in sorted(by_kind):
        lines.append(f"| {kind} | " + " | ".join(str(by_kind[kind][c]) for c in columns) + " |")
    lines.append("| **total** | " + " | ".join(f"**{totals[c]}**" for c in columns) + " |")
    lines += [
        "",
        "Kinds: `xlsx_numeric_ids`: ID numbers stored as numbers among text ones, in the XML of Excel, "
        "LibreOffice, WPS, the .NET Open XML SDK (`x:` prefixes, no `r`), attributes in another order and "
        "single quotes; `csv_excel_ids`: a CSV that went through Excel (`1.10105E+17`, digits ending in "
        "`000`); `csv_open_quote`: an unbalanced quote; `sheets`: a hidden 旧数据 sheet, the hidden sheet "
        "named, two township sheets, households before members; `accounts`: bank accounts stored as "
        "numbers or written back by Excel; `values`: a year in a date column, `12,34`; `oversized`: one "
        "far cell (XFD1048576 and others) in a tiny workbook, a cell of up to 1.2 MB; `encodings`: GB18030 "
        "whose first MiB is ASCII, UTF-8 with damaged bytes, UTF-16 with and without a BOM; `multiline`: quoted "
        "cells with line breaks; `libreoffice` (only where `soffice` is installed"
        + ("" if soffice() else ": NOT installed on this machine, so none")
        + "): an Excel-shaped workbook re-saved by LibreOffice 7 and a CSV of ID numbers opened and saved "
        "as xlsx by it (it turns all-digit ID numbers into numbers, as Excel does).",
        "",
        f"**Property-based fuzzing** (`JINGZHUN_FUZZ_EXAMPLES={args.fuzz_examples} .venv/bin/python -m pytest "
        f"tests/ingest/test_fuzz.py`): readers (CSV bytes with quotes, delimiters, NULs, BOMs and Excel's "
        f"damage spliced in, in four encodings: {args.fuzz_examples} files; workbooks of every writer with "
        f"random cells and random bytes spliced into the sheet XML: {args.fuzz_examples} files), ID functions "
        f"({args.fuzz_examples * 20} texts) and the policy parser ({args.fuzz_examples * 20} expressions): "
        f"`{fuzz_line}`.",
        "",
        f"**Crashes {totals['crash']}, wrong accepts {totals['wrong_accept']}, lost rows {totals['lost_rows']}, "
        f"silent corruptions {totals['corruption']}**"
        + (", fuzzing passed." if fuzz.returncode == 0 else ", FUZZING FAILED."),
    ]
    if problems:
        lines += ["", "Problems found:", ""] + [f"- {k} `{n}`: {p}: {d[:300]}" for k, n, p, d in problems[:40]]
    body = "\n".join(lines)
    if not args.no_doc:
        write_section("Hostile files", body)
    print(body)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems or fuzz.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
