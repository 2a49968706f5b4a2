"""A small synthetic county, imported once per test session, for the pipeline tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

MONTHS = ["2025-01", "2025-02"]


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated files of a 1,500-person county over two months (parquet, to keep the suite fast)."""
    from jingzhun.synth import generate

    out = tmp_path_factory.mktemp("county") / "synth"
    generate(out, persons=1500, seed=3, start=MONTHS[0], months=len(MONTHS), fmt="parquet")
    return out


@pytest.fixture(scope="session")
def imported(county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the county's regions and every month imported (no run yet)."""
    from county_data import import_county

    return import_county(county, tmp_path_factory.mktemp("data") / "jz", MONTHS)


@pytest.fixture
def data(imported: Path, tmp_path: Path) -> Path:
    """A private copy of the imported data folder (tests may run, fail and re-run in it)."""
    target = tmp_path / "jz"
    shutil.copytree(imported, target)
    return target


@pytest.fixture(scope="session")
def ran(imported: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A data folder where both months have been run once (for tests that only read results)."""
    from jingzhun.pipeline import run_period

    target = tmp_path_factory.mktemp("ran") / "jz"
    shutil.copytree(imported, target)
    runs = {month: run_period(target, month) for month in MONTHS}
    return target, runs
