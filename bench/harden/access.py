"""The access sweep: every role × region × endpoint (pages and API) against the permission matrix, and
every refusal in the audit log.

    .venv/bin/python bench/harden/access.py               # on SQLite and on PostgreSQL
    .venv/bin/python bench/harden/access.py --sqlite-only --no-doc

The sweep is ``tests/web/access_sweep.py`` (the same one ``make test`` runs in
``tests/web/test_access_sweep.py``): the small county of the page tests, seven users (village ×2,
township, county, province, department, admin), objects in three villages of two townships and the
imports of two feeds; every route of the application is called by every user on every target, and the
answer is compared with what ``jingzhun.auth.permissions.MATRIX`` says. A refusal must be a 403 (or a
404 that hides an object out of reach) and must add a ``denied``/``refused`` row to the audit log.
Writes the figures into the section "Access" of docs/RELIABILITY.md (unless ``--no-doc``); exits 1 when
any answer differs from the matrix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.harness import machine, pg_schema, shown_args, world, write_section

from jingzhun.web.app import create_app
from web.access_sweep import ENDPOINTS, Sweep, figures
from web.conftest import Pages


def sweep(db_url: str | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="jz-access-") as tmp:
        saved = os.environ.get("JINGZHUN_DB_URL")
        if db_url:
            os.environ["JINGZHUN_DB_URL"] = db_url
        try:
            settings, store = world.setup(Path(tmp) / "data")
            pages = Pages(create_app(settings, store=store))
            found = figures(Sweep(pages).run())
            for client in pages.clients.values():
                client.close()
            store.dispose()
        finally:
            os.environ.pop("JINGZHUN_DB_URL", None)
            if saved is not None:
                os.environ["JINGZHUN_DB_URL"] = saved
    return found


def document(results: dict[str, dict], command: str) -> str:
    rows = "\n".join(
        f"| {store} | {f['requests']} | {f['should_be_refused']} | {f['refused']} "
        f"({100 * f['refused'] / max(f['should_be_refused'], 1):.0f} %) | {f['refused_and_audited']} "
        f"({100 * f['refused_and_audited'] / max(f['refused'], 1):.0f} %) | "
        f"{f['allowed_as_expected']} / {f['should_be_allowed']} | {f['server_errors']} | {len(f['wrong'])} |"
        for store, f in results.items()
    )
    first = next(iter(results.values()))
    return f"""Every role × region × endpoint against the permission matrix (docs/WORKFLOW.md, "Who may do
what"): {first['users']} users (two villages, a township, the county, a province viewer, a department,
an admin) × {first['endpoints']} endpoints (every page and API route; each route with an object is tried
on objects in three villages of two townships, or on the imports of two feeds).

    {command}

| store | requests | the matrix refuses | refused (403/404) | refused and audited | allowed as the matrix says | 5xx | answers unlike the matrix |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

Targets: refused / attempted 100 %, every refusal audited, no answer unlike the matrix. Measured
{machine()}. The same sweep runs in `make test` (`tests/web/test_access_sweep.py`, SQLite).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/RELIABILITY.md")
    args = parser.parse_args()
    results = {"SQLite": sweep(None)}
    if not args.sqlite_only:
        with pg_schema() as url:
            results["PostgreSQL"] = sweep(url)
    bad = False
    for store, f in results.items():
        print(f"{store}: {f['requests']} requests, {f['refused']}/{f['should_be_refused']} refused, "
              f"{f['refused_and_audited']} audited, {len(f['wrong'])} unlike the matrix, {len(ENDPOINTS)} endpoints")
        for w in f["wrong"]:
            print("  ", w)
        bad = bad or bool(f["wrong"]) or f["refused_and_audited"] != f["should_be_refused"]
    if not args.no_doc:
        write_section("Access", document(results, "make harden   # or: " + " ".join(
            [".venv/bin/python", "bench/harden/access.py", *shown_args()])))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
