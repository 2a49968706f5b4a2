"""Streaming writers for one dataset file (csv, parquet, xlsx) with the catalogue's Chinese headers.

CSV is written in UTF-8 with a byte-order mark (as Excel/WPS save "CSV UTF-8"), or GB18030 for the
departments that still export that way. xlsx goes through xlsxwriter in constant-memory mode with fixed
document properties (so the same input gives the same bytes) and continues on a new sheet
(``<title>_2`` …) after 1,048,575 data rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from jingzhun.catalog import DATASETS

XLSX_MAX_ROWS = 1_048_575
_ARROW = {"int": pa.int64(), "decimal": pa.decimal128(18, 2), "date": pa.date32()}
_SCI = re.compile(r"^\d\.\d+E\+\d+$")


def export_schema(dataset: str) -> pa.Schema:
    """Arrow schema of an exported file: Chinese headers; strings except ints, money and dates.

    >>> export_schema("income").field("年度").type
    DataType(int64)
    """
    return pa.schema([pa.field(f.zh, _ARROW.get(f.type, pa.string())) for f in DATASETS[dataset].fields])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class HashingFile(io.RawIOBase):
    """A binary file that computes its sha256 as it is written (so the file is never read back)."""

    def __init__(self, path: Path):
        super().__init__()
        self._fh = path.open("wb")
        self.digest = hashlib.sha256()
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = memoryview(data)
        self._fh.write(view)
        self.digest.update(view)
        self._pos += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


class DatasetWriter:
    """Append tables (canonical column names, catalogue order) to one file; ``close()`` returns rows."""

    def __init__(
        self,
        path: Path,
        dataset: str,
        fmt: str,
        encoding: str = "utf-8-sig",
        created: dt.datetime | None = None,
    ):
        self.path, self.dataset, self.fmt, self.encoding = path, dataset, fmt, encoding
        self.schema = export_schema(dataset)
        self.rows = 0
        self.sheets = 1
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: HashingFile | None = None
        if fmt == "csv":
            self._file = HashingFile(path)
            header = ",".join(self.schema.names) + "\n"
            self._emit(header.encode("utf-8-sig" if encoding == "utf-8-sig" else encoding))
        elif fmt == "parquet":
            low_cardinality = [
                f.zh for f in DATASETS[dataset].fields if f.type in ("enum", "bool", "region_code", "month")
            ]
            self._file = HashingFile(path)
            self._pq = pq.ParquetWriter(
                self._file,
                self.schema,
                compression="snappy",
                use_dictionary=low_cardinality,
                write_statistics=False,
            )
        elif fmt == "xlsx":
            import xlsxwriter

            self._book = xlsxwriter.Workbook(
                str(path),
                {
                    "constant_memory": True,
                    "strings_to_numbers": False,
                    "strings_to_formulas": False,
                    "strings_to_urls": False,
                },
            )
            self._book.set_properties(
                {
                    "title": DATASETS[dataset].zh,
                    "author": "jingzhun synth",
                    "created": created or dt.datetime(2000, 1, 1),
                }
            )
            self._header = self._book.add_format({"bold": True})
            self._new_sheet()
        else:
            raise ValueError(f"unknown format {fmt}")

    def _emit(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)

    @property
    def sha256(self) -> str:
        """The file's sha256 (computed while writing csv and parquet; read back for xlsx)."""
        return self._file.digest.hexdigest() if self._file is not None else sha256_of(self.path)

    def _new_sheet(self) -> None:
        title = DATASETS[self.dataset].zh[:28]
        name = title if self.sheets == 1 else f"{title}_{self.sheets}"
        self._sheet = self._book.add_worksheet(name)
        self._sheet.write_row(0, 0, self.schema.names, self._header)
        self._sheet_row = 1

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = table.rename_columns(self.schema.names).cast(self.schema)
        self.rows += table.num_rows
        if self.fmt == "csv":
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
            data = buf.getvalue()
            if self.encoding not in ("utf-8", "utf-8-sig"):
                data = data.decode("utf-8").encode(self.encoding)
            self._emit(data)
        elif self.fmt == "parquet":
            self._pq.write_table(table)
        else:
            self._write_xlsx(table)

    def _write_xlsx(self, table: pa.Table) -> None:
        columns = []
        for name, field in zip(table.column_names, self.schema, strict=True):
            values = table.column(name).to_pylist()
            if pa.types.is_decimal(field.type):
                values = [None if v is None else float(v) for v in values]
            elif pa.types.is_date(field.type):
                values = [None if v is None else v.isoformat() for v in values]
            elif name == "证件号码":  # a spreadsheet turned these into numbers
                values = [float(v) if v is not None and _SCI.match(v) else v for v in values]
            columns.append(values)
        for row in zip(*columns, strict=True):
            if self._sheet_row > XLSX_MAX_ROWS:
                self.sheets += 1
                self._new_sheet()
            self._sheet.write_row(self._sheet_row, 0, row)
            self._sheet_row += 1

    def close(self) -> int:
        if self.fmt == "parquet":
            self._pq.close()
        elif self.fmt == "xlsx":
            self._book.close()
        if self._file is not None:
            self._file.close()
        return self.rows


TRUTH_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("period", pa.string()),
        ("record_id", pa.string()),
        ("person_id", pa.string()),
        ("household_id", pa.string()),
        ("village_code", pa.string()),
        ("noise", pa.list_(pa.string())),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("event", pa.string()),
        ("period", pa.string()),
        ("person_id", pa.string()),
        ("household_id", pa.string()),
        ("village_code", pa.string()),
        ("dataset", pa.string()),
        ("record_id", pa.string()),
        ("detail", pa.string()),
        ("event_date", pa.date32()),
        ("arrival", pa.string()),
    ]
)
STATES_SCHEMA = pa.schema(
    [
        ("state", pa.string()),
        ("subject", pa.string()),
        ("household_id", pa.string()),
        ("person_id", pa.string()),
        ("village_code", pa.string()),
        ("natural_village", pa.string()),
        ("value", pa.string()),
        ("event_date", pa.date32()),
        ("arrival", pa.string()),
        ("dataset", pa.string()),
        ("record_id", pa.string()),
    ]
)
HOUSEHOLDS_SCHEMA = pa.schema(
    [("household_id", pa.string()), ("period", pa.string()), ("member_count", pa.int64())]
)


class TruthWriter:
    """Parquet writer for a truth table (feed_truth, events, states, households)."""

    def __init__(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.schema, self.rows = path, schema, 0
        low_cardinality = [
            n for n in ("dataset", "period", "village_code", "event", "arrival", "state") if n in schema.names
        ]
        self._file = HashingFile(path)
        self._w = pq.ParquetWriter(
            self._file, schema, compression="snappy", use_dictionary=low_cardinality, write_statistics=False
        )

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._w.write_table(table.select(self.schema.names).cast(self.schema))
            self.rows += table.num_rows

    def close(self) -> int:
        self._w.close()
        self._file.close()
        return self.rows

    @property
    def sha256(self) -> str:
        return self._file.digest.hexdigest()
