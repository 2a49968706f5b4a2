"""Lists as xlsx with Chinese headers (exports of any page's table)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import xlsxwriter

Sheet = tuple[str, Sequence[tuple[str, str]], Iterable[dict[str, Any]]]


def to_xlsx(
    columns: Sequence[tuple[str, str]], items: Iterable[dict[str, Any]], sheet: str = "导出"
) -> bytes:
    """An xlsx workbook of ``items``: ``columns`` are (key, header) pairs; values written as text or
    numbers, lists joined with "、"."""
    return sheets_to_xlsx([(sheet, columns, items)])


def sheets_to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """An xlsx workbook with one sheet per (name, columns, items)."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    for sheet, columns, items in sheets:
        _write(book, sheet, columns, items)
    book.close()
    return buf.getvalue()


def _write(
    book: Any, sheet: str, columns: Sequence[tuple[str, str]], items: Iterable[dict[str, Any]]
) -> None:
    ws = book.add_worksheet(sheet[:31])
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for c, (_, header) in enumerate(columns):
        ws.write_string(0, c, header, head)
        ws.set_column(c, c, max(10, len(header) * 2 + 2))
    for r, item in enumerate(items, start=1):
        for c, (key, _) in enumerate(columns):
            value = item.get(key)
            if value is None:
                continue
            if isinstance(value, bool):
                ws.write_string(r, c, "是" if value else "否")
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            elif isinstance(value, list | tuple):
                ws.write_string(r, c, "、".join(str(v) for v in value))
            else:
                ws.write_string(r, c, str(value))
    ws.freeze_panes(1, 0)
