"""Schemathesis over the whole OpenAPI document of the API: no server error for any input, and every
status code the API answers is declared in the document.

    .venv/bin/python bench/harden/api_fuzz.py                 # 100 examples per operation, ~5 minutes
    .venv/bin/python bench/harden/api_fuzz.py --quick         # the county officer, 20 per operation,
                                                              # fuzzing phase only (make test, ~30 s)
    .venv/bin/python bench/harden/api_fuzz.py --examples 500 --no-doc

The small county of the page tests (bench/harden/support/harness.py) with its operational store on
PostgreSQL (127.0.0.1:5432, database ``test``, a schema of its own), served by ``jingzhun serve
--workers 2`` on loopback. Schemathesis (``st run``) signs in once per role given (default: a county
officer, a village officer and an admin: writes, a narrow region, and a role without personal data) and
runs its coverage, fuzzing and stateful phases with the checks ``not_a_server_error`` and
``status_code_conformance``; path identifiers (cases, households, alerts, runs) are drawn from the ones
that exist part of the time (a dictionary), so the generated requests also reach the code behind them.
``POST /auth/logout`` is left out (it would end the run's own session). Writes the figures into the
section "API fuzzing" of docs/RELIABILITY.md (unless ``--no-doc``) and exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.harness import Server, build, machine, pg_schema, shown_args, write_section

CHECKS = "not_a_server_error,status_code_conformance"
ROLES = ("xian", "cun", "root")  # county, village, admin (tests/web/world.py)


def config(folder: Path, case_ids: list[int]) -> Path:
    """A schemathesis.toml: known identifiers offered for the path parameters part of the time."""
    from support.harness import world

    values = {
        "cases": case_ids,
        "households": ["H1", "H3", "H5", "H6"],
        "alerts": [f"{world.RUN2}~H1~trigger.serious_illness", f"{world.RUN2}~H5~trigger.disaster_loss"],
        "runs": [world.RUN1, world.RUN2],
        "villages": [world.V1, world.V2, world.V3],
    }
    binding = {"case_id": "cases", "household_id": "households", "alert_id": "alerts", "run_id": "runs",
               "village_code": "villages"}
    lines = []
    for name, items in values.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(items, ensure_ascii=False)}", ""]
    lines.append("[parameters]")
    lines += [f'"path.{p}" = {{ dictionary = "{d}", probability = 0.6 }}' for p, d in binding.items()]
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_cases(server: Server) -> list[int]:
    """One case per village, so case identifiers lead somewhere."""
    from support.harness import world

    headers = {"Authorization": f"Bearer {server.token('xian')}"}
    ids = []
    for village, household in ((world.V1, "H1"), (world.V2, "H3"), (world.V3, "H5")):
        r = httpx.post(server.base + "/api/v1/cases", headers=headers, timeout=60, json={
            "household_id": household, "village_code": village, "head_name": "户主", "channel": "self_report"})
        r.raise_for_status()
        ids.append(int(r.json()["id"]))
    return ids


def fuzz(
    server: Server, user: str, examples: int, folder: Path, settings: Path, seed: int, phases: str
) -> dict:
    report = folder / f"schemathesis-{user}.json"
    cmd = [
        str(Path(sys.executable).parent / "st"), "--config-file", str(settings), "run",
        server.base + "/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {server.token(user)}",
        "--checks", CHECKS, "--max-examples", str(examples), "--seed", str(seed),
        "--phases", phases, "--exclude-path", "/api/v1/auth/logout",
        "--workers", "2", "--no-shrink", "--max-failures", "1000",
        "--report", "json", "--report-json-path", str(report),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=folder)  # its cache there
    if not report.exists():
        raise RuntimeError(f"schemathesis failed to run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    found = json.loads(report.read_text(encoding="utf-8"))
    failures = {f["code"]: f for f in found["failures"]}
    return {
        "user": user,
        "operations": found["operations"]["tested"],
        "test_cases": found["test_cases"]["generated"],
        "server_errors": failures.get("ST101", {}).get("count", 0),
        "undeclared_status": failures.get("ST103", {}).get("count", 0),
        "failed_operations": sorted({op for f in found["failures"] for op in f["operations"]}),
        "errors": len(found["errors"]),
        "seconds": round(found["running_time"], 1),
        "output": done.stdout[-4000:] if found["failures"] or found["errors"] else "",
    }


def run(examples: int, roles: tuple[str, ...], seed: int = 1, phases: str = "coverage,fuzzing,stateful") -> dict:
    with tempfile.TemporaryDirectory(prefix="jz-fuzz-") as tmp, pg_schema() as url:
        root = Path(tmp) / "data"
        build(root, url)
        server = Server(root, url, workers=2)
        try:
            settings = config(Path(tmp), open_cases(server))
            start = time.perf_counter()
            runs = [fuzz(server, user, examples, Path(tmp), settings, seed, phases) for user in roles]
            seconds = round(time.perf_counter() - start, 1)
        finally:
            server.stop()
    return {"examples": examples, "seconds": seconds, "runs": runs, "phases": phases,
            "server_errors": sum(r["server_errors"] for r in runs),
            "undeclared_status": sum(r["undeclared_status"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "test_cases": sum(r["test_cases"] for r in runs)}


def document(result: dict, command: str) -> str:
    roles = {"xian": "county officer", "cun": "village officer", "root": "admin"}
    rows = "\n".join(
        f"| {r['user']} ({roles.get(r['user'], '')}) | {r['operations']} | {r['test_cases']} | {r['server_errors']} | "
        f"{r['undeclared_status']} | {r['seconds']} |"
        for r in result["runs"]
    )
    return f"""Schemathesis {_version()} over the whole OpenAPI document (`/api/v1/openapi.json`), checks
`{CHECKS}`, phases {result['phases'].replace(',', ', ')}, {result['examples']} examples per operation, as
{len(result['runs'])} role(s), against `jingzhun serve --workers 2` on PostgreSQL (127.0.0.1:5432, database `test`).

    {command}

| signed in as | operations | requests generated | server errors (5xx) | undeclared status codes | seconds |
| --- | --- | --- | --- | --- | --- |
{rows}

**{result['server_errors']} server errors and {result['undeclared_status']} undeclared status codes in
{result['test_cases']} generated requests** (target: 0). Measured {machine()}. The quick variant
(`--quick`: the county officer only, 20 examples per operation, fuzzing phase only; the boundary values
of the coverage phase, such as ids beyond the store, are also asserted in `tests/api/test_security.py`)
runs in `make test` (`tests/api/test_hardening.py`).
"""


def _version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=100, help="examples per operation (default 100)")
    parser.add_argument("--quick", action="store_true", help="one role, 20 examples per operation, fuzzing phase only")
    parser.add_argument("--roles", nargs="*", default=list(ROLES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/RELIABILITY.md")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    if args.quick:
        result = run(20, ("xian",), args.seed, "fuzzing")
    else:
        result = run(args.examples, tuple(args.roles), args.seed)
    for r in result["runs"]:
        print(f"{r['user']}: {r['test_cases']} requests, {r['server_errors']} server errors, "
              f"{r['undeclared_status']} undeclared status codes, {r['seconds']} s {r['failed_operations']}")
        if r["output"]:
            print(r["output"])
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if not args.no_doc:
        write_section("API fuzzing", document(result, "make harden   # or: " + " ".join(
            [".venv/bin/python", "bench/harden/api_fuzz.py", *shown_args()])))
    return 1 if result["server_errors"] or result["undeclared_status"] or result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
