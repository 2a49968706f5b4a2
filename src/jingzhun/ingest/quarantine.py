"""Quarantine: rejected rows kept with their reasons, and sent back to the department as a workbook.

``quarantine/<import_id>.parquet`` holds, per rejected row, the original cells as text under the headers
of the file (ID numbers as sent: it is the sender's own data), then ``错误原因`` (the reasons in Chinese,
ID numbers masked), ``_reasons_en``, ``_reasons`` (JSON: field, header, value, rule, first_row),
``_row`` (the row number in the file), ``_file`` and ``_sheet``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import xlsxwriter

from jingzhun.errors import NotFound
from jingzhun.ingest import ledger
from jingzhun.store import DataFolder, atomic_file

INTERNAL = ("_reasons_en", "_reasons", "_row", "_file", "_sheet")
REASON_COLUMN = "错误原因"


def read_quarantine(root: str | Path, import_id: str) -> list[dict]:
    """The rejected rows of one import as dictionaries (small: only rejected rows)."""
    path = DataFolder(root).quarantine_file(import_id)
    if ledger.get_import(root, import_id) is None:
        raise NotFound(f"导入记录 {import_id} 不存在 (no import {import_id!r} in the ledger)")
    if not path.exists():
        return []
    return pq.read_table(path).to_pylist()


def export_rejects(root: str | Path, import_id: str, out: str | Path, english: bool = False) -> int:
    """Write the rejected rows of an import to ``out`` (.xlsx): the original headers and cells (as
    text), plus 错误原因. Returns the number of rows written."""
    rows = read_quarantine(root, import_id)
    path = DataFolder(root).quarantine_file(import_id)
    columns = (
        [c for c in pq.read_schema(path).names if c not in INTERNAL] if path.exists() else [REASON_COLUMN]
    )
    if english:
        columns = [c for c in columns if c != REASON_COLUMN] + ["_reasons_en"]
    out = Path(out)
    with atomic_file(out) as tmp:
        book = xlsxwriter.Workbook(str(tmp.with_suffix(".xlsx")), {"constant_memory": True})
        sheet = book.add_worksheet("退回数据")
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        red = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "font_color": "#C00000"})
        for c, name in enumerate(columns):
            label = "错误原因 (reasons)" if name == "_reasons_en" else name
            sheet.write_string(0, c, label, red if name in (REASON_COLUMN, "_reasons_en") else head)
            sheet.set_column(
                c, c, 60 if name in (REASON_COLUMN, "_reasons_en") else max(10, len(name) * 2 + 2)
            )
        for r, row in enumerate(rows, start=1):
            for c, name in enumerate(columns):
                value = row.get(name)
                if value is not None:
                    sheet.write_string(r, c, str(value))
        sheet.freeze_panes(1, 0)
        book.close()
        tmp.with_suffix(".xlsx").replace(tmp)
    return len(rows)
