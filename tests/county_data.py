"""A data folder holding a generated county's regions and months, imported (shared by test areas)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def import_county(county: Path, data: Path, months: Sequence[str]) -> Path:
    """Import ``county``'s regions and every month in ``months`` into the data folder ``data``."""
    from jingzhun import regions
    from jingzhun.ingest import import_files

    regions.save_reference(regions.load_csv(county / "regions.csv"), data)
    for month in months:
        results = import_files(data, [county / month], user="test")
        assert all(r.status == "imported" for r in results), [r.error for r in results if r.error]
    return data
