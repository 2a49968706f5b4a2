"""Freeze the inputs of a run: which accepted imports make up the registry and the feeds as of a period.

Registry datasets (household, member, income) are full extracts: the snapshot takes the imports of the
latest period ≤ P (an extract may come as several files, e.g. one per township; a record sent twice is
taken from the newest import). Feeds are monthly increments: every import with period ≤ P, de-duplicated on
the record key (the newest import of a record wins). The snapshot is described by the list of imports
it uses (with content hashes), so a run records exactly what it read and re-running an old period reads
the same files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from jingzhun.catalog import DATASETS
from jingzhun.ops.db import OpsStore
from jingzhun.ops.models import ImportRecord
from jingzhun.store import DataFolder


@dataclass(frozen=True)
class InputFile:
    dataset: str
    period: str
    import_id: str
    content_hash: str
    path: Path
    imported_at: str


@dataclass
class Snapshot:
    """What a run reads for period ``period``."""

    period: str
    inputs: dict[str, list[InputFile]] = field(default_factory=dict)
    region_file: Path | None = None

    def files(self, dataset: str) -> list[Path]:
        return [f.path for f in self.inputs.get(dataset, [])]

    def input_hashes(self) -> dict[str, list[str]]:
        return {ds: [f"{f.period}:{f.content_hash}" for f in files] for ds, files in sorted(self.inputs.items())}

    def fingerprint(self) -> str:
        """One hash of every input (same inputs, same fingerprint)."""
        blob = json.dumps(self.input_hashes(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def has_registry(self) -> bool:
        return bool(self.inputs.get("household")) and bool(self.inputs.get("member"))


def take_snapshot(data: DataFolder, store: OpsStore, period: str) -> Snapshot:
    """Choose the accepted imports that make up period ``period`` (reads the ledger, not the files)."""
    with store.session() as session:
        records = session.scalars(
            select(ImportRecord)
            .where(ImportRecord.period <= period, ImportRecord.status == "done")
            .order_by(ImportRecord.dataset, ImportRecord.period, ImportRecord.imported_at, ImportRecord.id)
        ).all()
    snapshot = Snapshot(period)
    by_dataset: dict[str, list[ImportRecord]] = {}
    for record in records:
        if record.dataset in DATASETS and record.rows_accepted > 0:
            by_dataset.setdefault(record.dataset, []).append(record)
    for name, items in by_dataset.items():
        dataset = DATASETS[name]
        if dataset.kind == "registry":
            latest_period = max(r.period for r in items)
            items = [r for r in items if r.period == latest_period]
        chosen = []
        for r in items:
            path = data.period_dir(name, r.period) / f"{r.id}.parquet"
            if path.exists():
                chosen.append(InputFile(name, r.period, r.id, r.content_hash, path, r.imported_at.isoformat()))
        if chosen:
            snapshot.inputs[name] = chosen
    region_file = data.reference_file("region")
    snapshot.region_file = region_file if region_file.exists() else None
    return snapshot
