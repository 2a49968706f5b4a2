"""manifest.json: what a generation run produced (parameters, files with row counts and sha256)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FileEntry:
    path: str  # relative to the output folder, with forward slashes
    dataset: str
    period: str | None
    kind: str  # reference, registry, feed, truth
    rows: int
    sha256: str
    encoding: str | None = None  # csv only: utf-8-sig or gb18030
    sheets: int | None = None  # xlsx only


@dataclass
class Manifest:
    seed: int
    persons: int
    start: str
    months: int
    format: str
    periods: list[str]
    income_year: int
    province: dict[str, str]
    counts: dict[str, int]
    noise_rates: dict[str, float]
    event_rates: dict[str, float]
    files: list[FileEntry] = field(default_factory=list)
    generator: str = "jingzhun.synth/1"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    def write(self, folder: Path) -> Path:
        path = folder / "manifest.json"
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Manifest:
        raw = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
        raw["files"] = [FileEntry(**f) for f in raw["files"]]
        return cls(**raw)

    def file(self, dataset: str, period: str | None = None) -> FileEntry:
        for f in self.files:
            if f.dataset == dataset and (period is None or f.period == period):
                return f
        raise KeyError(f"{dataset} {period}")

    def rows(self, dataset: str, period: str | None = None) -> int:
        """Data rows of a dataset in one period (or over all periods)."""
        return sum(
            f.rows for f in self.files if f.dataset == dataset and (period is None or f.period == period)
        )
