"""Benchmark: the monthly pipeline end to end — synth, import, `run_period` month by month — with seconds
per stage and peak RSS per phase, and, in the same run, a vectorised pandas implementation of the same
monthly comparison as the baseline.

    .venv/bin/python bench/bench_pipeline.py --persons 1000000 --months 2 --threads 2 \
        --memory-limit 12GiB --workers 2 --import-workers 2 --json-out pipeline.json

Phases, each in its own child process (its peak RSS is its own, ru_maxrss of the child and its workers):

1. synth: ``jingzhun.synth.generate(..., fmt="parquet", workers=--workers)``;
2. import: regions, then each month's files (``--import-workers`` processes, one file each);
3. run: ``run_period`` for each month (``--threads``, ``--memory-limit``; the handoff of alerts to cases
   included): seconds of every stage (snapshot, load, link, evaluate, conflicts, diff, write, handoff);
4. baseline (unless ``--no-baseline``): what a capable contractor would write with pandas, no row loops —
   read the same accepted Parquet, link feeds exactly by ID number, compute eight representative household
   alerts (medical ×3, income ×2, housing, disaster, serious illness), diff against last month's output —
   and the same work on Jingzhun (exact linkage only, the same eight rules) on a copy of the data, to check
   that both find the same alerts. Ratios: pandas seconds / Jingzhun seconds (target ≥ 5) and Jingzhun
   peak RSS / pandas peak RSS (target ≤ 0.25), for the last month.

Figures go to stdout and, with ``--json-out``, to a JSON file. Targets of the run itself (DESIGN.md):
34 M people ≤ 3 min and ≤ 12 GiB on 2 cores. Use ``--work DIR --keep`` to keep the data, and
``--skip-synth`` / ``--skip-import`` to reuse it.
"""

from __future__ import annotations

import argparse
import calendar
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT = "@@result "

#: the representative rules both sides compute for the comparison
SAME_RULES = (
    "trigger.medical_oop_registered",
    "trigger.medical_oop_others",
    "trigger.chronic_outpatient",
    "monitor.unstable_lifted",
    "monitor.marginal",
    "trigger.unsafe_house",
    "trigger.disaster_loss",
    "trigger.serious_illness",
)
PERSON_FEEDS = ("assistance", "civil_registry", "disability_cert", "employment", "enrolment", "housing_safety",
                "medical_claim")


# --- helpers -----------------------------------------------------------------------------------------

