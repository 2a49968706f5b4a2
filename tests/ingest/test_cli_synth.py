"""The `jingzhun import` / `jingzhun imports` commands, and a small generated folder end to end."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from tests.ingest.helpers import CLAIM_HEADER, claim_rows, write_csv
from typer.testing import CliRunner

from jingzhun.cli.main import app
from jingzhun.ingest import current_files, import_files

runner = CliRunner()


def test_cli_import_list_rejects(tmp_path: Path, data: Path) -> None:
    good = write_csv(
        tmp_path / "2025-01" / "claims.csv",
        [CLAIM_HEADER, *claim_rows(3), ["R9", "", "", "2025-01-05", "住院", "1", "1"]],
    )
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    res = runner.invoke(
        app, ["import", "--data", str(data), "--json", "--user", "clerk", str(good), str(bad)]
    )
    summary = json.loads(res.stdout)
    assert [(s["status"], s["rows_in"], s["rows_accepted"], s["rows_quarantined"]) for s in summary] == [
        ("imported", 4, 3, 1),
        ("failed", 0, 0, 0),
    ]
    assert "notes.txt" in summary[1]["error"]
    assert res.exit_code != 0  # a file failed at file level
    res = runner.invoke(app, ["import", "--data", str(data), str(good)])
    assert res.exit_code == 0 and "already imported" in res.stdout
    res = runner.invoke(app, ["imports", "list", "--data", str(data), "--json"])
    (row,) = json.loads(res.stdout)
    assert (row["dataset"], row["imported_by"], row["rows_quarantined"]) == ("medical_claim", "clerk", 1)
    out = tmp_path / "rejects.xlsx"
    res = runner.invoke(app, ["imports", "rejects", row["id"], "--data", str(data), "--out", str(out)])
    assert res.exit_code == 0, res.stdout
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][-1] == "错误原因" and "姓名「」：必填项为空" in rows[1][-1]


@pytest.mark.parametrize("fmt", ["csv", pytest.param("xlsx", marks=pytest.mark.slow)])
def test_generated_folder_imports(tmp_path: Path, data: Path, fmt: str) -> None:
    synth = pytest.importorskip("jingzhun.synth")
    out = tmp_path / "synth"
    manifest = synth.generate(out, persons=300, months=2, fmt=fmt)
    results = import_files(data, [out])
    assert all(r.status == "imported" for r in results), [r.error for r in results if r.error]
    expected = {(f.dataset, f.period): f.rows for f in manifest.files if f.kind in ("registry", "feed")}
    got = {(r.dataset, r.period): r.rows_in for r in results}
    assert got == expected
    for r in results:
        assert r.rows_in == r.rows_accepted + r.rows_quarantined
        # registry extracts are clean apart from planted conflicts; feeds lose only duplicates and
        # spreadsheet-destroyed ID numbers
        assert set(r.rules) <= {"duplicate", "id_scientific_notation"}, (r.dataset, r.rules)
    assert len(current_files(data, "member", "2025-02")) == 1
    assert len(current_files(data, "medical_claim", "2025-02")) == 2
