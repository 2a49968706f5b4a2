"""The import ledger (``ImportRecord`` in the operational store) and what it says is current.

Re-import semantics
- The same content (SHA-256) for the same dataset and period is imported once; again it is reported as
  already imported and changes nothing (a unique constraint backs this up under concurrency).
- Registry and reference datasets (``household``, ``member``, ``income``, ``region``) are full extracts:
  every import is kept, and the dataset *as of* period P is the newest import (latest ``imported_at``)
  of the latest period ≤ P that accepted at least one row. An extract in which every row was rejected
  never replaces a good one.
- Feeds are increments: as of P they are every import with period ≤ P (the pipeline de-duplicates on
  ``record_id``, the newest import winning).
- A file is visible only through a ledger row: parquet files are renamed into place first and the ledger
  row is committed last, so files without a ledger row (a killed import) are invisible and swept.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from jingzhun.catalog import DATASETS
from jingzhun.ops import OpsStore, open_store
from jingzhun.ops.models import ImportRecord
from jingzhun.store import DataFolder
from jingzhun.store.layout import TMP_PREFIX

DONE = "done"


_MIGRATED: set[str] = set()


def store_for(root: str | Path) -> OpsStore:
    """The operational store of a data folder, migrated once per process (not on every import)."""
    url = DataFolder(root).ops_url
    fresh = url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists()
    store = open_store(url, upgrade=fresh or url not in _MIGRATED)
    _MIGRATED.add(url)
    return store


def find_existing(store: OpsStore, content_hash: str, dataset: str, period: str) -> ImportRecord | None:
    with store.session() as s:
        return s.scalars(
            select(ImportRecord).where(
                ImportRecord.content_hash == content_hash,
                ImportRecord.dataset == dataset,
                ImportRecord.period == period,
            )
        ).first()


def record_import(store: OpsStore, record: ImportRecord) -> None:
    """Commit one ledger row (the last step of an import)."""
    with store.session() as s:
        s.add(record)


def list_imports(
    root: str | Path, dataset: str | None = None, period: str | None = None
) -> list[ImportRecord]:
    """Every ledger row, oldest first (optionally of one dataset and/or period)."""
    store = store_for(root)
    try:
        with store.session() as s:
            q = select(ImportRecord)
            if dataset:
                q = q.where(ImportRecord.dataset == dataset)
            if period:
                q = q.where(ImportRecord.period == period)
            return list(s.scalars(q.order_by(ImportRecord.imported_at, ImportRecord.id)))
    finally:
        store.dispose()


def get_import(root: str | Path, import_id: str) -> ImportRecord | None:
    store = store_for(root)
    try:
        with store.session() as s:
            return s.get(ImportRecord, import_id)
    finally:
        store.dispose()


def current_imports(root: str | Path, dataset: str, period: str) -> list[ImportRecord]:
    """The imports that make up ``dataset`` as of ``period`` (see the module notes)."""
    ds = DATASETS[dataset]
    rows = [r for r in list_imports(root, dataset) if r.status == DONE and r.period <= period]
    if ds.kind == "feed":
        return sorted(rows, key=lambda r: (r.period, r.imported_at, r.id))
    full = [r for r in rows if r.rows_accepted > 0]
    if not full:
        return []
    return [max(full, key=lambda r: (r.period, r.imported_at, r.id))]


def accepted_file(root: str | Path, record: ImportRecord) -> Path:
    return DataFolder(root).period_dir(record.dataset, record.period) / f"{record.id}.parquet"


def current_files(root: str | Path, dataset: str, period: str) -> list[Path]:
    """Accepted parquet files that make up ``dataset`` as of ``period``: the latest full extract with
    period ≤ P for registry datasets, every increment up to P for feeds (oldest first)."""
    return [p for p in (accepted_file(root, r) for r in current_imports(root, dataset, period)) if p.exists()]


def sweep_orphans(root: str | Path, min_age_s: float = 3600.0) -> list[Path]:
    """Remove files an import left without a ledger row (a killed process), and ``.tmp-*`` leftovers,
    older than ``min_age_s`` seconds (0: all). Returns what was removed."""
    folder = DataFolder(root)
    if not (folder.root / "ops.sqlite").exists() and not (folder.root / "datasets").exists():
        return []
    known = {r.id for r in list_imports(root)}
    now = time.time()
    removed = []
    candidates = [*(folder.root / "datasets").glob("*/period=*/*"), *(folder.root / "quarantine").glob("*")]
    for path in candidates:
        if not path.is_file() or now - path.stat().st_mtime < min_age_s:
            continue
        if path.name.startswith(TMP_PREFIX) or (path.suffix == ".parquet" and path.stem not in known):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