def peak_mib() -> float:
    """Peak RSS of this process or any of its (waited-for) children, MiB."""
    usage = resource.getrusage
    return max(usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def cpu_s() -> float:
    usage = resource.getrusage
    return sum(getattr(usage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


def du_mib(path: Path) -> float:
    if not path.exists():
        return 0.0
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True).stdout.split()
    return int(out[0]) / 1024 if out else 0.0


def months_from(start: str, n: int) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def child(phase: str, args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    """Run ``phase`` in a fresh Python process; returns the JSON it printed last, with wall seconds."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--work", str(args.work),
           "--persons", str(args.persons), "--months", str(args.months), "--start", args.start,
           "--workers", str(args.workers), "--import-workers", str(args.import_workers),
           "--split-rows", str(args.split_rows), *extra]
    if args.import_memory_limit:
        cmd += ["--import-memory-limit", args.import_memory_limit]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"phase {phase} {' '.join(extra)} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT):])
    result["process_wall_s"] = round(wall, 2)
    return result


def emit(result: dict[str, Any]) -> None:
    result.setdefault("peak_rss_mib", round(peak_mib(), 1))
    result.setdefault("cpu_s", round(cpu_s(), 2))
    print(RESULT + json.dumps(result, default=str), flush=True)


# --- phases (child side) -----------------------------------------------------------------------------

def phase_synth(args: argparse.Namespace) -> None:
    from jingzhun.synth import generate

    out = args.work / "synth"
    started = time.perf_counter()
    manifest = generate(out, persons=args.persons, seed=11, start=args.start, months=args.months, fmt="parquet",
                        workers=args.workers)
    seconds = time.perf_counter() - started
    rows = sum(f.rows for f in manifest.files if f.kind in ("registry", "feed"))
    emit({"seconds": round(seconds, 2), "rows": rows, "disk_mib": round(du_mib(out), 1)})


def phase_split(args: argparse.Namespace) -> None:
    """Split every synth file of more than ``--split-rows`` rows into parts (as a department may send an
    extract in several files, e.g. one per township), so that imports can run in parallel; streaming."""
    import pyarrow.parquet as pq

    source, target = args.work / "synth", args.work / "split"
    started = time.perf_counter()
    files = parts = 0
    for path in sorted(source.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]/*.parquet")):
        dest = target / path.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        reader = pq.ParquetFile(path)
        if reader.metadata.num_rows <= args.split_rows:
            shutil.copy2(path, dest / path.name)
            files, parts = files + 1, parts + 1
            continue
        for i, batch in enumerate(reader.iter_batches(batch_size=args.split_rows)):
            pq.write_table(pa_table_from(batch), dest / f"{path.stem}.part{i:03d}.parquet", compression="zstd")
            parts += 1
        files += 1
    emit({"seconds": round(time.perf_counter() - started, 2), "files": files, "parts": parts})


def pa_table_from(batch: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_batches([batch])


def _import_one(data: str, path: str, memory_limit: str | None = None) -> dict[str, Any]:
    from jingzhun.ingest import import_file

    r = import_file(data, path, user="bench", memory_limit=memory_limit)
    return {"file": Path(path).name, "status": r.status, "rows_in": r.rows_in, "rows_accepted": r.rows_accepted,
            "peak_rss_mib": round(peak_mib(), 1)}


def phase_import(args: argparse.Namespace) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from jingzhun import regions
    from jingzhun.ops import open_store
    from jingzhun.store import DataFolder

    data = args.work / "data"
    month_dir = args.work / ("split" if args.split_rows else "synth") / args.month
    files = sorted(month_dir.glob("*.parquet"), key=lambda p: -p.stat().st_size)
    started = time.perf_counter()
    if not (data / "reference").exists():
        regions.save_reference(regions.load_csv(args.work / "synth" / "regions.csv"), data)
    open_store(DataFolder(data).ops_url).dispose()  # migrated once, before the workers start
    if args.import_workers > 1:
        with ProcessPoolExecutor(args.import_workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_import_one, [str(data)] * len(files), [str(f) for f in files],
                                    [args.import_memory_limit] * len(files)))
    else:
        results = [_import_one(str(data), str(f), args.import_memory_limit) for f in files]
    seconds = time.perf_counter() - started
    bad = [r for r in results if r["status"] not in ("imported", "already_imported")]
    if bad:
        raise SystemExit(f"imports failed: {bad}")
    rows = sum(r["rows_in"] for r in results)
    emit({"month": args.month, "seconds": round(seconds, 2), "files": len(results), "rows": rows,
          "rows_per_s": round(rows / seconds) if seconds else None,
          "peak_rss_mib": round(max([peak_mib(), *(r["peak_rss_mib"] for r in results)]), 1),
          "data_disk_mib": round(du_mib(data), 1)})


def phase_run(args: argparse.Namespace) -> None:
    import splink  # noqa: F401  (imported before the clock starts, like the pandas side's imports)

    import jingzhun.link
    import jingzhun.policy
    from jingzhun.pipeline import run_period

    jingzhun.link.link_feed_result  # noqa: B018
    data = args.work / (args.data_name or "data")
    started = time.perf_counter()
    outcome = run_period(data, args.month, force=True, threads=args.threads, memory_limit=args.memory_limit,
                         policy_dir=args.policy_dir, link_config_dir=args.link_config, handoff=not args.no_handoff)
    seconds = time.perf_counter() - started
    stages = {k: v.get("seconds") for k, v in outcome.stages.items()}
    handoff = outcome.handoff
    if handoff is not None:
        stages["handoff"] = handoff.counts.get("seconds")
    emit({"month": args.month, "run_id": outcome.run_id, "seconds": round(seconds, 2), "stages": stages,
          "alerts": outcome.summary.get("alerts"), "households": outcome.summary.get("households"),
          "members": outcome.summary.get("members"),
          "handoff": handoff.counts if handoff is not None else None,
          "link": {k: {x: y for x, y in v.items() if isinstance(y, int | float)}
                   for k, v in (outcome.summary.get("linkage") or {}).items()},
          "spill_mib": round(du_mib(data / "spill"), 1)})


def phase_pandas(args: argparse.Namespace) -> None:
    """The contractor's monthly comparison (see :func:`pandas_month`)."""
    import numpy  # noqa: F401  (imports before the clock starts, like the run's)
    import pandas  # noqa: F401

    from jingzhun.policy import load

    policy = load(ROOT / "policies")  # the contractor's configuration
    started = time.perf_counter()
    alerts = pandas_month(args.work / "data", args.month, args.previous, args.out, policy)
    seconds = time.perf_counter() - started
    counts = alerts["status"].value_counts().to_dict()
    emit({"month": args.month, "seconds": round(seconds, 2), "alerts": {k: int(v) for k, v in counts.items()}})


# --- the pandas baseline -------------------------------------------------------------------------------

def _month_start(period: str, back: int) -> date:
    y, m = map(int, period.split("-"))
    m -= back
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def _period_end(period: str) -> date:
    y, m = map(int, period.split("-"))
    return date(y, m, calendar.monthrange(y, m)[1])


def pandas_month(data_root: Path, period: str, previous: str | None, out: str | None, policy: Any) -> Any:
    """Household alerts of ``period`` for :data:`SAME_RULES`, diffed against last month's output file.

    Reads the snapshot's accepted Parquet files (the same the run reads; the list of files comes from
    the import ledger), keeps the newest record per key, links person-level feeds to members on the
    normalised ID number (numbers listed once in the registry), and evaluates each rule with vectorised
    pandas operations. Parameters come from the shipped policy files (a contractor keeps them in config).
    """
    import numpy as np
    import pandas as pd

    from jingzhun.ops import open_store
    from jingzhun.pipeline.snapshot import take_snapshot
    from jingzhun.store import DataFolder

    folder = DataFolder(data_root)
    snapshot = take_snapshot(folder, open_store(folder.ops_url, upgrade=False), period)

    def param(name: str, province: str | None = None, rule: str | None = None) -> Any:
        found = policy.param(policy.rules.get(rule) if rule else None, name)
        assert found is not None, name
        return found.value(period, province)

    def read(dataset: str, columns: list[str], key: list[str]) -> pd.DataFrame:
        files = snapshot.files(dataset)
        if not files:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        frame = pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)
        return frame.drop_duplicates(subset=key, keep="last")

    end = pd.Timestamp(_period_end(period))
    month0 = pd.Timestamp(_month_start(period, 0))
    year0 = pd.Timestamp(_month_start(period, 11))

    household = read("household", ["household_id", "village_code", "household_type", "monitoring_type",
                                   "house_grade"], ["household_id"])
    member = read("member", ["person_id", "household_id", "id_number", "health"], ["person_id"])
    income = read("income", ["household_id", "year", "wage_income", "business_income", "property_income",
                             "transfer_income", "business_costs"], ["household_id", "year"])

    # exact linkage: a feed record's normalised ID number listed once in the registry
    ids = member.dropna(subset=["id_number"])
    ids = ids[~ids["id_number"].duplicated(keep=False)].set_index("id_number")[["person_id", "household_id"]]

    def linked(dataset: str, columns: list[str], date_col: str) -> pd.DataFrame:
        feed = read(dataset, ["record_id", "id_number", *columns], ["record_id"])
        feed = feed.join(ids, on="id_number", how="inner")
        feed[date_col] = pd.to_datetime(feed[date_col])
        return feed[feed[date_col] <= end]

    claims = linked("medical_claim", ["claim_date", "visit_type", "out_of_pocket", "serious_illness"], "claim_date")
    claims["oop"] = claims["out_of_pocket"].astype("float64")
    housing = linked("housing_safety", ["grade", "assess_date"], "assess_date")
    disasters = read("disaster_loss", ["record_id", "village_code", "event_date"], ["record_id"])
    disasters["event_date"] = pd.to_datetime(disasters["event_date"])

    h = household.set_index("household_id")
    registered = (h["household_type"] == "脱贫户") | h["monitoring_type"].notna()
    alerts: list[pd.DataFrame] = []

    def add(rule: str, households: Any) -> None:
        alerts.append(pd.DataFrame({"household_id": pd.Index(households).unique(), "rule_id": rule}))

    in_year = claims[claims["claim_date"] >= year0]
    inpatient = in_year[in_year["visit_type"] == "住院"].groupby("household_id")["oop"].sum()
    inpatient = inpatient.reindex(h.index, fill_value=0.0)
    add("trigger.medical_oop_registered",
        h.index[registered & (inpatient >= float(param("inpatient_oop_registered", rule="trigger.medical_oop_registered")))])
    add("trigger.medical_oop_others", h.index[~registered & (inpatient >= float(param("inpatient_oop_others", rule="trigger.medical_oop_others")))])
    this_month = claims[claims["claim_date"] >= month0]
    chronic = this_month[this_month["visit_type"] == "慢特病门诊"].groupby("household_id")["oop"].sum()
    add("trigger.chronic_outpatient", chronic.index[chronic >= float(param("chronic_outpatient_monthly", rule="trigger.chronic_outpatient"))])

    # per-capita net income of the latest income year up to the period's year
    inc = income[income["year"] <= int(period[:4])]
    inc = inc[inc["year"] == inc.groupby("household_id")["year"].transform("max")].set_index("household_id")
    parts = ["wage_income", "business_income", "property_income", "transfer_income"]
    net = sum(inc[c].astype("float64").fillna(0.0) for c in parts) - inc["business_costs"].astype("float64").fillna(0.0)
    size = member.groupby("household_id").size()
    per_capita = (net / size.reindex(net.index)).reindex(h.index)
    province = h["village_code"].str[:2]
    line = province.map({p: float(param("monitoring_line", p)) for p in province.unique()})
    low = (per_capita <= line).fillna(False)
    add("monitor.unstable_lifted", h.index[(h["household_type"] == "脱贫户") & low])
    add("monitor.marginal", h.index[(h["household_type"] == "一般农户") & low])

    grades = list(param("unsafe_house_grades"))
    assessed = housing[(housing["assess_date"] >= year0) & housing["grade"].isin(grades)]["household_id"]
    add("trigger.unsafe_house", h.index[h.index.isin(assessed) | h["house_grade"].isin(grades)])

    hit = disasters[(disasters["event_date"] >= month0) & (disasters["event_date"] <= end)]["village_code"]
    add("trigger.disaster_loss", h.index[registered & h["village_code"].isin(hit)])

    serious = claims[claims["serious_illness"].fillna(False).astype(bool)]
    per_person = pd.DataFrame({
        "now": (serious["claim_date"] >= month0).groupby(serious["person_id"]).sum(),
        "year": (serious["claim_date"] >= year0).groupby(serious["person_id"]).sum(),
    })
    new_ill = per_person.index[(per_person["now"] > 0) & (per_person["now"] == per_person["year"])]
    m = member.set_index("person_id")
    m = m.loc[m.index.intersection(new_ill)]
    add("trigger.serious_illness", m[m["health"].isna() | (m["health"] != "大病")]["household_id"])

    current = pd.concat(alerts, ignore_index=True)
    current["first_period"] = period
    if previous:
        before = pd.read_parquet(previous)
        before = before[before["status"] != "cleared"]
        merged = current.merge(before[["household_id", "rule_id", "first_period"]], how="outer",
                               on=["household_id", "rule_id"], suffixes=("", "_prev"), indicator=True)
        merged["status"] = np.select([merged["_merge"] == "left_only", merged["_merge"] == "right_only"],
                                     ["new", "cleared"], "persisting")
        merged["first_period"] = merged["first_period_prev"].fillna(merged["first_period"]).fillna(period)
        current = merged[["household_id", "rule_id", "status", "first_period"]]
    else:
        current["status"] = "new"
    current = current.sort_values(["household_id", "rule_id"], ignore_index=True)
    if out:
        current.to_parquet(out, index=False)
    return current


# --- the same work on Jingzhun: eight rules, exact linkage --------------------------------------------

def same_work_config(target: Path) -> tuple[Path, Path]:
    """A policy folder with :data:`SAME_RULES` only and a linkage folder without Splink."""
    import yaml

    policies, links = target / "policies", target / "links"
    for path in (ROOT / "policies").rglob("*.yaml"):
        if path.name.endswith(".test.yaml"):
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "rules" in doc:
            doc["rules"] = [r for r in doc["rules"] if r["id"] in SAME_RULES]
            if not doc["rules"]:
                continue
        dest = policies / path.relative_to(ROOT / "policies")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    links.mkdir(parents=True, exist_ok=True)
    for feed in PERSON_FEEDS:
        (links / f"{feed}.yaml").write_text(f"name: {feed}\nprobabilistic: {{enabled: false}}\n")
    return policies, links


def agreement(work: Path, run_id: str, pandas_file: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    ours = {(a["household_id"], a["rule_id"], a["status"]) for a in
            pq.read_table(work / "same" / "runs" / run_id / "alerts.parquet").to_pylist()
            if a["rule_id"] in SAME_RULES}
    theirs = {(a["household_id"], a["rule_id"], a["status"]) for a in pq.read_table(pandas_file).to_pylist()}
    only_ours, only_theirs = ours - theirs, theirs - ours
    by_rule: dict[str, list[int]] = {}
    for _, rule, _ in only_ours:
        by_rule.setdefault(rule, [0, 0])[0] += 1
    for _, rule, _ in only_theirs:
        by_rule.setdefault(rule, [0, 0])[1] += 1
    return {"jingzhun": len(ours), "pandas": len(theirs), "both": len(ours & theirs),
            "only_jingzhun": len(only_ours), "only_pandas": len(only_theirs),
            "differences_by_rule": {k: {"only_jingzhun": v[0], "only_pandas": v[1]} for k, v in by_rule.items()}}


# --- the parent --------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    import psutil

    return {"host": platform.node(), "cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version()}


def print_run(label: str, r: dict[str, Any]) -> None:
    stages = " · ".join(f"{k} {v:.1f}" for k, v in r["stages"].items() if v is not None)
    print(f"  {label}: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mib']:,.0f} MiB, CPU {r['cpu_s']:.0f} s; {stages}")
    if r.get("alerts"):
        print(f"    alerts {r['alerts']}; handoff {r.get('handoff')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--start", default="2025-01")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads of a run (default: every core)")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory limit of a run, e.g. 12GiB")
    ap.add_argument("--workers", type=int, default=1, help="synth processes")
    ap.add_argument("--import-workers", type=int, default=1, help="import processes (one file each)")
    ap.add_argument("--import-memory-limit", default=None,
                    help="DuckDB memory limit of each import process, e.g. 8GiB (default: 80%% of the memory)")
    ap.add_argument("--split-rows", type=int, default=0,
                    help="split synth files into parts of at most this many rows before importing them in parallel")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the working folder")
    ap.add_argument("--skip-synth", action="store_true", help="reuse WORK/synth")
    ap.add_argument("--skip-import", action="store_true", help="reuse WORK/data (imports done)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the pandas baseline and the same-work run")
    ap.add_argument("--baseline-max-persons", type=int, default=2_000_000,
                    help="skip the baseline above this size (pandas holds everything in memory)")
    ap.add_argument("--no-handoff", action="store_true", help="runs without handing alerts to cases")
    ap.add_argument("--exact-only", action="store_true",
                    help="full runs with exact linkage only (no Splink; measure that with bench_linkage.py)")
    ap.add_argument("--json-out", type=Path, default=None)
    # child-side options
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--month", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data-name", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--policy-dir", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--link-config", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--previous", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.phase:
        phases = {"synth": phase_synth, "split": phase_split, "import": phase_import, "run": phase_run,
                  "pandas": phase_pandas}
        phases[args.phase](args)
        return 0

    if not args.no_baseline and args.persons > args.baseline_max_persons:
        print(f"no baseline above {args.baseline_max_persons:,} persons (--baseline-max-persons)", flush=True)
        args.no_baseline = True
    if not args.no_baseline and importlib.util.find_spec("pandas") is None:
        print("pandas is not installed here (it comes with the dev extra): no baseline", flush=True)
        args.no_baseline = True
    temporary = args.work is None
    args.work = Path(args.work or tempfile.mkdtemp(prefix="bench-pipeline-")).resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    months = months_from(args.start, args.months)
    report: dict[str, Any] = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()
                                                            if not k.startswith(("phase", "month", "data_name", "policy_dir", "link_config", "previous", "out"))},
                              "persons": args.persons, "months": months}

    def save() -> None:
        if args.json_out:
            report["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
            args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))

    print(f"pipeline benchmark: {args.persons:,} persons, months {', '.join(months)}, threads {args.threads}, "
          f"memory limit {args.memory_limit}, work {args.work}; load average {os.getloadavg()[0]:.2f}", flush=True)
    try:
        if not args.skip_synth:
            shutil.rmtree(args.work / "synth", ignore_errors=True)
            report["synth"] = r = child("synth", args)
            print(f"synth: {r['seconds']:.1f} s, {r['rows']:,} rows, peak RSS {r['peak_rss_mib']:,.0f} MiB, "
                  f"disk {r['disk_mib']:,.0f} MiB", flush=True)
            save()
        if not args.skip_import:
            shutil.rmtree(args.work / "data", ignore_errors=True)
            if args.split_rows:
                shutil.rmtree(args.work / "split", ignore_errors=True)
                report["split"] = r = child("split", args)
                print(f"split into parts of ≤ {args.split_rows:,} rows: {r['files']} files → {r['parts']} parts in "
                      f"{r['seconds']:.1f} s", flush=True)
            report["import"] = []
            for month in months:
                r = child("import", args, "--month", month)
                report["import"].append(r)
                print(f"import {month}: {r['seconds']:.1f} s, {r['rows']:,} rows = {r['rows_per_s']:,} rows/s, "
                      f"peak RSS {r['peak_rss_mib']:,.0f} MiB, data folder {r['data_disk_mib']:,.0f} MiB", flush=True)
                save()
        if not args.no_baseline:  # a copy of the imported data for the same-work runs
            shutil.rmtree(args.work / "same", ignore_errors=True)
            shutil.copytree(args.work / "data", args.work / "same", ignore=shutil.ignore_patterns("runs", "spill"))
        report["runs"] = []
        extra = ["--no-handoff"] if args.no_handoff else []
        linkage = "exact + probabilistic linkage"
        if args.exact_only:
            _, exact_links = same_work_config(args.work / "exact-config")
            extra += ["--link-config", str(exact_links)]
            linkage = "exact linkage only"
        print(f"runs (every rule, {linkage}{'' if args.no_handoff else ', handoff'}):", flush=True)
        for month in months:
            r = child("run", args, "--month", month, *extra)
            report["runs"].append(r)
            print_run(month, r)
            save()
        last = report["runs"][-1]
        scale = 34_000_000 / args.persons
        report["extrapolation_34m"] = {"seconds_linear": round(last["seconds"] * scale),
                                       "peak_rss_mib_linear": round(last["peak_rss_mib"] * scale)}
        print(f"run of {months[-1]}: {last['seconds']:.1f} s, peak {last['peak_rss_mib']:,.0f} MiB; linear "
              f"estimate for 34 M persons: {last['seconds'] * scale / 60:,.1f} min, "
              f"{last['peak_rss_mib'] * scale / 1024:,.1f} GiB (target ≤ 3 min, ≤ 12 GiB on 2 cores)", flush=True)

        if not args.no_baseline:
            policies, links = same_work_config(args.work / "same-config")
            report["same_work_runs"], report["pandas"] = [], []
            previous = None
            for month in months:
                r = child("run", args, "--month", month, "--data-name", "same", "--policy-dir", str(policies),
                          "--link-config", str(links), "--no-handoff")
                report["same_work_runs"].append(r)
                out = args.work / f"pandas-{month}.parquet"
                p = child("pandas", args, "--month", month, "--out", str(out),
                          *(["--previous", str(previous)] if previous else []))
                report["pandas"].append(p)
                previous = out
                print_run(f"same work on Jingzhun {month}", r)
                print(f"  pandas {month}: {p['seconds']:.1f} s, peak RSS {p['peak_rss_mib']:,.0f} MiB, "
                      f"alerts {p['alerts']}", flush=True)
                save()
            same, pd_last, full = report["same_work_runs"][-1], report["pandas"][-1], report["runs"][-1]
            report["agreement"] = agreement(args.work, same["run_id"], previous)  # type: ignore[arg-type]
            report["ratios"] = {
                "pandas_s_over_same_work_s": round(pd_last["seconds"] / same["seconds"], 2),
                "pandas_s_over_full_run_s": round(pd_last["seconds"] / full["seconds"], 2),
                "same_work_rss_over_pandas_rss": round(same["peak_rss_mib"] / pd_last["peak_rss_mib"], 2),
                "full_run_rss_over_pandas_rss": round(full["peak_rss_mib"] / pd_last["peak_rss_mib"], 2),
            }
            ratios = report["ratios"]
            print(f"alerts of {months[-1]} (8 rules): {report['agreement']}")
            print(f"ratios for {months[-1]}: pandas / Jingzhun same work {ratios['pandas_s_over_same_work_s']}× "
                  f"(full run {ratios['pandas_s_over_full_run_s']}×; target ≥ 5×); peak RSS Jingzhun / pandas "
                  f"{ratios['same_work_rss_over_pandas_rss']} (full run {ratios['full_run_rss_over_pandas_rss']}; "
                  "target ≤ 0.25)", flush=True)
        report["disk_mib"] = {"synth": round(du_mib(args.work / "synth"), 1), "data": round(du_mib(args.work / "data"), 1)}
        print(f"disk: synth {report['disk_mib']['synth']:,.0f} MiB, data folder {report['disk_mib']['data']:,.0f} MiB; "
              f"load average now {os.getloadavg()[0]:.2f}")
        save()
    finally:
        if temporary and not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
