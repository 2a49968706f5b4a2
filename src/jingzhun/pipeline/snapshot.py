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
from dataclasses import dataclass, field, replace
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
    #: the local file, or its URI when the snapshot was relocated (:func:`relocate`)
    path: Path | str
    imported_at: str


@dataclass
class Snapshot:
    """What a run reads for period ``period``."""

    period: str
    inputs: dict[str, list[InputFile]] = field(default_factory=dict)
    region_file: Path | str | None = None

    def files(self, dataset: str) -> list[Path | str]:
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


def relocate(snapshot: Snapshot, root: Path, uri: str) -> Snapshot:
    """The same snapshot read from ``uri``, a copy of the data folder ``root`` elsewhere (``hdfs://nn/jz``,
    ``s3a://bucket/jz``, ``file:///mnt/jz``): each file's path relative to ``root`` appended to ``uri``.
    Hashes and import ids stay those of the ledger, so the run's identity does not change.

    >>> snap = Snapshot("2025-06", {"member": [InputFile("member", "2025-06", "imp-1", "h",
    ...     Path("/d/datasets/member/period=2025-06/imp-1.parquet"), "t")]}, Path("/d/reference/region.parquet"))
    >>> moved = relocate(snap, Path("/d"), "hdfs://nn:8020/jz/")
    >>> moved.files("member"), moved.region_file
    (['hdfs://nn:8020/jz/datasets/member/period=2025-06/imp-1.parquet'], 'hdfs://nn:8020/jz/reference/region.parquet')
    >>> moved.fingerprint() == snap.fingerprint()
    True
    """
    base = uri.rstrip("/")

    def move(path: Path | str) -> str:
        return f"{base}/{Path(path).relative_to(root).as_posix()}"

    inputs = {name: [replace(f, path=move(f.path)) for f in files] for name, files in snapshot.inputs.items()}
    region = move(snapshot.region_file) if snapshot.region_file is not None else None
    return Snapshot(snapshot.period, inputs, region)
