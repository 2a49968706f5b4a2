"""Hostile department files for ingest, deterministic by seed, with what a correct import must do.

Every file comes with its expectation (:class:`Hostile`): refused with an error naming what is wrong,
or imported with every data row either *accepted with exactly the intended value* or *quarantined
with a reason naming the file, sheet, row and field*. :func:`verify` imports a file and lists the
problems by kind: ``crash`` (anything but a clear file-level error, a killed process included),
``wrong_accept`` (a damaged value stored as a fact), ``lost_rows`` (rows in the file missing from
both the accepted rows and the quarantine), ``corruption`` (an accepted value differing from the
intended one), ``bad_refusal`` (refused when it should import, or the refusal does not name the
place) and ``bad_reason`` (a quarantined row whose reason does not name the file, sheet, row and
field).

Workbooks are written as the programs departments use write them (:data:`FLAVOURS`): Excel (shared
strings, ``r`` first), LibreOffice (``t="n"`` on numbers, shared strings), WPS (row spans, inline
strings), the .NET Open XML SDK (``x:`` prefixes, no ``r`` attributes, inline strings), and two
shapes other tools produce (attributes in another order, single quotes); where LibreOffice is installed
(``soffice``), also workbooks it writes itself (:func:`_libreoffice`). Excel's damage is made the
way Excel does it: an ID number or account stored as a number (15 significant digits), and that
number written back to CSV as ``1.10105E+17`` or as digits ending in zeros. ID numbers come from the
project's synthetic ID generator (:func:`jingzhun.synth.strings.id_numbers`); nothing is real.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

FLAVOURS = ("excel", "libreoffice", "wps", "dotnet", "attr_order", "single_quotes")
PERIOD = "2025-01"
QUICK = [False]  # set by the quick variants in make test: smaller files where size does not matter


@dataclass
class Row:
    """One data row as intended: ``values`` are the cells written (text, or a float for a number
    cell); ``expect`` the stored values when it must be accepted; ``bad`` the field it must be
    quarantined for (and the rule)."""

    number: int
    cells: list[object]
    expect: dict[str, object] = field(default_factory=dict)
    bad: tuple[str, str] | None = None  # (field, rule)


@dataclass
class Hostile:
    """A generated file and what a correct import does with it."""

    path: Path
    kind: str
    dataset: str | None = None
    sheet: str | None = None
    rows: list[Row] = field(default_factory=list)
    refused: tuple[str, ...] = ()  # texts the file-level error must contain; empty: must import
    import_sheet: str | None = None  # the sheet named on import (--sheet)


# ---------------------------------------------------------------- synthetic values


def synthetic_ids(rng: random.Random, n: int) -> list[str]:
    """Valid ID numbers from the project's synthetic generator (never ending in 000)."""
    from jingzhun.synth.people import sequence_numbers
    from jingzhun.synth.strings import id_numbers

    base = np.datetime64("1940-01-01")
    birth = base + np.array([rng.randrange(0, 30_000) for _ in range(n)], dtype="timedelta64[D]")
    sex = np.array([rng.randrange(2) for _ in range(n)])
    seq = sequence_numbers(np.array([rng.randrange(500) for _ in range(n)]), sex)
    area = np.array([rng.choice([110105, 520121, 441481, 130102]) for _ in range(n)])
    return [str(x) for x in id_numbers(area, birth, seq).to_pylist()]


def excel_number(id_number: str) -> float:
    """What Excel keeps of an ID number typed as a number: 15 significant digits."""
    return float(f"{int(id_number[:17] + ('0' if id_number[17] == 'X' else id_number[17])):.14e}")


def excel_csv_text(value: float, scientific: bool) -> str:
    """How Excel writes that number back to CSV: ``1.10105E+17`` (General format) or all digits."""
    if scientific:
        mantissa, exp = f"{value:.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exp)}"
    mantissa, exp = f"{value:.14e}".split("e")  # 15 significant digits, then zeros
    return mantissa.replace(".", "") + "0" * (int(exp) - 14)


CLAIM_HEADER = ["结算单号", "姓名", "证件号码", "结算日期", "就诊类型", "医疗总费用", "个人自付金额"]
MEMBER_HEADER = ["人编号", "户编号", "姓名", "证件号码", "性别", "出生日期", "与户主关系"]
HOUSEHOLD_HEADER = ["户编号", "行政村代码", "户类型", "银行账号"]


