"""Same arguments give the same bytes (csv, xlsx, parquet); parquet and xlsx carry the same headers."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from jingzhun.catalog import DATASETS
from jingzhun.errors import JingzhunError
from jingzhun.synth import NoiseRates, generate


def _hashes(manifest):
    return {f.path: f.sha256 for f in manifest.files}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_same_seed_gives_identical_bytes(tmp_path, fmt):
    a = generate(tmp_path / "a", persons=300, seed=3, months=2, fmt=fmt)
    b = generate(tmp_path / "b", persons=300, seed=3, months=2, fmt=fmt)
    assert _hashes(a) == _hashes(b)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    c = generate(tmp_path / "c", persons=300, seed=4, months=2, fmt=fmt)
    assert _hashes(c)[f"2025-01/member.{fmt}"] != _hashes(a)[f"2025-01/member.{fmt}"]


def test_parquet_files_have_chinese_headers_and_typed_columns(tmp_path):
    manifest = generate(tmp_path / "p", persons=500, seed=1, months=1, fmt="parquet")
    table = pq.read_table(tmp_path / "p" / "2025-01" / "medical_claim.parquet")
    assert table.column_names == [f.zh for f in DATASETS["medical_claim"].fields]
    assert str(table.schema.field("个人自付金额").type) == "decimal128(18, 2)"
    assert str(table.schema.field("结算日期").type) == "date32[day]"
    assert table.num_rows == manifest.rows("medical_claim", "2025-01")


def test_xlsx_keeps_ids_as_text_except_those_a_spreadsheet_destroyed(tmp_path):
    noise = NoiseRates(id_excel=0.05)
    manifest = generate(tmp_path / "x", persons=500, seed=2, months=1, fmt="xlsx", noise=noise)
    book = CalamineWorkbook.from_path(str(tmp_path / "x" / "2025-01" / "employment.xlsx"))
    assert book.sheet_names == [DATASETS["employment"].zh]
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == [f.zh for f in DATASETS["employment"].fields]
    assert len(rows) - 1 == manifest.rows("employment", "2025-01")
    id_values = [r[1] for r in rows[1:]]
    assert any(isinstance(v, float) for v in id_values)
    assert sum(isinstance(v, str) and len(v) == 18 for v in id_values) > 0.8 * len(id_values)


def test_bad_arguments_and_foreign_folders_are_refused(tmp_path):
    with pytest.raises(JingzhunError, match="YYYY-MM"):
        generate(tmp_path / "a", persons=500, start="2025-13")
    with pytest.raises(JingzhunError, match="format"):
        generate(tmp_path / "a", persons=500, fmt="json")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(JingzhunError, match="not an earlier synth output"):
        generate(tmp_path / "mine", persons=500)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_xlsx_continues_on_a_new_sheet_when_a_sheet_is_full(tmp_path, monkeypatch):
    monkeypatch.setattr("jingzhun.synth.writers.XLSX_MAX_ROWS", 100)
    manifest = generate(tmp_path / "x", persons=500, seed=2, months=1, fmt="xlsx")
    entry = manifest.file("member")
    assert entry.rows == 500 and entry.sheets == 5
    book = CalamineWorkbook.from_path(str(tmp_path / "x" / entry.path))
    title = DATASETS["member"].zh
    assert book.sheet_names == [title, f"{title}_2", f"{title}_3", f"{title}_4", f"{title}_5"]
    sheets = [book.get_sheet_by_name(name).to_python() for name in book.sheet_names]
    assert all(s[0] == [f.zh for f in DATASETS["member"].fields] for s in sheets)
    assert sum(len(s) - 1 for s in sheets) == 500
