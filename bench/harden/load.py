"""Concurrent officers on loopback against the app on PostgreSQL: no errors, p95 latency, and concurrent
edits of one case that lose no update.

    .venv/bin/python bench/harden/load.py                       # 100 users for 10 minutes (the target)
    .venv/bin/python bench/harden/load.py --minutes 2           # what the shared 2-core machine allows
    .venv/bin/python bench/harden/load.py --quick               # 20 users, 10 s (make test runs this)

The small county of the page tests (bench/harden/support/harness.py) with its operational store on
PostgreSQL (127.0.0.1:5432, trust auth, database ``test``, a schema of its own), served by ``jingzhun
serve --workers 2``. Locust (headless, ``support/locustfile.py``) starts ``--users`` officers (sharing sessions of
county, township and village accounts opened beforehand: signing in, an Argon2 hash, is not measured),
20 a second, each reading pages and the API with one to two seconds
between requests and editing one shared case with optimistic locking (409, read again, retry).
Afterwards: every request that failed (any answer other than the expected, a 409 on an edit being
expected) counts as an error; the case's version must have grown by exactly the number of edits answered
200, and its history must hold one ``edit`` event with each of their markers (no update lost). Writes the
figures into the section "Load" of docs/RELIABILITY.md (unless ``--no-doc``); exits 1 when a target is
missed (0 errors, p95 ≤ ``--p95-ms`` (300), no lost update).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.harness import PASSWORD, Server, build, machine, pg_schema, shown_args, world, write_section

from jingzhun.ops import open_store
from jingzhun.ops.models import CaseEvent, MonitoringCase

LOCUSTFILE = Path(__file__).resolve().parent / "support" / "locustfile.py"


def open_case(server: Server) -> int:
    headers = {"Authorization": f"Bearer {server.token('xian')}"}
    r = httpx.post(server.base + "/api/v1/cases", headers=headers, timeout=60, json={
        "household_id": "H1", "village_code": world.V1, "head_name": "张三", "channel": "self_report"})
    r.raise_for_status()
    return int(r.json()["id"])


def sessions(server: Server, users: tuple[str, ...] = ("xian", "xiang", "cun")) -> list[dict[str, str]]:
    """One API token and page-session cookie per officer account, opened before the measurement."""
    found = []
    for user in users:
        r = httpx.post(server.base + "/api/v1/auth/login", timeout=120,
                       json={"username": user, "password": PASSWORD, "cookie": True})
        r.raise_for_status()
        found.append({"token": r.json()["token"], "cookie": r.cookies["jingzhun_session"]})
    return found


def stats(prefix: Path) -> dict:
    """The locust CSV statistics: the aggregated row and one row per request name."""
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8")))
    by_name = {
        r["Name"]: {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                    "p50_ms": float(r["50%"] or 0), "p95_ms": float(r["95%"] or 0),
                    "max_ms": float(r["Max Response Time"] or 0), "rps": float(r["Requests/s"] or 0)}
        for r in rows
    }
    return {"total": by_name.pop("Aggregated"), "requests": by_name}


def run(users: int, seconds: int, workers: int = 2) -> dict:
    with tempfile.TemporaryDirectory(prefix="jz-load-") as tmp, pg_schema() as url:
        root = Path(tmp) / "data"
        build(root, url)
        server = Server(root, url, workers=workers)
        try:
            case_id = open_case(server)
            edits = Path(tmp) / "edits.txt"
            edits.touch()
            prefix = Path(tmp) / "locust"
            env = dict(os.environ, JINGZHUN_LOAD_SESSIONS=json.dumps(sessions(server)),
                       JINGZHUN_LOAD_CASE=str(case_id), JINGZHUN_LOAD_EDITS=str(edits))
            cmd = [str(Path(sys.executable).parent / "locust"), "-f", str(LOCUSTFILE), "--headless",
                   "--host", server.base, "-u", str(users), "-r", str(min(users, 20)), "-t", f"{seconds}s",
                   "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30"]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if not (prefix.parent / f"{prefix.name}_stats.csv").exists():
                raise RuntimeError(f"locust did not run:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            found = stats(prefix)
            acknowledged = [line for line in edits.read_text(encoding="utf-8").splitlines() if line]
        finally:
            server.stop()
        store = open_store(url, upgrade=False)
        with store.session() as s:
            case = s.get(MonitoringCase, case_id)
            assert case is not None
            version = case.version
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                       CaseEvent.action == "edit")).all()
            recorded = [str((e.payload or {}).get("reason", "")).removeprefix("load ") for e in events]
        store.dispose()
    lost = sorted(set(acknowledged) - set(recorded))
    return {
        "users": users,
        "seconds": seconds,
        "server_workers": workers,
        **found,
        "errors": found["total"]["failures"],
        "edits_acknowledged": len(acknowledged),
        "version_growth": version - 1,
        "edit_events": len(recorded),
        "lost_updates": len(lost) + abs((version - 1) - len(acknowledged)),
        "locust_output": done.stderr[-2000:] if found["total"]["failures"] else "",
    }


def document(result: dict, command: str, p95_target: float) -> str:
    t = result["total"]
    rows = "\n".join(
        f"| {name} | {r['requests']} | {r['failures']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['max_ms']:.0f} |"
        for name, r in sorted(result["requests"].items())
    )
    minutes = result["seconds"] / 60
    return f"""{result['users']} concurrent users (locust, headless, one to two seconds between requests)
