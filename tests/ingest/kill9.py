"""kill -9 at random moments of imports, monthly runs and handoffs, and what must hold afterwards.

A small synthetic county is prepared once; each trial copies a prepared data folder, starts the
operation in a forked process, kills it with SIGKILL after a random delay (up to 1.1 × what the latest
uninterrupted run of it took, so that the delays follow the machine's load), checks that the store is *before or after* the operation, never
in between, and then runs the operation again and checks that it completes with the same result as
an uninterrupted one.

- **import** (the second month's folder of files): every ledger row has its files with the counts it
  records; files left without a ledger row are in no current file list and no report's periods;
  the next import completes, sweeps the killed import's work folder and ends with exactly the ledger
  counts of an uninterrupted import (no file twice, none missing).
- **run** (the second month): the period's current run is absent or a finished run with the
  reference result hash; the next run completes with the reference hash and the reference cases.
- **handoff** (the second month's alerts to cases): the run's handoff is not done and no case was
  opened, or it is done with exactly the reference cases; the next handoff completes with them.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ingest.isolate import Child, in_child

FIRST, SECOND = "2025-01", "2025-02"
DELAY_FACTOR = 1.1  # kills up to 1.1 × an uninterrupted run's time: a few land after it finished


@dataclass
class County:
    """Prepared data folders and the reference outcomes of uninterrupted operations."""

    work: Path
    synth: Path
    before_import: Path  # regions and the first month imported
    before_run: Path  # both months imported, the first month run (with its handoff)
    before_handoff: Path  # and the second month run without handing its alerts over
    run_id: str = ""  # the second month's run in before_handoff
    reference: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _ok(answer: dict) -> Any:
    if "ok" not in answer:
        raise RuntimeError(f"a preparation step failed: {answer}")
    return answer["ok"]


def _import(data: Path, folder: Path) -> list[dict]:
    from jingzhun.ingest import import_files

    return [r.to_dict() for r in import_files(data, [folder])]


def _run(data: Path, period: str, handoff: bool = True) -> dict:
    from jingzhun.pipeline import run_period

    outcome = run_period(data, period, handoff=handoff, threads=1)
    return {"run_id": outcome.run_id, "status": outcome.status, "result_hash": outcome.result_hash}


def _handoff(data: Path, run_id: str) -> dict:
    from jingzhun.ops import open_store
    from jingzhun.pipeline.handoff import hand_off_run
    from jingzhun.store import DataFolder

    outcome = hand_off_run(data, run_id, open_store(DataFolder(data).ops_url))
    return {"status": outcome.status}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    value = _ok(in_child(fn))
    return value, time.monotonic() - started


def prepare(work: Path, persons: int = 300, seed: int = 7, runs: bool = True) -> County:
    """Generate the county and the prepared data folders (each step in a child process); with
    ``runs=False`` only what import trials need."""
    work.mkdir(parents=True, exist_ok=True)
    synth = work / "synth"

    def make() -> None:
        from jingzhun import regions
        from jingzhun.synth import generate

        generate(synth, persons=persons, months=2, fmt="csv", seed=seed)
        regions.save_reference(regions.load_csv(synth / "regions.csv"), work / "a")

    _ok(in_child(make))
    county = County(work, synth, work / "a", work / "b", work / "c")
    _ok(in_child(lambda: _import(county.before_import, synth / FIRST)))
    shutil.copytree(county.before_import, county.before_run)
    imported, county.seconds["import"] = _timed(lambda: _import(county.before_run, synth / SECOND))
    county.reference["import"] = _ledger_counts(county.before_run, SECOND)
    assert all(r["status"] == "imported" for r in imported), imported
    if not runs:
        return county
    _ok(in_child(lambda: _run(county.before_run, FIRST)))
    shutil.copytree(county.before_run, county.before_handoff)
    shutil.copytree(county.before_run, work / "ref-run")
    ran, county.seconds["run"] = _timed(lambda: _run(work / "ref-run", SECOND))
    county.reference["result_hash"] = ran["result_hash"]
    county.reference["cases_after_run"] = _cases(work / "ref-run")
    county.reference["cases_before"] = _cases(county.before_run)
    skipped = _ok(in_child(lambda: _run(county.before_handoff, SECOND, handoff=False)))
    county.run_id = skipped["run_id"]
    shutil.copytree(county.before_handoff, work / "ref-handoff")
    _, county.seconds["handoff"] = _timed(lambda: _handoff(work / "ref-handoff", county.run_id))
    county.reference["cases_after_handoff"] = _cases(work / "ref-handoff")
    return county


def _ledger_counts(data: Path, period: str) -> dict[str, list[int]]:
    with sqlite3.connect(data / "ops.sqlite") as con:
        rows = con.execute(
            "SELECT dataset, rows_in, rows_accepted, rows_quarantined FROM import_ledger WHERE period = ? "
            "ORDER BY dataset",
            [period],
        ).fetchall()
    return {d: [a, b, c] for d, a, b, c in rows}


def _cases(data: Path) -> int:
    with sqlite3.connect(data / "ops.sqlite") as con:
        return int(con.execute("SELECT count(*) FROM monitoring_case").fetchone()[0])


# ---------------------------------------------------------------- checks (in a child process)


def _check_import_store(data: Path) -> list[str]:
    """Before-or-after for every file: ledger rows have their files with their counts; files without a
    ledger row are never listed."""
    import pyarrow.parquet as pq

    from jingzhun.catalog import DATASETS
    from jingzhun.ingest.ledger import accepted_file, current_files, list_imports
    from jingzhun.reports.data import periods_of
    from jingzhun.store import DataFolder

    problems = []
    records = list_imports(data)
    known = {r.id for r in records}
    for r in records:
        path = accepted_file(data, r)
        if not path.exists():
            problems.append(f"ledger row {r.id} ({r.dataset}) has no file")
        elif pq.read_metadata(path).num_rows != r.rows_accepted:
            problems.append(f"{path.name}: {pq.read_metadata(path).num_rows} rows, ledger says {r.rows_accepted}")
        q = DataFolder(data).quarantine_file(r.id)
        if bool(r.rows_quarantined) != q.exists():
            problems.append(f"ledger row {r.id}: quarantine file {'missing' if r.rows_quarantined else 'extra'}")
    orphans = [
        p for p in (data / "datasets").glob("*/period=*/*") if p.is_file() and p.stem not in known
    ]
    for name in DATASETS:
        for period in (FIRST, SECOND):
            listed = set(current_files(data, name, period))
            if any(o in listed for o in orphans):
                problems.append(f"an orphan file is listed among the current files of {name} {period}")
        for period in periods_of(data, name):
            if not any(r.dataset == name and r.period == period for r in records):
                problems.append(f"reports list period {period} of {name} without a ledger import")
    return problems


def _check_run_store(data: Path, reference_hash: str) -> list[str]:
    from jingzhun.ops import open_store
    from jingzhun.pipeline import current_run
    from jingzhun.store import DataFolder

    run = current_run(open_store(DataFolder(data).ops_url), SECOND)
    if run is not None and run.result_hash != reference_hash:
        return [f"the current run {run.id} has result hash {run.result_hash}, not {reference_hash}"]
    return []


def _check_handoff_store(data: Path, run_id: str, before: int, after: int) -> list[str]:
    from jingzhun.ops import open_store
    from jingzhun.pipeline import get_run
    from jingzhun.store import DataFolder

    status = get_run(open_store(DataFolder(data).ops_url), run_id).handoff_status
    cases = _cases(data)
    if status == "done" and cases != after:
        return [f"handoff done with {cases} cases, not {after}"]
    if status != "done" and cases != before:
        return [f"handoff {status} but {cases} cases (before: {before}, after: {after})"]
    return []


# ---------------------------------------------------------------- trials


@dataclass
class Trial:
    operation: str
    delay_s: float
    killed_mid_work: bool
    state: str  # before | partly (imports: some files, each whole) | after
    problems: list[str]
    next_completes: bool


def _state_of_import(data: Path, reference: dict) -> str:
    """before (no file of the folder imported), after (all), or partly: some files imported, each of
    them whole (a folder is imported file by file, each file all or nothing)."""
    counts = _ledger_counts(data, SECOND)
    return "before" if not counts else "after" if counts == reference else "partly"


def trial(county: County, operation: str, rng: random.Random, index: int) -> Trial:
    """One kill -9 of ``operation`` (import, run or handoff) and its checks."""
    data = county.work / f"trial-{operation}-{index}"
    template = {
        "import": county.before_import,
        "run": county.before_run,
        "handoff": county.before_handoff,
    }[operation]
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(template, data)
    ops: dict[str, Callable[[], Any]] = {
        "import": lambda: _import(data, county.synth / SECOND),
        "run": lambda: _run(data, SECOND),
        "handoff": lambda: _handoff(data, county.run_id),
    }
    delay = rng.uniform(0.0, DELAY_FACTOR * county.seconds[operation])
    child = Child(ops[operation])
    time.sleep(delay)
    killed = child.kill()
    problems: list[str] = []
    if operation == "import":
        found = in_child(lambda: _check_import_store(data))
        state = _state_of_import(data, county.reference["import"])
    elif operation == "run":
        found = in_child(lambda: _check_run_store(data, county.reference["result_hash"]))
        state = "after" if _ok(in_child(lambda: _current_hash(data))) else "before"
    else:
        ref = county.reference
        found = in_child(
            lambda: _check_handoff_store(data, county.run_id, ref["cases_before"], ref["cases_after_handoff"])
        )
        state = "after" if _cases(data) == ref["cases_after_handoff"] != ref["cases_before"] else "before"
    problems += _problems(found)
    started = time.monotonic()
    again = in_child(ops[operation])
    completes = "ok" in again
    if completes:  # an uninterrupted run: the next kill's delays follow the machine's current speed
        county.seconds[operation] = (county.seconds[operation] + time.monotonic() - started) / 2
    if not completes:
        problems.append(f"the next {operation} failed: {again}")
    elif operation == "import":
        if _ledger_counts(data, SECOND) != county.reference["import"]:
            problems.append(f"after the next import the ledger has {_ledger_counts(data, SECOND)}")
        leftovers = [p.name for p in (data / "tmp").glob("ingest-*")] if (data / "tmp").exists() else []
        if leftovers:
            problems.append(f"work folders left: {leftovers}")
        more = in_child(lambda: _check_import_store(data))
        problems += _problems(more)
    elif operation == "run":
        if again["ok"]["result_hash"] != county.reference["result_hash"]:
            problems.append(f"the next run's hash is {again['ok']['result_hash']}")
        if _cases(data) != county.reference["cases_after_run"]:
            problems.append(f"after the next run {_cases(data)} cases, not {county.reference['cases_after_run']}")
    elif _cases(data) != county.reference["cases_after_handoff"]:
        problems.append(f"after the next handoff {_cases(data)} cases")
    shutil.rmtree(data, ignore_errors=True)
    return Trial(operation, round(delay, 3), killed, state, problems, completes)


def _problems(answer: dict) -> list[str]:
    return [str(p) for p in answer["ok"]] if "ok" in answer else [f"the check itself failed: {answer}"]


def _current_hash(data: Path) -> str | None:
    from jingzhun.ops import open_store
    from jingzhun.pipeline import current_run
    from jingzhun.store import DataFolder

    run = current_run(open_store(DataFolder(data).ops_url), SECOND)
    return run.result_hash if run else None