def claim_row(rng: random.Random, i: int, idn: str, number: int) -> Row:
    day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(28))
    total = Decimal(rng.randrange(100, 900_000)) / 100
    own = (total / 4).quantize(Decimal("0.01"))
    cells: list[object] = [f"R{i:06d}", f"患者{i}", idn, day.isoformat(), "住院", f"{total:,.2f}", str(own)]
    return Row(
        number,
        cells,
        {
            "record_id": f"R{i:06d}",
            "id_number": idn,
            "claim_date": day,
            "total_cost": total,
            "out_of_pocket": own,
        },
    )


def member_row(rng: random.Random, i: int, idn: str, number: int) -> Row:
    born = dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
    sex = "男" if int(idn[16]) % 2 else "女"
    cells: list[object] = [f"P{i:06d}", f"H{i // 3:06d}", f"成员{i}", idn, sex, born.isoformat(), "户主"]
    return Row(number, cells, {"person_id": f"P{i:06d}", "id_number": idn, "birth_date": born, "sex": sex})


def household_row(rng: random.Random, i: int, number: int) -> Row:
    account = "6228" + "".join(str(rng.randrange(10)) for _ in range(15))
    cells: list[object] = [f"H{i:06d}", "520121201201", "脱贫户", account]
    return Row(number, cells, {"household_id": f"H{i:06d}", "bank_account": account})


# ---------------------------------------------------------------- writers


def write_csv(path: Path, header: list[str], rows: list[Row], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if c is None else c for c in row.cells])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _col(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(65 + rem) + out
    return out


def _number_text(value: float) -> str:
    text = repr(float(value))
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa}E{'+' if not exp.startswith('-') else ''}{exp.lstrip('+')}"
    return text[:-2] if text.endswith(".0") else text


def _sheet_xml(grid: list[list[object]], flavour: str, strings: list[str]) -> str:
    """One worksheet's XML as ``flavour`` writes it (numbers for float cells, text for the others)."""
    p = "x:" if flavour == "dotnet" else ""
    q = "'" if flavour == "single_quotes" else '"'
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    decl = f"<?xml version={q}1.0{q} encoding={q}UTF-8{q} standalone={q}yes{q}?>"
    xmlns = f'xmlns:x="{ns}"' if flavour == "dotnet" else f"xmlns={q}{ns}{q}"
    width = max((len(r) for r in grid), default=0)
    out = [decl, f"<{p}worksheet {xmlns}>"]
    if flavour in ("excel", "wps", "libreoffice") and grid:
        out.append(f'<dimension ref="A1:{_col(max(width - 1, 0))}{len(grid)}"/>')
    out.append(f"<{p}sheetData>")
    for r, cells in enumerate(grid, start=1):
        if flavour == "dotnet":
            out.append(f"<{p}row>")
        elif flavour == "wps":
            out.append(f'<row r="{r}" spans="1:{width}">')
        else:
            out.append(f"<row r={q}{r}{q}>")
        for c, value in enumerate(cells):
            ref = f"{_col(c)}{r}"
            if value is None:
                continue
            if isinstance(value, float | int) and not isinstance(value, bool):
                v = _number_text(float(value))
                attrs = {
                    "excel": f'r="{ref}"',
                    "libreoffice": f'r="{ref}" s="0" t="n"',
                    "wps": f'r="{ref}" s="1"',
                    "dotnet": "",
                    "attr_order": f's="0" r="{ref}"',
                    "single_quotes": f"r='{ref}'",
                }[flavour]
                out.append(f"<{p}c{' ' if attrs else ''}{attrs}><{p}v>{v}</{p}v></{p}c>")
                continue
            text = escape(str(value))
            if flavour in ("excel", "libreoffice", "attr_order"):
                strings.append(str(value))
                index = len(strings) - 1
                attrs = f's="0" t="s" r="{ref}"' if flavour == "attr_order" else f'r="{ref}" t="s"'
                out.append(f"<c {attrs}><v>{index}</v></c>")
            elif flavour == "dotnet":
                out.append(f'<x:c t="inlineStr"><x:is><x:t>{text}</x:t></x:is></x:c>')
            elif flavour == "single_quotes":
                out.append(f"<c r='{ref}' t='inlineStr'><is><t>{text}</t></is></c>")
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
        out.append(f"</{p}row>")
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out)


