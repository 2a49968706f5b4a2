"""A tricky CSV file and its xlsx twin (the same cells, as text) must give the same outcome: the same
accepted rows and values, the same quarantined rows with the same reasons and row numbers (the row the
user sees in Excel: title and blank rows counted, a cell with a line break inside is one row), the same
counts and warnings. The two take different paths (CSV streamed by DuckDB's reader, xlsx loaded by
calamine) through one validation."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ingest.conftest import rows_of
from tests.ingest.helpers import CLAIM_HEADER, bad_check_digit, valid_id, write_csv, write_xlsx

from jingzhun.ingest import current_files, import_file
from jingzhun.store import DataFolder

ROWS: list[list[object]] = [
    ["XX县2025年1月医保结算明细"],
    [*CLAIM_HEADER, "备注"],
    ["A1", "张\n三", valid_id(1), "2025-01-05", "住院", "1,000.50", "200", "多行\n备注"],
    ["A2", " 李四 ", bad_check_digit(2), "2025/1/6", "门诊", "１２３", "0", ""],
    [],
    ["A3", "王五", "5.20122E+17", "20250107", "住院", "10", "1", "x"],
    ["A4", "赵六", valid_id(4), "45663", "急诊", "10", "1", ""],
    ["A1", "钱七", valid_id(5), "2025年1月8日", "住院", "10", "1", ""],
    ["A5", "孙八", "", "2025-02-30", "住院", "-5", "1", ""],
    ["A6", "周九", valid_id(6), "2025-01-09 10:30", "慢特病门诊", "¥12.5", "1.2E+1", "尾"],
    [],
    ["A6", "吴十", valid_id(7), "2025-01-09", "住院", "1", "1", ""],
]


def _outcome(data: Path, path: Path) -> dict:
    r = import_file(data, path, period="2025-01")
    assert r.status == "imported" and r.rows_in == r.rows_accepted + r.rows_quarantined
    accepted = [
        {k: v for k, v in row.items() if k != "_import_id"}
        for f in current_files(data, "medical_claim", "2025-01")
        for row in rows_of(f)
    ]
    rejected = [
        {k: v for k, v in row.items() if k not in ("_file", "_sheet")}
        for row in rows_of(DataFolder(data).quarantine_file(r.import_id))
    ]
    counts = (r.rows_in, r.rows_accepted, r.rows_quarantined, r.warnings, r.rules, r.extra_columns)
    return {"counts": counts, "accepted": accepted, "rejected": rejected}


def test_csv_and_its_xlsx_twin_give_the_same_outcome(tmp_path: Path) -> None:
    from_csv = _outcome(tmp_path / "a", write_csv(tmp_path / "claims.csv", ROWS))
    from_xlsx = _outcome(tmp_path / "b", write_xlsx(tmp_path / "claims.xlsx", ROWS))
    assert from_csv == from_xlsx
    # and the outcome is the expected one, not just the same one
    counts = from_csv["counts"]
    assert counts[:4] == (8, 3, 5, {"id_check_digit": 1})
    assert [(a["_row"], a["name"]) for a in from_csv["accepted"]] == [
        (3, "张\n三"),
        (4, "李四"),
        (10, "周九"),
    ]
    assert json.loads(from_csv["accepted"][0]["_extra"]) == {"备注": "多行\n备注"}
    rules = {q["_row"]: [x["rule"] for x in json.loads(q["_reasons"])] for q in from_csv["rejected"]}
    assert rules == {
        6: ["id_scientific_notation"],
        7: ["enum"],
        8: ["duplicate"],
        9: ["date", "range"],
        12: ["duplicate"],
    }
    firsts = {q["_row"]: json.loads(q["_reasons"])[0]["first_row"] for q in from_csv["rejected"]}
    assert (firsts[8], firsts[12]) == (3, 10)
