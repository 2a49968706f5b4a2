"""Empty xlsx templates with the Chinese headers, required fields marked and allowed values listed."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from jingzhun.catalog.datasets import ENUMS, dataset


def write_template(name: str, path: str | Path) -> Path:
    """Write the template for dataset ``name``: a data sheet with headers (required ones in red, with a
    comment giving the English name and type), drop-down lists for enumerations, and a 说明 sheet."""
    ds = dataset(name)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(ds.zh[:31])
    lists = book.add_worksheet("可选值")
    notes = book.add_worksheet("说明")
    plain = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "font_color": "#C00000"})
    text = book.add_format({"num_format": "@"})
    notes.write_row(0, 0, ["字段", "field", "类型 type", "必填 required", "可选值 allowed values"], plain)
    list_col = 0
    for col, f in enumerate(ds.fields):
        sheet.write(0, col, f.zh, required if f.required else plain)
        sheet.write_comment(0, col, f"{f.en} ({f.name}, {f.type}){' — required' if f.required else ''}")
        sheet.set_column(col, col, max(10, len(f.zh) * 2 + 2), text if f.type in ("id_number", "string",
                                                                               "region_code") else None)
        allowed = ""
        if f.enum:
            values = ENUMS[f.enum]
            lists.write(0, list_col, f.zh)
            for i, v in enumerate(values, start=1):
                lists.write(i, list_col, v)
            ref = xlsxwriter.utility.xl_range_abs(1, list_col, len(values), list_col)
            sheet.data_validation(1, col, 100000, col, {"validate": "list", "source": f"='可选值'!{ref}"})
            list_col += 1
            allowed = "、".join(values)
        elif f.type == "bool":
            sheet.data_validation(1, col, 100000, col, {"validate": "list", "source": ["是", "否"]})
            allowed = "是、否"
        notes.write_row(col + 1, 0, [f.zh, f.name, f.type, "是" if f.required else "", allowed])
    sheet.freeze_panes(1, 0)
    book.close()
    return path