def write_xlsx(
    path: Path,
    sheets: list[tuple[str, list[list[object]]]],
    flavour: str = "excel",
    hidden: tuple[str, ...] = (),
    raw_sheets: dict[str, str] | None = None,
) -> Path:
    """A workbook as ``flavour`` writes it; ``raw_sheets`` replaces a sheet's XML outright."""
    strings: list[str] = []
    parts = [_sheet_xml(grid, flavour, strings) for _name, grid in sheets]
    for i, (name, _grid) in enumerate(sheets):
        if raw_sheets and name in raw_sheets:
            parts[i] = raw_sheets[name]
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    p = "x:" if flavour == "dotnet" else ""
    xmlns = f'xmlns:x="{ns}"' if flavour == "dotnet" else f'xmlns="{ns}"'
    entries = "".join(
        f'<{p}sheet name="{escape(name)}" sheetId="{i + 1}"'
        + (' state="hidden"' if name in hidden else "")
        + f' r:id="rId{i + 1}"/>'
        for i, (name, _g) in enumerate(sheets)
    )
    book = f'<?xml version="1.0" encoding="UTF-8"?><{p}workbook {xmlns} xmlns:r="{rns}"><{p}sheets>{entries}</{p}sheets></{p}workbook>'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{rel}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets))
    )
    if strings:
        rels += (
            f'<Relationship Id="rId{len(sheets) + 1}" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    pkg = "http://schemas.openxmlformats.org/package/2006"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    types = (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{pkg}/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{ct}.worksheet+xml"/>'
            for i in range(len(sheets))
        )
        + (
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            if strings
            else ""
        )
        + "</Types>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr("xl/workbook.xml", book)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}/relationships">{rels}</Relationships>',
        )
        for i, xml in enumerate(parts):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", xml)
        if strings:
            items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
            z.writestr(
                "xl/sharedStrings.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{len(strings)}" '
                f'uniqueCount="{len(strings)}">{items}</sst>',
            )
    return path


def _grid(header: list[str], rows: list[Row]) -> list[list[object]]:
    return [list(header), *[list(r.cells) for r in rows]]


# ---------------------------------------------------------------- the kinds of hostile files


