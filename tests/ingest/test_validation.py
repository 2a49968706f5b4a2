"""Row-level validation: every row accepted or quarantined, with reasons naming row, field, value, rule."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from tests.ingest.helpers import (
    CLAIM_HEADER,
    MEMBER_HEADER,
    bad_check_digit,
    valid_id,
    write_csv,
    write_xlsx,
)

from jingzhun.ingest import current_files, import_file, read_quarantine
from jingzhun.ingest.api import ImportResult


def _invariant(r: ImportResult, data: Path, parquet_rows) -> list[dict]:
    assert r.rows_in == r.rows_accepted + r.rows_quarantined
    files = current_files(data, r.dataset, r.period)
    stored = sum(len(parquet_rows(p)) for p in files if r.import_id in p.name)
    assert stored == r.rows_accepted
    q = read_quarantine(data, r.import_id)
    assert len(q) == r.rows_quarantined
    return q


def test_dates_in_every_format_and_excel_serials(tmp_path: Path, data: Path, parquet_rows) -> None:
    dates = [
        "2024/1/5",
        "2024-01-05",
        "2024.1.5",
        "20240105",
        "2024年1月5日",
        "45296",
        "2024-01-05 00:00:00",
        " 2024-1-5 ",
    ]
    rows = [CLAIM_HEADER] + [[f"R{i}", "甲", "", d, "住院", "1", "1"] for i, d in enumerate(dates)]
    rows += [["BAD1", "甲", "", "2024-02-30", "住院", "1", "1"], ["BAD2", "甲", "", "下周", "住院", "1", "1"]]
    r = import_file(data, write_csv(tmp_path / "d.csv", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    assert {g["claim_date"] for g in got} == {dt.date(2024, 1, 5)} and len(got) == len(dates)
    assert [x["_row"] for x in q] == [len(dates) + 2, len(dates) + 3]
    assert all(json.loads(x["_reasons"])[0]["rule"] == "date" for x in q)
    assert "结算日期「2024-02-30」：无法识别的日期" in q[0]["错误原因"]


def test_months_bools_enums_numbers(tmp_path: Path, data: Path, parquet_rows) -> None:
    header = ["记录编号", "姓名", "所属期", "就业状态", "本月缴纳社保", "月收入"]
    rows = [
        header,
        ["1", "甲", "2024-01", "就业", "是", "1,234.50"],
        ["2", "乙", "2024年1月", "务工", "Y", "１２３４．５"],
        ["3", "丙", "202401", " 灵活就业 ", "1", "¥1234.5"],
        ["4", "丁", "2024/1", "失业登记", "√", "1234.50元"],
        ["5", "戊", "2024-13", "就业", "是", "1"],  # bad month
        ["6", "己", "2024-01", "退休", "是", "1"],  # bad enum
        ["7", "庚", "2024-01", "就业", "也许", "1"],  # bad bool
        ["8", "辛", "2024-01", "就业", "否", "-5"],
    ]  # below min
    r = import_file(data, write_csv(tmp_path / "e.csv", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    assert (r.rows_accepted, r.rows_quarantined) == (4, 4)
    got = parquet_rows(current_files(data, "employment", "2025-01")[0])
    assert {g["period"] for g in got} == {"2024-01"}
    assert [g["status"] for g in got] == ["就业", "就业", "灵活就业", "失业"]
    assert all(g["insured"] is True for g in got)
    assert {g["monthly_income"] for g in got} == {Decimal("1234.50")}
    assert [json.loads(x["_reasons"])[0]["rule"] for x in q] == ["month", "enum", "bool", "range"]
    assert "就业状态「退休」：不是允许的取值（可选：就业、灵活就业、失业）" in q[1]["错误原因"]
    assert "not an allowed value" in q[1]["_reasons_en"]


def test_region_codes_padded_and_checked(tmp_path: Path, data: Path, parquet_rows) -> None:
    header = ["记录编号", "行政村代码", "灾害类型", "发生日期"]
    rows = [
        header,
        ["1", "441481104201", "洪涝", "2025-01-02"],
        ["2", "441481", "干旱", "2025-01-02"],
        ["3", "44148110420", "洪涝", "2025-01-02"],
        ["4", "4.41481E+11", "洪涝", "2025-01-02"],
    ]
    r = import_file(data, write_csv(tmp_path / "z.csv", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    got = parquet_rows(current_files(data, "disaster_loss", "2025-01")[0])
    assert [g["village_code"] for g in got] == ["441481104201", "441481000000"]
    assert [json.loads(x["_reasons"])[0]["rule"] for x in q] == ["region_code", "region_code"]


def test_id_numbers_in_a_feed(tmp_path: Path, data: Path, parquet_rows) -> None:
    """Feeds keep a record with an invalid ID as NULL (+ raw text); destroyed numbers are quarantined."""
    rows = [
        CLAIM_HEADER,
        ["1", "甲", valid_id(1), "2025-01-05", "住院", "1", "1"],
        ["2", "乙", bad_check_digit(2), "2025-01-05", "住院", "1", "1"],
        ["3", "丙", "4.52123E+17", "2025-01-05", "住院", "1", "1"],
        ["4", "丁", "110105491231002", "2025-01-05", "住院", "1", "1"],  # 15 digits: upgraded
        ["5", "戊", "", "2025-01-05", "住院", "1", "1"],  # missing: fine in a feed
        ["6", "己", f" {valid_id(6).lower()} ", "2025-01-05", "住院", "1", "1"],
    ]
    r = import_file(data, write_csv(tmp_path / "c.csv", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    assert (r.rows_accepted, r.rows_quarantined) == (5, 1)
    assert r.warnings == {"id_check_digit": 1}
    got = {g["record_id"]: g for g in parquet_rows(current_files(data, "medical_claim", "2025-01")[0])}
    assert got["1"]["id_number"] == valid_id(1)
    assert got["2"]["id_number"] is None and got["2"]["id_number_raw"] == bad_check_digit(2)
    assert got["4"]["id_number"] == "11010519491231002X"
    assert got["5"]["id_number"] is None
    assert got["6"]["id_number"] == valid_id(6)
    assert q[0]["_row"] == 4 and q[0]["证件号码"] == "4.52123E+17"
    assert json.loads(q[0]["_reasons"])[0]["rule"] == "id_scientific_notation"
    assert "无法恢复" in q[0]["错误原因"]


def test_id_numbers_in_the_registry_are_strict(tmp_path: Path, data: Path, parquet_rows) -> None:
    rows = [
        MEMBER_HEADER,
        ["P1", "H1", "甲", valid_id(1), "男", "1949-12-31", "户主"],
        ["P2", "H1", "乙", bad_check_digit(2), "女", "1949-12-31", "妻"],
        ["P3", "H1", "丙", "", "女", "1949-12-31", "女儿"],
    ]
    r = import_file(data, write_csv(tmp_path / "m.csv", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    assert (r.rows_accepted, r.rows_quarantined) == (1, 2)
    assert [json.loads(x["_reasons"])[0]["rule"] for x in q] == ["id_check_digit", "required"]
    # reasons mask the ID number; the original column keeps it as sent
    assert bad_check_digit(2) not in q[0]["错误原因"] and q[0]["证件号码"] == bad_check_digit(2)
    assert "1101**********" in q[0]["错误原因"]


def test_numeric_id_cells_in_xlsx_are_always_quarantined(tmp_path: Path, data: Path, parquet_rows) -> None:
    rows = [
        MEMBER_HEADER,
        ["P1", "H1", "甲", valid_id(1), "男", "1949-12-31", "户主"],
        ["P2", "H1", "乙", 110105194912310021, "女", "1949-12-31", "配偶"],  # a number: digits lost
        ["P3", "H1", "丙", 110105491231002, "女", "1949-12-31", "之女"],  # even 15 digits
        ["P4", "H1", "丁", "4.52123E+17", "男", "1949-12-31", "之子"],
    ]
    r = import_file(data, write_xlsx(tmp_path / "m.xlsx", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    assert (r.rows_accepted, r.rows_quarantined) == (1, 3)
    assert [x["_row"] for x in q] == [3, 4, 5]
    assert {json.loads(x["_reasons"])[0]["rule"] for x in q} == {"id_scientific_notation"}


def test_numeric_id_cells_in_a_feed_xlsx(tmp_path: Path, data: Path, parquet_rows) -> None:
    rows = [
        ["标题：2025年1月医保结算"],
        CLAIM_HEADER,
        ["1", "甲", 110105194912310021, "2025-01-05", "住院", 1, 1],
        ["2", "乙", bad_check_digit(3), 45662, "住院", 1.5, 0],
    ]
    r = import_file(data, write_xlsx(tmp_path / "c.xlsx", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    assert (r.rows_accepted, r.rows_quarantined, r.warnings) == (1, 1, {"id_check_digit": 1})
    assert q[0]["_row"] == 3
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    assert got[0]["claim_date"] == dt.date(2025, 1, 5) and got[0]["total_cost"] == Decimal("1.50")


def test_duplicate_keys_first_kept(tmp_path: Path, data: Path, parquet_rows) -> None:
    rows = [
        ["XX县2025年1月医保结算明细"],
        CLAIM_HEADER,
        ["A", "甲", "", "2025-01-05", "住院", "1", "1"],
        ["B", "乙", "", "2025-01-05", "住院", "1", "1"],
        ["A", "丙", "", "bad", "住院", "1", "1"],  # invalid anyway: its own reason only
        ["A", "丁", "", "2025-01-05", "住院", "1", "1"],
        [],
        ["B", "戊", "", "2025-01-05", "住院", "1", "1"],
    ]
    r = import_file(data, write_csv(tmp_path / "dup.csv", rows), period="2025-01")
    q = _invariant(r, data, parquet_rows)
    assert (r.rows_in, r.rows_accepted, r.rows_quarantined) == (5, 2, 3)
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    assert [(g["record_id"], g["name"], g["_row"]) for g in got] == [("A", "甲", 3), ("B", "乙", 4)]
    assert [x["_row"] for x in q] == [5, 6, 8]
    assert [json.loads(x["_reasons"])[0]["rule"] for x in q] == ["date", "duplicate", "duplicate"]
    assert json.loads(q[1]["_reasons"])[0]["first_row"] == 3 and "与第 3 行重复" in q[1]["错误原因"]
    assert json.loads(q[2]["_reasons"])[0]["first_row"] == 4


def test_composite_key_duplicates(tmp_path: Path, data: Path) -> None:
    rows = [["户编号", "年度", "工资性收入"], ["H1", "2024", "1"], ["H1", "2023", "1"], ["H1", "2024", "2"]]
    r = import_file(data, write_csv(tmp_path / "i.csv", rows), period="2025-01")
    assert (r.rows_accepted, r.rows_quarantined) == (2, 1)
    assert read_quarantine(data, r.import_id)[0]["_row"] == 4


@pytest.mark.parametrize(
    "value, ok",
    [("3", True), ("3.0", True), ("3.5", False), ("31", False), ("１２", True), ("0", False), ("x", False)],
)
def test_integer_ranges(tmp_path: Path, data: Path, value: str, ok: bool) -> None:
    rows = [["户编号", "行政村代码", "户类型", "家庭人口数"], ["H1", "441481104201", "脱贫户", value]]
    r = import_file(data, write_csv(tmp_path / "h.csv", rows), period="2025-01")
    assert r.rows_accepted == (1 if ok else 0)
    if not ok:
        rule = json.loads(read_quarantine(data, r.import_id)[0]["_reasons"])[0]["rule"]
        assert rule in ("integer", "range")
