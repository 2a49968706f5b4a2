"""Readers and header detection on awkward real-world layouts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.ingest.helpers import (
    CLAIM_HEADER,
    MEMBER_HEADER,
    claim_rows,
    member_rows,
    valid_id,
    write_csv,
    write_xlsx,
)

from jingzhun.errors import FileLevelError
from jingzhun.ingest import current_files, import_file, import_files, list_imports


def test_xlsx_title_rows_and_two_row_merged_header(tmp_path: Path, data: Path, parquet_rows) -> None:
    # row 1 empty, row 2 a merged title, rows 3-4 a two-row header with merged cells, data from row 5
    rows = [
        [None] * 7,
        ["XX县2025年1月家庭收入", None, None, None, None, None, None],
        ["户编号", "年度", "收入情况", None, "转移性收入", "备注", "生产经营性支出"],
        [None, None, "工资性收入", "生产经营性收入", None, None, None],
        ["H001", "2024", "12,000.50", "３０００", "500", "note", "0"],
        ["H002", 2024, 8000, 100.25, None, None, "10"],
    ]
    merges = [
        (1, 0, 1, 6, "XX县2025年1月家庭收入"),
        (2, 2, 2, 3, "收入情况"),
        (2, 0, 3, 0, "户编号"),
        (2, 1, 3, 1, "年度"),
    ]
    f = write_xlsx(tmp_path / "income.xlsx", rows, sheet="收入", merges=merges)
    r = import_file(data, f, period="2025-01")
    assert (r.dataset, r.sheet, r.rows_in, r.rows_accepted, r.rows_quarantined) == ("income", "收入", 2, 2, 0)
    assert r.extra_columns == ["备注"]
    (path,) = current_files(data, "income", "2025-01")
    got = parquet_rows(path)
    assert [g["_row"] for g in got] == [5, 6]
    assert got[0]["wage_income"] == Decimal("12000.50") and got[0]["business_income"] == Decimal("3000.00")
    assert got[1]["business_income"] == Decimal("100.25") and got[1]["year"] == 2024
    assert got[0]["_extra"] == '{"备注":"note"}'
    rec = list_imports(data)[0]
    assert rec.details["header_rows"] == [3, 4]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8-sig", "utf-8"])
def test_csv_encodings(tmp_path: Path, data: Path, encoding: str, parquet_rows) -> None:
    f = write_csv(tmp_path / f"claims-{encoding}.csv", [CLAIM_HEADER, *claim_rows(3)], encoding=encoding)
    r = import_file(data, f, period="2025-01")
    assert (r.dataset, r.rows_accepted, r.rows_quarantined) == ("medical_claim", 3, 0)
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    assert got[0]["name"] == "人0" and got[0]["visit_type"] == "住院"
    assert got[0]["total_cost"] == Decimal("1000.50")


def test_gbk_after_a_long_ascii_start_is_still_read(tmp_path: Path, data: Path) -> None:
    rows = [["结算单号", "姓名", "证件号码", "结算日期", "就诊类型", "医疗总费用", "个人自付金额"]]
    rows += [[f"R{i}", "x", "", "2025-01-05", "住院", "1", "1"] for i in range(40000)]
    rows += [["R-last", "张三", "", "2025-01-05", "住院", "1", "1"]]
    f = write_csv(tmp_path / "late.csv", rows, encoding="gb18030")
    r = import_file(data, f, period="2025-01")
    assert r.rows_accepted == 40001


def test_columns_in_any_order_with_english_aliases(tmp_path: Path, data: Path, parquet_rows) -> None:
    header = ["relation", "ID number", "name", "person id", "household id"]
    f = write_csv(tmp_path / "m.csv", [header, ["户主", valid_id(1), "甲", "P1", "H1"]])
    r = import_file(data, f, period="2025-01")
    assert (r.dataset, r.rows_accepted) == ("member", 1)
    got = parquet_rows(current_files(data, "member", "2025-01")[0])
    assert got[0]["person_id"] == "P1" and got[0]["id_number"] == valid_id(1)


def test_dataset_recognised_from_headers(tmp_path: Path, data: Path) -> None:
    a = write_csv(tmp_path / "a.csv", [MEMBER_HEADER, *member_rows(2)])
    b = write_csv(tmp_path / "b.csv", [CLAIM_HEADER, *claim_rows(2)])
    got = {Path(r.file).name: r.dataset for r in import_files(data, [a, b], period="2025-01")}
    assert got == {"a.csv": "member", "b.csv": "medical_claim"}


def test_ambiguous_headers_are_a_clear_error(tmp_path: Path, data: Path) -> None:
    header = ["记录编号", "姓名", "变动类型", "变动日期", "救助类型", "学段", "学籍状态"]
    f = write_csv(tmp_path / "x.csv", [header, ["1", "a", "纳入", "2025-01-01", "低保", "小学", "在读"]])
    with pytest.raises(FileLevelError, match="ambiguous dataset") as err:
        import_file(data, f, period="2025-01")
    assert "x.csv" in str(err.value) and "--dataset" in str(err.value)
    r = import_file(data, f, period="2025-01", dataset="assistance")
    assert r.dataset == "assistance" and r.extra_columns == ["学段", "学籍状态"]


def test_parquet_input(tmp_path: Path, data: Path, parquet_rows) -> None:
    """Typed Parquet columns arrive as their text; an empty row is skipped and rows keep their numbers
    in the file (the header is row 1)."""
    f = tmp_path / "claims.parquet"
    pq.write_table(
        pa.table(
            {
                "结算单号": ["A", None, "B"],
                "姓名": ["甲", None, "乙"],
                "结算日期": [dt.date(2025, 1, 3), None, dt.date(2025, 1, 3)],
                "就诊类型": ["住院", None, "门诊"],
                "医疗总费用": [10.5, None, 12345.0],
                "个人自付金额": [1, None, 2],
            }
        ),
        f,
    )
    r = import_file(data, f, period="2025-01")
    assert (r.dataset, r.rows_in, r.rows_accepted) == ("medical_claim", 2, 2)
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    assert got[0]["claim_date"] == dt.date(2025, 1, 3) and got[1]["out_of_pocket"] == Decimal("2.00")
    assert got[1]["total_cost"] == Decimal("12345.00")
    assert [g["_row"] for g in got] == [2, 4]


def test_an_unreadable_parquet_file_is_refused_by_name(tmp_path: Path, data: Path) -> None:
    f = tmp_path / "broken.parquet"
    f.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(FileLevelError) as err:
        import_file(data, f, period="2025-01", dataset="medical_claim")
    assert "broken.parquet" in str(err.value) and "Parquet" in str(err.value)


def test_template_workbook_is_recognised(tmp_path: Path, data: Path) -> None:
    """The xlsx template (data sheet, 可选值 and 说明 sheets): header only is a valid empty file."""
    from jingzhun.catalog.templates import write_template

    f = write_template("member", tmp_path / "t.xlsx")
    r = import_file(data, f, period="2025-01")
    assert (r.dataset, r.sheet, r.rows_in, r.rows_accepted) == ("member", "家庭成员信息", 0, 0)
    assert current_files(data, "member", "2025-01") == []  # an empty extract replaces nothing


def test_xlsx_date_cells_and_typed_numbers(tmp_path: Path, data: Path, parquet_rows) -> None:
    """Date-formatted cells, datetimes, numbers and booleans typed by Excel arrive as their text."""
    import xlsxwriter

    f = tmp_path / "employment.xlsx"
    book = xlsxwriter.Workbook(str(f))
    ws = book.add_worksheet("人社")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_row(
        0, 0, ["记录编号", "姓名", "出生日期", "所属期", "就业状态", "本月缴纳社保", "月收入", "住址区划代码"]
    )
    ws.write_string(1, 0, "E1")
    ws.write_string(1, 1, "甲")
    ws.write_datetime(1, 2, dt.datetime(1980, 7, 1), day)
    ws.write_datetime(1, 3, dt.datetime(2025, 1, 31, 13, 30), stamp)
    ws.write_string(1, 4, "就业")
    ws.write_boolean(1, 5, True)
    ws.write_number(1, 6, 0.1 + 0.2)
    ws.write_number(1, 7, 520102001001)
    book.close()
    r = import_file(data, f, period="2025-01")
    assert (r.dataset, r.rows_accepted, r.rows_quarantined) == ("employment", 1, 0)
    (got,) = parquet_rows(current_files(data, "employment", "2025-01")[0])
    assert got["birth_date"] == dt.date(1980, 7, 1) and got["period"] == "2025-01"
    assert got["insured"] is True and got["monthly_income"] == Decimal("0.30")
    assert got["region_code"] == "520102001001"


def test_csv_row_wider_than_the_first_rows_keeps_its_cells(tmp_path: Path, data: Path, parquet_rows) -> None:
    header = ["结算单号", "姓名", "结算日期", "就诊类型", "医疗总费用", "个人自付金额"]
    rows = [header, *[[f"A{i}", "甲", "2025-01-01", "住院", "1", "1"] for i in range(40)]]
    rows += [["B", "乙", "2025-01-01", "住院", "1", "1", "EXTRA"], ["C", "丙", "2025-01-01", "住院", "1"]]
    r = import_file(data, write_csv(tmp_path / "wide.csv", rows), period="2025-01")
    assert (r.rows_in, r.rows_accepted, r.rows_quarantined) == (42, 41, 1)
    got = {g["record_id"]: g for g in parquet_rows(current_files(data, "medical_claim", "2025-01")[0])}
    assert got["B"]["_extra"] == '{"第7列":"EXTRA"}' and got["A0"]["_extra"] == '{"第7列":null}'
    too_wide = write_csv(tmp_path / "too_wide.csv", [*rows[:40], ["x"] * 40])
    with pytest.raises(FileLevelError, match="more than"):
        import_file(data, too_wide, period="2025-02")
