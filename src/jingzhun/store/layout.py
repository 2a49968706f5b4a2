"""Paths inside a data folder and atomic writes."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_file(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("x")
    >>> (d / "a.txt").read_text(), [p.name for p in d.iterdir()]
    ('x', ['a.txt'])
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}-{target.name}"
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` whole."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}-{target.name}"
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if target.exists():
            old = target.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}-old-{target.name}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class DataFolder:
    """A Jingzhun data folder. Creating the object touches nothing; :meth:`ensure` creates the folders."""

    root: Path

    def __init__(self, root: str | Path):
        object.__setattr__(self, "root", Path(root))

    @property
    def ops_url(self) -> str:
        """SQLAlchemy URL of the embedded operational store (overridden by JINGZHUN_DB_URL)."""
        return os.environ.get("JINGZHUN_DB_URL") or f"sqlite:///{(self.root / 'ops.sqlite').resolve()}"

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / "datasets" / dataset

    def period_dir(self, dataset: str, period: str) -> Path:
        return self.dataset_dir(dataset) / f"period={period}"

    def reference_file(self, name: str) -> Path:
        """Reference tables that are not per period (the region code list)."""
        return self.root / "reference" / f"{name}.parquet"

    def quarantine_file(self, import_id: str) -> Path:
        return self.root / "quarantine" / f"{import_id}.parquet"

    def run_dir(self, run_id: str) -> Path:
        return self.root / "runs" / run_id

    def ensure(self) -> DataFolder:
        for sub in ("datasets", "quarantine", "runs", "reference"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        return self

    def sweep(self) -> int:
        """Remove ``.tmp-*`` leftovers of killed writers; returns how many were removed."""
        count = 0
        if not self.root.exists():
            return 0
        for path in self.root.rglob(f"{TMP_PREFIX}*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            count += 1
        return count
