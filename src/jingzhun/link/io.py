"""Reading and writing the tables of ad-hoc linkage: xlsx/xls (fastexcel → Arrow, every column as text),
CSV (UTF-8 with or without BOM, or GB18030; every column as text) and Parquet."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jingzhun.errors import FileLevelError, Location
from jingzhun.store import atomic_file

READABLE = (".xlsx", ".xlsm", ".xls", ".csv", ".txt", ".parquet")
WRITABLE = (".xlsx", ".csv", ".parquet")


def _csv_encoding(path: Path) -> str:
    head = path.read_bytes()[: 1 << 20]
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the end of the sample
            return "utf-8"
        return "gb18030"


def read_table(path: str | Path) -> pa.Table:
    """Read a spreadsheet, CSV or Parquet file into Arrow (text columns for spreadsheets and CSV, so ID
    numbers keep their leading zeros and final X)."""
    path = Path(path)
    where = Location(file=str(path))
    if not path.exists():
        raise FileLevelError("file not found", where)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path)
        if suffix in (".csv", ".txt"):
            encoding = _csv_encoding(path)
            read = pacsv.ReadOptions(encoding="utf8" if encoding.startswith("utf-8") else encoding)
            opener = pacsv.open_csv(path, read_options=read)
            names = opener.schema.names
            opener.close()
            table = pacsv.read_csv(
                path,
                read_options=read,
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names}, strings_can_be_null=True
                ),
            )
            # a byte-order mark or spaces around headers (", given_name") are not part of the name
            return table.rename_columns([n.lstrip("\ufeff").strip() for n in names])
        if suffix in (".xlsx", ".xlsm", ".xls"):
            import fastexcel

            sheet = fastexcel.read_excel(str(path)).load_sheet(0, dtypes="string")
            batch = sheet.to_arrow()
            return batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    except FileLevelError:
        raise
    except Exception as exc:
        raise FileLevelError(
            f"cannot read the file: {exc}", where, hint="save it as xlsx, CSV (UTF-8 or GB18030) or Parquet"
        ) from None
    raise FileLevelError(f"unsupported file type {suffix!r}; use one of {', '.join(READABLE)}", where)


def write_table(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` atomically as xlsx, CSV (UTF-8 with BOM, opens cleanly in Excel) or Parquet."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE:
        raise FileLevelError(
            f"cannot write {suffix!r}; use one of {', '.join(WRITABLE)}", Location(file=str(path))
        )
    with atomic_file(path) as tmp:
        if suffix == ".parquet":
            pq.write_table(table, tmp)
        elif suffix == ".csv":
            with open(tmp, "wb") as handle:
                handle.write(b"\xef\xbb\xbf")
                pacsv.write_csv(table, handle)
        else:
            import xlsxwriter

            book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
            sheet = book.add_worksheet("links")
            sheet.write_row(0, 0, table.column_names)
            for i, row in enumerate(table.to_pylist(), start=1):
                sheet.write_row(
                    i,
                    0,
                    [
                        "" if v is None else (v if isinstance(v, int | float) else str(v))
                        for v in row.values()
                    ],
                )
            book.close()
    return path
