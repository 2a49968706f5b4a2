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


@pytest.mark.parametrize("kind", sorted(KINDS))
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
