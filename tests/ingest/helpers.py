"""Hand-made awkward input files for the ingest tests (all synthetic)."""

from __future__ import annotations

import csv
from pathlib import Path

import xlsxwriter

from jingzhun.ids import check_character


def valid_id(seq: int, birth: str = "19491231", area: str = "110105") -> str:
    """A valid 18-character ID number (synthetic)."""
    first17 = f"{area}{birth}{seq:03d}"
    return first17 + check_character(first17)


def bad_check_digit(seq: int) -> str:
    good = valid_id(seq)
    wrong = "0" if good[-1] != "0" else "1"
    return good[:-1] + wrong


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def write_xlsx(
    path: Path, rows: list[list[object]], sheet: str = "Sheet1", merges: tuple = (), numbers: bool = False
) -> Path:
    """Rows written cell by cell: str as text, int/float as numbers (like a careless export).
    ``merges``: (first_row, first_col, last_row, last_col, text) 0-based."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, int | float) and not isinstance(v, bool):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
    for r0, c0, r1, c1, text in merges:
        ws.merge_range(r0, c0, r1, c1, text)
    book.close()
    return path


CLAIM_HEADER = ["结算单号", "姓名", "证件号码", "结算日期", "就诊类型", "医疗总费用", "个人自付金额"]
MEMBER_HEADER = ["人编号", "户编号", "姓名", "证件号码", "性别", "出生日期", "与户主关系"]


def claim_rows(n: int, start: int = 0) -> list[list[object]]:
    return [
        [f"R{start + i:05d}", f"人{i}", valid_id(i % 900), "2025-01-05", "住院", "1,000.50", "200"]
        for i in range(n)
    ]


def member_rows(n: int, start: int = 0) -> list[list[object]]:
    return [
        [
            f"P{start + i:05d}",
            f"H{(start + i) // 3:05d}",
            f"人{i}",
            valid_id((start + i) % 900),
            "男",
            "1949-12-31",
            "户主",
        ]
        for i in range(n)
    ]
