"""A small generated province shared by the synth tests (2,000 people, 3 months, csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingzhun.synth import Manifest, generate


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("synth") / "province"
    manifest = generate(out, persons=2000, seed=7, start="2025-01", months=3, fmt="csv")
    return out, manifest


@pytest.fixture(scope="session")
def six(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """A 2,000-person county over six months (parquet): room for deliveries 4–5 months late."""
    out = tmp_path_factory.mktemp("synth6") / "province"
    manifest = generate(out, persons=2000, seed=11, start="2025-01", months=6, fmt="parquet")
    return out, manifest