def _xlsx_numeric_ids(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """ID numbers stored as numbers among text ones, in every writer's XML shape (feed and registry)."""
    for flavour in FLAVOURS:
        registry = rng.random() < 0.5
        n = rng.randrange(6, 20)
        ids = synthetic_ids(rng, n)
        rows = []
        for i, idn in enumerate(ids):
            row = (member_row if registry else claim_row)(rng, seed * 1000 + i, idn, i + 2)
            if rng.random() < 0.4:
                row.cells[3 if registry else 2] = excel_number(idn)
                row.bad, row.expect = ("id_number", "id_scientific_notation"), {}
            rows.append(row)
        header = MEMBER_HEADER if registry else CLAIM_HEADER
        path = write_xlsx(
            out / f"numeric-ids-{flavour}-{seed}.xlsx", [("Sheet1", _grid(header, rows))], flavour
        )
        yield Hostile(
            path, f"xlsx_numeric_ids/{flavour}", "member" if registry else "medical_claim", "Sheet1", rows
        )


def _csv_excel_ids(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """A CSV that went through Excel: ID numbers as 1.10105E+17 or as digits ending in zeros."""
    for registry in (False, True):
        n = rng.randrange(10, 40)
        ids = synthetic_ids(rng, n)
        rows = []
        for i, idn in enumerate(ids):
            row = (member_row if registry else claim_row)(rng, seed * 1000 + i, idn, i + 2)
            u = rng.random()
            if u < 0.5:
                scientific = u < 0.2
                row.cells[3 if registry else 2] = excel_csv_text(excel_number(idn), scientific)
                rule = "id_scientific_notation" if scientific else "id_excel_rounded"
                row.bad, row.expect = ("id_number", rule), {}
            rows.append(row)
        header = MEMBER_HEADER if registry else CLAIM_HEADER
        name = f"excel-ids-{'member' if registry else 'claim'}-{seed}.csv"
        yield Hostile(
            write_csv(out / name, header, rows),
            "csv_excel_ids",
            "member" if registry else "medical_claim",
            None,
            rows,
        )


def _csv_open_quote(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """An unbalanced double quote: refused naming the line (never rows silently lost)."""
    n = rng.randrange(8, 60)
    rows = [claim_row(rng, seed * 1000 + i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, n))]
    broken = rng.randrange(len(rows) - 3)
    lines = [",".join(CLAIM_HEADER)] + [",".join(_plain(c) for c in r.cells) for r in rows]
    cells = lines[broken + 1].split(",")
    cells[1] = '"' + cells[1]  # the name cell opens a quote that never closes
    lines[broken + 1] = ",".join(cells)
    path = out / f"open-quote-{seed}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    yield Hostile(path, "csv_open_quote", refused=(f"第 {broken + 2} 行", f"line {broken + 2}"))


def _plain(c: object) -> str:
    return str(c).replace(",", "")


def _sheets(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """Several sheets: a hidden 旧数据 sheet first, two township sheets, households before members."""
    flavour = FLAVOURS[seed % len(FLAVOURS)]
    old_ids, new_ids = synthetic_ids(rng, 5), synthetic_ids(rng, 7)
    old = [member_row(rng, 900 + i, idn, i + 2) for i, idn in enumerate(old_ids)]
    new = [member_row(rng, i, idn, i + 2) for i, idn in enumerate(new_ids)]
    path = write_xlsx(
        out / f"hidden-sheet-{flavour}-{seed}.xlsx",
        [("旧数据", _grid(MEMBER_HEADER, old)), ("人员", _grid(MEMBER_HEADER, new))],
        flavour,
        hidden=("旧数据",),
    )
    yield Hostile(path, "sheets/hidden_old_data", "member", "人员", new)
    path = write_xlsx(
        out / f"hidden-sheet-named-{flavour}-{seed}.xlsx",
        [("旧数据", _grid(MEMBER_HEADER, old)), ("人员", _grid(MEMBER_HEADER, new))],
        flavour,
        hidden=("旧数据",),
    )
    yield Hostile(path, "sheets/hidden_named", "member", "旧数据", old, import_sheet="旧数据")
    a = [member_row(rng, i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, 4))]
    b = [member_row(rng, 50 + i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, 4))]
    path = write_xlsx(
        out / f"two-townships-{flavour}-{seed}.xlsx",
        [("城关镇", _grid(MEMBER_HEADER, a)), ("新场乡", _grid(MEMBER_HEADER, b))],
        flavour,
    )
    yield Hostile(path, "sheets/two_townships", refused=("城关镇", "新场乡"))
    households = [household_row(rng, i, i + 2) for i in range(4)]
    path = write_xlsx(
        out / f"households-first-{flavour}-{seed}.xlsx",
        [("农户", _grid(HOUSEHOLD_HEADER, households)), ("成员", _grid(MEMBER_HEADER, a))],
        flavour,
    )
    yield Hostile(path, "sheets/households_first", refused=("农户", "成员"))


def _accounts(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """Bank account numbers stored as numbers (xlsx) or as Excel wrote them back (CSV)."""
    flavour = FLAVOURS[seed % len(FLAVOURS)]
    rows = [household_row(rng, seed * 100 + i, i + 2) for i in range(rng.randrange(5, 15))]
    for row in rows:
        if rng.random() < 0.5:
            row.cells[3] = float(f"{int(row.cells[3]):.14e}")  # type: ignore[call-overload]
            row.bad, row.expect = ("bank_account", "digits_lost"), {}
    path = write_xlsx(
        out / f"accounts-{flavour}-{seed}.xlsx", [("农户", _grid(HOUSEHOLD_HEADER, rows))], flavour
    )
    yield Hostile(path, "accounts/xlsx_number", "household", "农户", rows)
    rows = [household_row(rng, seed * 100 + i, i + 2) for i in range(rng.randrange(5, 15))]
    for row in rows:
        if rng.random() < 0.5:
            value = float(f"{int(row.cells[3]):.14e}")  # type: ignore[call-overload]
            row.cells[3] = excel_csv_text(value, rng.random() < 0.5)
            row.bad, row.expect = ("bank_account", "digits_lost"), {}
    yield Hostile(
        write_csv(out / f"accounts-{seed}.csv", HOUSEHOLD_HEADER, rows),
        "accounts/csv",
        "household",
        None,
        rows,
    )


def _values(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """Values that used to become other values: a year in a date column, a decimal comma."""
    rows = [claim_row(rng, seed * 1000 + i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, 12))]
    for row in rows:
        u = rng.random()
        if u < 0.25:
            row.cells[3] = str(rng.randrange(1900, 2100))
            row.bad, row.expect = ("claim_date", "date"), {}
        elif u < 0.5:
            row.cells[5] = f"{rng.randrange(1, 99)},{rng.randrange(10, 99)}"
            row.bad, row.expect = ("total_cost", "number"), {}
    yield Hostile(
        write_csv(out / f"values-{seed}.csv", CLAIM_HEADER, rows), "values/csv", "medical_claim", None, rows
    )
    flavour = FLAVOURS[seed % len(FLAVOURS)]
    path = write_xlsx(out / f"values-{flavour}-{seed}.xlsx", [("Sheet1", _grid(CLAIM_HEADER, rows))], flavour)
    yield Hostile(path, f"values/xlsx_{flavour}", "medical_claim", "Sheet1", rows)


def _oversized(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """A tiny workbook whose one far cell spans the whole grid; a CSV with a 1 MB cell."""
    rows = [claim_row(rng, i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, 3))]
    flavour = FLAVOURS[seed % len(FLAVOURS)]
    corner = rng.choice(["XFD1048576", "Z1048576", "AAA99999", "XFD60000"])
    row_number = corner.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    p = "x:" if flavour == "dotnet" else ""
    q = "'" if flavour == "single_quotes" else '"'
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    xmlns = f'xmlns:x="{ns}"' if p else f'xmlns="{ns}"'
    ref = "" if p else f" r={q}A1{q}"
    far = (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {xmlns}><{p}sheetData><{p}row r={q}1{q}>'
        f'<{p}c{ref} t="inlineStr"><{p}is><{p}t>结算单号</{p}t></{p}is></{p}c></{p}row>'
        f"<{p}row r={q}{row_number}{q}><{p}c r={q}{corner}{q}><{p}v>1</{p}v></{p}c></{p}row>"
        f"</{p}sheetData></{p}worksheet>"
    )
    path = write_xlsx(
        out / f"far-cell-{corner}-{seed}.xlsx",
        [("Sheet1", _grid(CLAIM_HEADER, rows))],
        flavour,
        raw_sheets={"Sheet1": far},
    )
    yield Hostile(path, "oversized/far_cell", refused=("Sheet1", corner))
    rows = [claim_row(rng, seed * 1000 + i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, 6))]
    big = rng.randrange(len(rows))
    rows[big].cells[1] = "长" * rng.randrange(40_000, 400_000)
    rows[big].bad, rows[big].expect = ("name", "too_long"), {}
    yield Hostile(
        write_csv(out / f"big-cell-{seed}.csv", CLAIM_HEADER, rows),
        "oversized/big_cell",
        "medical_claim",
        None,
        rows,
    )


def _encodings(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """GB18030 whose first MiB is ASCII; UTF-8 with a few damaged bytes; UTF-16 with and without a BOM."""
    header = ["household_id", "year", "wage_income"]
    rows = []
    for i in range(rng.randrange(2_000, 2_500) if QUICK[0] else 45_000 + rng.randrange(5_000)):  # over 1 MiB
        wage = Decimal(rng.randrange(0, 5_000_000)) / 100
        rows.append(
            Row(
                i + 2,
                [f"H{seed:03d}{i:06d}", "2024", str(wage)],
                {"household_id": f"H{seed:03d}{i:06d}", "wage_income": wage},
            )
        )
    rows[-1].cells[0] = rows[-1].expect["household_id"] = f"H{seed:03d}张三丰"
    path = write_csv(out / f"gbk-late-{seed}.csv", header, rows, "gb18030")
    yield Hostile(path, "encoding/gbk_late", "income", None, rows)
    ids = synthetic_ids(rng, 6)
    rows = [claim_row(rng, seed * 1000 + i, idn, i + 2) for i, idn in enumerate(ids)]
    path = write_csv(out / f"damaged-utf8-{seed}.csv", CLAIM_HEADER, rows)
    data = path.read_bytes()
    lines = data.split(b"\r\n")
    broken = rng.randrange(1, len(rows) + 1)
    lines[broken] = lines[broken].replace(str(rows[broken - 1].cells[1]).encode(), b"\xe6\x82\xa3\xff\xfe")
    path.write_bytes(b"\r\n".join(lines))
    yield Hostile(path, "encoding/damaged_utf8", refused=(f"第 {broken + 1} 行", f"line {broken + 1}"))
    encoding = ["utf-16", "utf-16-le", "utf-16-be"][seed % 3]
    yield Hostile(
        write_csv(out / f"{encoding}-{seed}.csv", CLAIM_HEADER, rows, encoding),
        f"encoding/{encoding}",
        "medical_claim",
        None,
        rows,
    )


def _multiline(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """A quoted cell holding line breaks (an address typed over lines) is one row, not an error."""
    rows = [claim_row(rng, seed * 1000 + i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, 8))]
    for r in rows:
        if rng.random() < 0.3:
            r.cells[1] = f"{r.cells[1]}\n（曾用名）"
    yield Hostile(
        write_csv(out / f"multiline-{seed}.csv", CLAIM_HEADER, rows),
        "csv_multiline",
        "medical_claim",
        None,
        rows,
    )


def soffice() -> str | None:
    """LibreOffice's command line, when installed (``apt-get install libreoffice-calc-nogui``)."""
    import shutil

    return shutil.which("soffice")


def libreoffice_convert(source: Path, out_dir: Path, infilter: str | None = None) -> Path:
    """``source`` opened and saved as xlsx by LibreOffice itself (headless)."""
    import subprocess

    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / ".lo-profile"
    command = [str(soffice()), "--headless", "--norestore", f"-env:UserInstallation=file://{profile}"]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", "xlsx", "--outdir", str(out_dir), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return out_dir / (source.stem + ".xlsx")


def _libreoffice(out: Path, rng: random.Random, seed: int) -> Iterator[Hostile]:
    """Workbooks written by LibreOffice itself (only where it is installed): an Excel-shaped workbook
    re-saved, and a CSV of ID numbers opened and saved as xlsx (LibreOffice, like Excel, turns the
    all-digit numbers into numbers and loses their last digits; those ending in X stay text)."""
    if QUICK[0] or soffice() is None:
        return
    (out / "lo-src").mkdir(parents=True, exist_ok=True)
    first = next(_xlsx_numeric_ids(out / "lo-src", rng, seed))
    path = libreoffice_convert(first.path, out / "lo")
    yield Hostile(path, "libreoffice/resaved", first.dataset, first.sheet, first.rows)
    n = rng.randrange(8, 20)
    rows = [claim_row(rng, seed * 1000 + i, idn, i + 2) for i, idn in enumerate(synthetic_ids(rng, n))]
    for row in rows:
        row.cells[5] = str(row.expect["total_cost"])  # no thousands separator: one CSV cell
        if str(row.cells[2]).isdigit():
            row.bad, row.expect = ("id_number", "id_scientific_notation"), {}
    source = write_csv(out / "lo-src" / f"lo-csv-{seed}.csv", CLAIM_HEADER, rows)
    path = libreoffice_convert(source, out / "lo", infilter="CSV:44,34,76,1")
    sheet = _first_sheet(path)
    yield Hostile(path, "libreoffice/from_csv", "medical_claim", sheet, rows)


def _first_sheet(path: Path) -> str:
    from jingzhun.ingest.readers import workbook_sheets

    return next(iter(workbook_sheets(path)))


KINDS: dict[str, Callable[[Path, random.Random, int], Iterator[Hostile]]] = {
    "xlsx_numeric_ids": _xlsx_numeric_ids,
    "csv_excel_ids": _csv_excel_ids,
    "csv_open_quote": _csv_open_quote,
    "sheets": _sheets,
    "accounts": _accounts,
    "values": _values,
    "oversized": _oversized,
    "encodings": _encodings,
    "multiline": _multiline,
    "libreoffice": _libreoffice,
}


def generate(out: Path, seeds: range, kinds: tuple[str, ...] | None = None) -> list[Hostile]:
    """Every kind of hostile file for each seed, written under ``out`` (deterministic by seed)."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[Hostile] = []
    for seed in seeds:
        for name, make in KINDS.items():
            if kinds and name not in kinds:
                continue
            files.extend(make(out, random.Random(f"{name}-{seed}"), seed))
    return files


# ---------------------------------------------------------------- verification


def verify(h: Hostile, data_root: Path) -> list[tuple[str, str]]:
    """Import ``h`` into ``data_root`` and return its problems as (kind, detail)."""
    import duckdb

    from jingzhun.errors import FileLevelError
    from jingzhun.ingest import import_file
    from jingzhun.ingest.ledger import current_files

    problems: list[tuple[str, str]] = []
    try:
        result = import_file(data_root, h.path, period=PERIOD, sheet=h.import_sheet)
    except FileLevelError as exc:
        if not h.refused:
            return [("bad_refusal", f"refused: {exc}")]
        missing = [t for t in h.refused if t not in str(exc)]
        if missing or h.path.name not in str(exc):
            return [("bad_refusal", f"error does not name {missing or h.path.name}: {exc}")]
        return []
    except Exception as exc:  # anything else is a crash
        return [("crash", f"{type(exc).__name__}: {exc}")]
    if h.refused:
        return [("wrong_accept", f"imported {result.rows_accepted} rows; must be refused")]
    if result.dataset != h.dataset or (h.sheet and result.sheet != h.sheet):
        problems.append(
            ("wrong_accept", f"imported {result.dataset}/{result.sheet}, not {h.dataset}/{h.sheet}")
        )
        return problems
    con = duckdb.connect()
    own = data_root / "datasets" / (result.dataset or "") / f"period={PERIOD}" / f"{result.import_id}.parquet"
    # (a registry extract whose rows were all rejected never replaces the current one)
    if result.rows_accepted and own not in current_files(data_root, result.dataset or "", PERIOD):
        problems.append(("lost_rows", f"the import's file {own.name} is not among the current files"))
    accepted: dict[int, dict] = {}
    if own.exists():
        rel = con.sql(f"SELECT * FROM read_parquet('{own}')")
        cols = rel.columns
        for r in rel.fetchall():
            d = dict(zip(cols, r, strict=True))
            accepted[int(d["_row"])] = d
    quarantined: dict[int, dict] = {}
    qfile = data_root / "quarantine" / f"{result.import_id}.parquet"
    if qfile.exists():
        for row, reasons, file, sheet in con.sql(
            f"SELECT _row, _reasons, _file, _sheet FROM read_parquet('{qfile}')"
        ).fetchall():
            quarantined[int(row)] = {"reasons": json.loads(reasons), "file": file, "sheet": sheet}
    if result.rows_in != len(h.rows):
        problems.append(("lost_rows", f"rows in {result.rows_in}, file has {len(h.rows)}"))
    for row in h.rows:
        got, q = accepted.get(row.number), quarantined.get(row.number)
        if got is None and q is None:
            problems.append(("lost_rows", f"row {row.number} neither accepted nor quarantined"))
            continue
        if row.bad is not None:
            if got is not None:
                problems.append(
                    (
                        "wrong_accept",
                        f"row {row.number}: damaged {row.bad[0]} stored as {got.get(row.bad[0])!r}",
                    )
                )
                continue
            assert q is not None
            named = {(r["field"], r["rule"]) for r in q["reasons"]}
            if row.bad not in named or q["file"] != h.path.name or q["sheet"] != (h.sheet or ""):
                problems.append(
                    ("bad_reason", f"row {row.number}: reasons {named}, file {q['file']}, sheet {q['sheet']}")
                )
            continue
        if got is None:
            assert q is not None
            problems.append(("bad_refusal", f"row {row.number} quarantined: {q['reasons']}"))
            continue
        for name, want in row.expect.items():
            if got.get(name) != want:
                problems.append(
                    ("corruption", f"row {row.number}: {name} stored {got.get(name)!r}, sent {want!r}")
                )
    return problems


PROBLEM_KINDS = ("crash", "wrong_accept", "lost_rows", "corruption", "bad_refusal", "bad_reason")


def verify_isolated(h: Hostile, data_root: Path, timeout_s: float = 300.0) -> list[tuple[str, str]]:
    """:func:`verify` in a forked child process, so that a reader that aborts the process (or runs
    away with memory or time) is counted as a crash instead of ending the run."""
    from tests.ingest.isolate import in_child

    import jingzhun.ingest  # noqa: F401  (loaded once in the parent, not in every child)

    answer = in_child(lambda: verify(h, data_root), timeout_s)
    if "ok" in answer:
        return [(str(k), str(d)) for k, d in answer["ok"]]
    return [("crash", answer.get("crash") or answer.get("error") or "no answer")]