for {minutes:g} minute(s) on loopback against `jingzhun serve --workers {result['server_workers']}` with
its operational store on PostgreSQL (127.0.0.1:5432, trust auth, database `test`); pages, API reads and
concurrent edits of one case with optimistic locking (`bench/harden/support/locustfile.py`).

    {command}

| | requests | errors | p50 ms | p95 ms | max ms |
| --- | --- | --- | --- | --- | --- |
{rows}
| **all** | **{t['requests']}** | **{t['failures']}** | **{t['p50_ms']:.0f}** | **{t['p95_ms']:.0f}** | **{t['max_ms']:.0f}** |

**{result['errors']} errors, p95 {t['p95_ms']:.0f} ms** (targets: 0 errors, p95 ≤ {p95_target:.0f} ms),
{t['rps']:.1f} requests/s. Concurrent edits of one case: {result['edits_acknowledged']} edits answered
200, the case's version grew by {result['version_growth']}, its history holds {result['edit_events']} edit
events: **{result['lost_updates']} updates lost** (target: 0; the others were answered 409 and retried).
Measured {machine()}; the machine is shared by five engineers, so this run is shorter than the target's
10 minutes.{_slow_note(result, p95_target)} The full run is `.venv/bin/python bench/harden/load.py` (100 users, 10 minutes). The quick
variant (`--quick`: 20 users, 10 s) runs in `make test` (`tests/api/test_hardening.py`).
"""


def _slow_note(result: dict, p95_target: float) -> str:
    t = result["total"]
    if t["p95_ms"] <= p95_target:
        return ""
    return f"""

**The p95 target is not met in this measurement.** Everything shares the two cores: the server's two
worker processes, PostgreSQL, locust's {result['users']} simulated users and the other engineers' work
(see the load average above). At {t['rps']:.0f} requests/s the cores can give each request about
{2000 / max(t['rps'], 1):.0f} ms of CPU in all, so requests queue behind each other (p50 {t['p50_ms']:.0f} ms). The figure has to be measured again with the load generator on another
machine, or on an idle one; no errors and no lost update hold regardless."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--p95-ms", type=float, default=300.0)
    parser.add_argument("--quick", action="store_true", help="20 users for 10 seconds")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/RELIABILITY.md")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    users, seconds = (20, 10) if args.quick else (args.users, int(args.minutes * 60))
    result = run(users, seconds, args.workers)
    t = result["total"]
    print(f"{users} users, {seconds} s: {t['requests']} requests, {result['errors']} errors, "
          f"p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms, {t['rps']:.1f}/s; edits "
          f"{result['edits_acknowledged']} acknowledged, version +{result['version_growth']}, "
          f"{result['edit_events']} events, {result['lost_updates']} lost")
    if result["locust_output"]:
        print(result["locust_output"])
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if not args.no_doc and not args.quick:
        write_section("Load", document(result, "make harden   # or: " + " ".join(
            [".venv/bin/python", "bench/harden/load.py", *shown_args()]), args.p95_ms))
    ok = result["errors"] == 0 and result["lost_updates"] == 0 and t["p95_ms"] <= args.p95_ms
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
