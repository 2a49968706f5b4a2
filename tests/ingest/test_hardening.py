"""Quick variants of ``make harden`` (bench/harden/): a hostile file of every kind and a few kill -9
during imports, with the same checks as the full runs (docs/RELIABILITY.md)."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from tests.ingest import hostile
from tests.ingest.hostile import FLAVOURS, KINDS, generate, verify_isolated, write_xlsx
from tests.ingest.kill9 import prepare, trial

from jingzhun.errors import FileLevelError
from jingzhun.ingest import import_file
from jingzhun.ingest.readers import SheetScan, numeric_cells_by_column, workbook_sheets


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"libreoffice"}))  # soffice: make harden only
def test_hostile_files_are_accepted_exactly_quarantined_or_refused(tmp_path: Path, kind: str) -> None:
    hostile.QUICK[0] = True
    try:
        files = generate(tmp_path / "files", range(1), (kind,))[:3]
    finally:
        hostile.QUICK[0] = False
    assert files
    problems = {h.path.name: verify_isolated(h, tmp_path / "data") for h in files}
    assert {name: p for name, p in problems.items() if p} == {}


def test_kill9_during_imports_leaves_before_or_after(tmp_path: Path) -> None:
    county = prepare(tmp_path / "county", persons=120, runs=False)
    rng = random.Random(5)
    for i in range(2):
        t = trial(county, "import", rng, i)
        assert t.problems == [] and t.next_completes, t


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_numeric_cells_found_whatever_the_xml_shape(tmp_path: Path, flavour: str) -> None:
    grid = [["证件号码", "姓名"], [110105194912310000.0, "a"], ["11010519491231002X", "b"], [None, "c"], [1.5, "d"]]
    path = write_xlsx(tmp_path / f"{flavour}.xlsx", [("Sheet1", grid)], flavour)
    part = workbook_sheets(path)["Sheet1"]
    assert part.xml and not part.hidden
    assert numeric_cells_by_column(path, part.xml)[0].tolist() == [2, 5]
    scan = SheetScan(path, part.xml, "Sheet1")
    scan.refuse_oversized()
    assert scan.start() == (1, 0)
    assert scan.rows({0: 0, 1: 1})[0].tolist() == [2, 5] and scan.rows({1: 1})[1].tolist() == []


def test_a_far_cell_is_refused_before_the_reader_allocates_the_grid(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "far.xlsx", [("Sheet1", [["结算单号"]])])
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    )
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert path.stat().st_size < 4000
    with pytest.raises(FileLevelError, match="XFD1048576") as err:
        import_file(tmp_path / "data", path, period="2025-01")
    assert "Sheet1" in str(err.value) and "delete the empty rows" in str(err.value)


def test_files_without_a_ledger_row_are_never_listed(tmp_path: Path) -> None:
    from tests.ingest.helpers import CLAIM_HEADER, claim_rows, write_csv

    from jingzhun.ingest import current_files
    from jingzhun.reports.data import periods_of

    data = tmp_path / "data"
    import_file(data, write_csv(tmp_path / "c.csv", [CLAIM_HEADER, *claim_rows(3)]), period="2025-01")
    orphan = data / "datasets" / "medical_claim" / "period=2025-02" / "imp-20250101T000000-deadbeef.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes((current_files(data, "medical_claim", "2025-01")[0]).read_bytes())
    assert periods_of(data, "medical_claim") == ["2025-01"]
    assert orphan not in current_files(data, "medical_claim", "2025-02")


def test_a_killed_imports_work_folder_is_swept(tmp_path: Path) -> None:
    import os

    from jingzhun.ingest.api import sweep_work_folders, work_folder

    data = tmp_path / "data"
    gone = data / "tmp" / "ingest-999999999-0badc0de"  # no such process
    gone.mkdir(parents=True)
    (gone / "utf8.csv").write_bytes(b"x" * 1000)
    with work_folder(data) as mine:
        assert mine.parent == data / "tmp" and mine.name.startswith(f"ingest-{os.getpid()}-")
        assert sweep_work_folders(data) == [gone]  # the live process's folder is kept
        assert mine.exists()
    assert not mine.exists() and not gone.exists()
