"""Small helpers for report queries: SQL string literals, rows as dictionaries, and the periods for
which a dataset has files (the web index, :mod:`jingzhun.reports.index`, chooses registry files
through the monthly run's snapshot instead)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from jingzhun.sqltext import literal as sql_str  # noqa: F401  (used by reports and pages)
from jingzhun.store import DataFolder


def periods_of(root: str | Path, dataset: str) -> list[str]:
    """The periods for which ``dataset`` has an import in the ledger whose file is there, sorted. Files
    without a ledger row (left by a killed import until they are swept) are never counted."""
    from jingzhun.ingest.ledger import DONE, accepted_file, list_imports

    if not DataFolder(root).dataset_dir(dataset).is_dir():
        return []
    found = {
        r.period for r in list_imports(root, dataset) if r.status == DONE and accepted_file(root, r).exists()
    }
    return sorted(found)


def latest_period(root: str | Path, dataset: str, period: str | None = None) -> str | None:
    """The latest period of ``dataset`` at or before ``period`` (any, when None)."""
    found = [p for p in periods_of(root, dataset) if period is None or p <= period]
    return found[-1] if found else None


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """Run ``sql`` and return its rows as dictionaries."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
