"""Readers: a spreadsheet file (xlsx/xlsm/xls, csv/tsv/txt, Parquet) into a DuckDB table of text cells.

Everything is read as text so that nothing is silently converted. Each sheet becomes a temporary DuckDB
table ``c0 .. cN`` (VARCHAR, the grid as the user sees it, title and header rows included) with a
``_row`` column: the row number the user sees in Excel or the line of a CSV file.

- CSV: DuckDB ``read_csv`` (all text), *streamed*: the file is not copied into a table; validation reads
  it with DuckDB's parallel reader (``RawSheet.source``) and a row's number is its position. UTF-8 with
  or without BOM is read directly, GB18030/GBK is transcoded to a UTF-8 temporary file first (in large
  chunks, no per-row Python).
- xlsx: fastexcel (calamine) into Arrow with every column as text; cells that were stored as *numbers*
  are found in the sheet XML (see :func:`numeric_cells_by_column`) by a thread that runs while calamine parses,
  because ID numbers stored as numbers have lost their last digits and must be quarantined, never
  repaired.
- xls: python-calamine (these files hold at most 65,536 rows).
- Parquet: pyarrow, every column cast to text.
"""

from __future__ import annotations

import codecs
import csv
import io
import multiprocessing
import os
import re
import shutil
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from jingzhun.errors import FileLevelError, Location
from jingzhun.sqltext import literal, quote

TEXT_EXTS = (".csv", ".tsv", ".txt")
EXCEL_EXTS = (".xlsx", ".xlsm", ".xls")
SUPPORTED_EXTS = (*EXCEL_EXTS, *TEXT_EXTS, ".parquet")
HEAD_ROWS = 30  # rows looked at for title and header rows


@dataclass
class RawSheet:
    """One sheet of a file, as text cells ``c0..c{width-1}`` that DuckDB can read.

    Most sheets are a temporary view ``table`` with the cells and ``_row`` (the row number the user
    sees), blank rows left out. A *streamed* sheet (CSV) is the SQL ``source`` (``read_csv(...)``) with
    ``total`` columns (``width`` and spare ones, for rows wider than the first rows) and no ``_row``:
    a row's number is its position (blank lines kept as rows of empty cells).

    ``head`` holds the first non-blank rows as Python lists and ``head_rows`` their numbers (for header
    detection). ``numeric_rows`` gives, for ID-number columns of an xlsx sheet, the rows whose cell was
    stored as a number.
    """

    file: Path
    sheet: str | None
    table: str
    width: int
    head: list[list[str | None]]
    head_rows: list[int]
    numeric_finder: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    streamed: bool = False
    total: int = 0

    def __post_init__(self) -> None:
        self.source = self.source or self.table

    def numeric_rows(self, columns: list[int]) -> dict[int, np.ndarray]:
        """User row numbers whose cell in each of ``columns`` was a number, not text (xlsx only)."""
        if self.numeric_finder is None or not columns:
            return {}
        result: dict[int, np.ndarray] = self.numeric_finder(columns)
        return result

    def blank_sql(self) -> str:
        """SQL: the row has no cell (streamed sheets)."""
        return "NOT (" + (" OR ".join(f"c{i} IS NOT NULL" for i in range(self.width)) or "false") + ")"

    def spare_sql(self) -> str:
        """SQL: the index of the last spare column holding a cell, or NULL (streamed sheets)."""
        spare = range(self.total - 1, self.width - 1, -1)
        if not spare:
            return "NULL::INTEGER"
        return "CASE " + " ".join(f"WHEN c{i} IS NOT NULL THEN {i}" for i in spare) + " END"

    def rows_sql(self, rows_query: str) -> str:
        """SELECT of ``_row`` and the cells of the rows numbered by ``rows_query`` (a small set)."""
        cols = ", ".join(f"c{i}" for i in range(self.width))
        if not self.streamed:
            return f"SELECT _row, {cols} FROM {self.table} WHERE _row IN ({rows_query})"
        # numbering by position needs one ordered (single-threaded) pass over the file
        return (
            f"SELECT _row, {cols} FROM (SELECT row_number() OVER () AS _row, * FROM {self.source}) "
            f"WHERE _row IN ({rows_query})"
        )


def file_error(
    path: Path, zh: str, en: str, sheet: str | None = None, hint: str | None = None
) -> FileLevelError:
    return FileLevelError(f"{zh} ({en})", Location(file=str(path), sheet=sheet), hint)


def iter_sheets(
    con: duckdb.DuckDBPyConnection, path: Path, workdir: Path, sheet: str | None = None
) -> Iterator[RawSheet]:
    """Yield each sheet of ``path`` loaded into ``con`` (CSV and Parquet files have one); ``workdir`` is
    a temporary folder that must live as long as the sheets are read (transcoded CSV copies).

    Workbooks: hidden sheets are skipped unless ``sheet`` names one; with ``sheet`` only that sheet."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise file_error(path, "文件不存在", "file not found")
    if path.stat().st_size == 0:
        raise file_error(path, "文件为空", "the file is empty")
    if suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_sheets(con, path, sheet)
    elif suffix == ".xls":
        yield from _xls_sheets(con, path, sheet)
    elif suffix in TEXT_EXTS:
        yield _csv_sheet(con, path, workdir)
    elif suffix == ".parquet":
        yield _parquet_sheet(con, path)
    else:
        raise file_error(
            path, "不是可识别的表格文件", "not a spreadsheet", hint="supported: " + " ".join(SUPPORTED_EXTS)
        )


_COUNTER = [0]


def _table_name() -> str:
    _COUNTER[0] += 1
    return f"raw_{_COUNTER[0]}"


def _finish(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sheet: str | None,
    table: str,
    width: int,
    numeric_finder: Any = None,
) -> RawSheet:
    # the first rows only (a filter on the row number skips the rest of a large file)
    head = con.sql(
        f"SELECT * EXCLUDE (_row), _row FROM {table} WHERE _row <= 500 ORDER BY _row LIMIT {HEAD_ROWS}"
    ).fetchall()
    if len(head) < HEAD_ROWS:
        head = con.sql(
            f"SELECT * EXCLUDE (_row), _row FROM {table} ORDER BY _row LIMIT {HEAD_ROWS}"
        ).fetchall()
    rows = [list(r[:-1]) for r in head]
    return RawSheet(path, sheet, table, width, rows, [int(r[-1]) for r in head], numeric_finder)


def _register_arrow(con: duckdb.DuckDBPyConnection, table: pa.Table, first_row: int) -> tuple[str, int]:
    """Store an all-text Arrow table (any column names) as ``c0..cN`` plus ``_row``; blank rows dropped."""
    width = table.num_columns
    names = [f"c{i}" for i in range(width)]
    table = table.rename_columns(names)
    table = table.append_column(
        "_row", pa.array(np.arange(first_row, first_row + table.num_rows, dtype=np.int64))
    )
    name = _table_name()
    con.register(f"{name}_arrow", table)
    # a view over the Arrow data (no copy); cells holding only spaces were read as NULL
    not_blank = " OR ".join(f"c{i} IS NOT NULL" for i in range(width)) or "false"
    con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM {name}_arrow WHERE {not_blank}")
    return name, width


# ---------------------------------------------------------------- CSV


def _detect_encoding(path: Path, sample: bytes) -> str:
    """The text encoding of the whole file: a BOM (UTF-8, UTF-16), UTF-16 without a BOM (every other
    byte zero), else UTF-8 when *every* byte of the file decodes as UTF-8, else GB18030 (which the
    transcoding checks in full), else what charset-normalizer finds in the sample."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return _whole_file_utf8(path) or _damaged_utf8(path, bom=True)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = sample[:4096]
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.3 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.3 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
        raise file_error(path, "不是文本表格文件（含二进制内容）", "not a text spreadsheet (binary content)")
    found = _whole_file_utf8(path)
    if found:
        return found
    _damaged_utf8(path)
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise file_error(
            path, "无法识别文件编码", "unreadable text encoding", hint="save the file as UTF-8 or GB18030 CSV"
        )
    return str(best.encoding)


# Chinese characters and punctuation, full-width forms: three bytes each in UTF-8. GB18030 text read as
# UTF-8 gives two-byte characters (住 is D7 A1, a valid UTF-8 Hebrew letter) and invalid bytes instead.
_CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _damaged_utf8(path: Path, bom: bool = False) -> str:
    """For a file that is not entirely UTF-8: raise when it is UTF-8 text with a few damaged bytes
    (many Chinese characters in UTF-8, few invalid sequences, or a UTF-8 BOM), naming the line of the
    first bad byte, rather than reading every Chinese character in it as GB18030 (which would store
    garbled names). Returns ``"gb18030"`` otherwise."""
    good = bad = 0
    first_line: int | None = None
    lines = 1
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with path.open("rb") as f:
        while chunk := f.read(TRANSCODE_CHUNK):
            text = decoder.decode(chunk)
            errors = text.count("\ufffd")
            if errors and first_line is None:
                first_line = lines + text.count("\n", 0, text.index("\ufffd"))
            lines += text.count("\n")
            bad += errors
            good += len(_CJK.findall(text))
    if bom or good >= 10 * bad:
        raise file_error(
            path,
            f"文件是 UTF-8 编码，但第 {first_line} 行有无法解码的字节（共 {bad} 处）",
            f"the file is UTF-8 but line {first_line} holds bytes that are not UTF-8 ({bad} in all)",
            hint="the file was damaged or two encodings were mixed: export it again as UTF-8",
        )
    return "gb18030"


def _whole_file_utf8(path: Path) -> str | None:
    """``"utf-8"`` when every byte of the file decodes as UTF-8 (read in large chunks), else None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while chunk := f.read(TRANSCODE_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return "utf-8"


# a blank line (with its line break; the end of a chunk after its last line break is not one)
_BLANK_LINE = re.compile(rb"(?m)^[ \t]*\r?\n")
TRANSCODE_CHUNK = 1 << 24


def _utf8_copy(path: Path, encoding: str, tmpdir: Path, blank_lines: bool) -> Path:
    """Transcode to UTF-8 (and keep blank lines as rows of one empty cell) in large chunks; a large file
    in an encoding where a line break is always the byte 0x0A is cut at line breaks into one piece per
    core, transcoded by forked processes (CPython's codecs hold the GIL)."""
    out = tmpdir / "utf8.csv"
    size = path.stat().st_size
    workers = min(os.cpu_count() or 1, size // PARALLEL_TRANSCODE_BYTES)
    if workers > 1 and codecs.lookup(encoding).name in ("utf-8", "gb18030", "gbk"):
        ranges = _line_ranges(path, workers)
        jobs = [
            (path, encoding, tmpdir / f"utf8-{i}.csv", a, b, blank_lines) for i, (a, b) in enumerate(ranges)
        ]
        with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
            errors = [e for e in pool.map(_transcode_range, jobs) if e]
        if errors:
            raise _decode_error(path, encoding, errors[0])
        with out.open("wb") as dst:
            for job in jobs:
                with job[2].open("rb") as part:
                    shutil.copyfileobj(part, dst, 1 << 24)
                job[2].unlink()
        return out
    error = _transcode_range((path, encoding, out, 0, size, blank_lines))
    if error:
        raise _decode_error(path, encoding, error)
    return out


PARALLEL_TRANSCODE_BYTES = 1 << 25  # at least 32 MiB per process


def _decode_error(path: Path, encoding: str, hint: str) -> FileLevelError:
    return file_error(
        path, f"文件编码无法解码（按 {encoding} 读取）", f"cannot decode the file as {encoding}", hint=hint
    )


def _line_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """Byte ranges of about equal size, each starting at the beginning of a line."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as f:
        for k in range(1, parts):
            f.seek(max(size * k // parts, starts[-1]))
            f.readline()  # to the start of the next line
            if f.tell() < size and f.tell() > starts[-1]:
                starts.append(f.tell())
    return list(zip(starts, [*starts[1:], size], strict=True))


def _transcode_range(job: tuple[Path, str, Path, int, int, bool]) -> str | None:
    """Transcode bytes [start, end) of a file to UTF-8; returns the decoding error, if any."""
    path, encoding, out, start, end, blank_lines = job
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as src, out.open("wb") as dst:
            src.seek(start)
            left = end - start
            pending = b""
            while left > 0 and (chunk := src.read(min(TRANSCODE_CHUNK, left))):
                left -= len(chunk)
                text = decoder.decode(chunk).encode("utf-8")
                if blank_lines:
                    text = pending + text
                    cut = text.rfind(b"\n") + 1
                    text, pending = text[:cut], text[cut:]
                    text = _BLANK_LINE.sub(b'""\n', text)
                dst.write(text)
            dst.write(pending + decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        return str(exc)
    return None


def _has_blank_lines(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4)
        if head[:1] in (b"\n", b"\r") or head[:4] in (b"\xef\xbb\xbf\n", b"\xef\xbb\xbf\r"):
            return True
        f.seek(0)
        tail = b""
        while chunk := f.read(1 << 24):
            data = tail + chunk
            if b"\n\n" in data or b"\n\r\n" in data:
                return True
            tail = data[-2:]
    return False


def _csv_sheet(con: duckdb.DuckDBPyConnection, path: Path, workdir: Path) -> RawSheet:
    with path.open("rb") as f:
        sample = f.read(1 << 20)
    encoding = _detect_encoding(path, sample)
    text = sample.decode(encoding, errors="ignore").lstrip("\ufeff")
    first_lines = text.splitlines()[:HEAD_ROWS]
    delim = _sniff_delimiter(first_lines, path)
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))
    try:
        parsed = list(csv.reader(io.StringIO("\n".join(first_lines)), delimiter=delim))
    except csv.Error as exc:
        raise file_error(path, "CSV 文件无法解析", "the CSV file cannot be parsed", hint=str(exc)) from None
    if not any(any(c.strip() for c in row) for row in parsed):
        raise file_error(path, "文件为空", "the file is empty")
    width = max(len(r) for r in parsed)
    blank = _has_blank_lines(path)
    source = path
    if encoding not in ("utf-8", "ascii") or blank:
        source = _utf8_copy(path, encoding, workdir, blank)
    check_quotes(path, source, delim, width)
    settings = {"path": path, "delim": delim, "workdir": workdir, "blank": blank}
    return _csv_open(con, path, source, width, width + SPARE_COLUMNS, settings)


def _odd_quote_line(data: bytes, cut: int) -> bool:
    """Whether a line of ``data[:cut]`` (whole lines) holds an odd number of double quotes: a quoted
    cell starts or ends on it. Vectorised: each quote's line is found by a binary search among the
    line breaks."""
    if cut <= 0 or data.find(b'"', 0, cut) < 0:
        return False
    arr = np.frombuffer(data, dtype=np.uint8, count=cut)
    quotes = np.flatnonzero(arr == 34)
    lines = np.searchsorted(np.flatnonzero(arr == 10), quotes)
    return bool((np.bincount(lines) % 2).any())


def check_quotes(path: Path, source: Path, delim: str, width: int) -> None:
    """Refuse a CSV file whose unbalanced double quote swallows the lines after it into one cell.

    A quoted cell may hold line breaks (an address typed over two lines), but when the lines inside
    one cell look like rows of the file (as many delimiters as the header has), or the cell runs to
    the end of the file and the file has an odd number of quotes, a quote was left open and every
    line after it would silently become part of one cell: the error names the line where the quote
    opened (a physical line number, as a text editor counts). Files where no line has an odd number of
    quotes (nearly all) cost one vectorised pass (:func:`_odd_quote_line`)."""
    suspicious = False
    quotes = 0
    with source.open("rb") as f:
        tail = b""
        while chunk := f.read(TRANSCODE_CHUNK):
            quotes += chunk.count(b'"')
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            suspicious = suspicious or _odd_quote_line(data, cut)
            tail = data[cut:]
        suspicious = suspicious or _odd_quote_line(tail + b"\n", len(tail) + 1)
    if not suspicious:
        return
    many = max(1, width - 1)
    start = last_line = 0
    spans = False
    with source.open(encoding="utf-8", newline="") as text:
        reader = csv.reader(text, delimiter=delim)
        try:
            for record in reader:
                start, last_line = last_line + 1, reader.line_num
                spans = last_line > start
                if not spans:
                    continue
                inner = [ln for cell in record if "\n" in cell or "\r" in cell for ln in cell.splitlines()[1:]]
                if any(ln.count(delim) >= many for ln in inner):
                    raise _open_quote(path, start, last_line)
        except csv.Error as exc:
            raise file_error(
                path, f"第 {last_line + 1} 行无法解析", f"line {last_line + 1} cannot be parsed", hint=str(exc)
            ) from None
    if spans and quotes % 2:
        raise _open_quote(path, start, last_line)


def _open_quote(path: Path, start: int, end: int) -> FileLevelError:
    return file_error(
        path,
        f"第 {start} 行的引号没有闭合，后面 {end - start} 行被并进了一个单元格",
        f"line {start}: a double quote is never closed and swallows the next {end - start} lines into one cell",
        hint="close or remove the quote on that line and export again",
    )


def _sniff_delimiter(lines: list[str], path: Path) -> str:
    scores = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    best = max(scores, key=lambda d: scores[d])
    if scores[best] == 0:
        if any(line.strip() for line in lines):
            return ","  # a single column file
        raise file_error(path, "文件为空", "the file is empty")
    return best


SPARE_COLUMNS = 16  # rows further down may have more cells than the first rows
CSV_BUFFER_SIZE: int | None = None  # DuckDB's read_csv buffer (bytes); None: its default (tests lower it)
HEAD_SCAN = 500  # records looked at for the first HEAD_ROWS non-blank rows


def _csv_source(source: Path, delim: str, total: int, parallel: bool = True) -> str:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(total)) + "}"
    escaped = str(source).replace("'", "''")
    d = delim.replace("'", "''")
    line = 10_000_000 if not CSV_BUFFER_SIZE else min(10_000_000, CSV_BUFFER_SIZE // 2)
    return (
        f"read_csv('{escaped}', header=false, auto_detect=false, columns={columns}, delim='{d}', "
        f"quote='\"', escape='\"', null_padding=true, strict_mode=false, max_line_size={line}"
        + ("" if parallel else ", parallel=false")
        + (f", buffer_size={CSV_BUFFER_SIZE}" if CSV_BUFFER_SIZE else "")
        + ")"
    )


def _csv_open(
    con: duckdb.DuckDBPyConnection, path: Path, source: Path, width: int, total: int, settings: dict
) -> RawSheet:
    """A streamed sheet over ``source`` (UTF-8) with its head read (the first few hundred records)."""
    sql = _csv_source(source, settings["delim"], total, settings.get("parallel", True))
    cols = ", ".join(f"c{i}" for i in range(width))
    try:
        rows = con.sql(f"SELECT {cols} FROM {sql} LIMIT {HEAD_SCAN}").fetchall()
        numbered = [(n, list(r)) for n, r in enumerate(rows, start=1) if any(c is not None for c in r)]
        if len(numbered) < HEAD_ROWS and len(rows) == HEAD_SCAN:
            not_blank = " OR ".join(f"c{i} IS NOT NULL" for i in range(width))
            numbered = [
                (int(r[0]), list(r[1:]))
                for r in con.sql(
                    f"SELECT _row, {cols} FROM (SELECT row_number() OVER () AS _row, * FROM {sql}) "
                    f"WHERE {not_blank} LIMIT {HEAD_ROWS}"
                ).fetchall()
            ]
    except duckdb.Error as exc:
        failed = RawSheet(path, None, "", width, [], [], extra={**settings, "file": source}, source=sql)
        return csv_retry(con, failed, exc)
    numbered = numbered[:HEAD_ROWS]
    return RawSheet(
        path,
        None,
        _table_name(),
        width,
        [r for _n, r in numbered],
        [n for n, _r in numbered],
        extra={**settings, "file": source},
        source=sql,
        streamed=True,
        total=total,
    )


def csv_retry(con: duckdb.DuckDBPyConnection, sheet: RawSheet, exc: duckdb.Error) -> RawSheet:
    """After DuckDB failed reading a CSV file: the same file transcoded from GB18030 when the error was
    a non-UTF-8 byte further down than the sample, or read by one thread when cells hold line breaks
    (DuckDB's parallel reader cannot pad short rows then); otherwise a :class:`FileLevelError`."""
    path, settings = sheet.file, sheet.extra
    message = str(exc).splitlines()[0]
    detail = str(exc)
    total = sheet.total or sheet.width + SPARE_COLUMNS
    if "quoted new lines" in detail and settings.get("parallel", True):
        return _csv_open(con, path, settings["file"], sheet.width, total, {**settings, "parallel": False})
    if "unicode" in message.lower() and not settings.get("transcoded"):
        copy = _utf8_copy(path, "gb18030", settings["workdir"], settings["blank"])
        return _csv_open(con, path, copy, sheet.width, total, {**settings, "transcoded": True})
    raise file_error(path, "CSV 文件无法解析", "the CSV file cannot be parsed", hint=message) from None


def csv_widen(con: duckdb.DuckDBPyConnection, sheet: RawSheet, last_used: int) -> RawSheet:
    """The sheet again with ``width`` up to the last spare column that holds a cell; a file whose rows
    fill every spare column is refused (its delimiter or quoting is probably wrong)."""
    if last_used >= sheet.total - 1:
        raise file_error(
            sheet.file,
            f"有的行多于 {sheet.total} 列",
            f"some rows have more than {sheet.total} cells",
            hint="check the delimiter and quoting of the file",
        )
    return _csv_open(con, sheet.file, sheet.extra["file"], last_used + 1, sheet.total, sheet.extra)


# ---------------------------------------------------------------- Parquet


def _parquet_sheet(con: duckdb.DuckDBPyConnection, path: Path) -> RawSheet:
    """A Parquet file as a sheet: its column names are the header row (row 1), its rows rows 2… with every
    cell as text (as Arrow casts it). DuckDB reads the file where it is used, so a national extract of
    tens of millions of rows is never held in Python memory."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        con.sql(f"SELECT * FROM read_parquet({literal(path)}, hive_partitioning = false) LIMIT 0").fetchall()
    except Exception as exc:  # pyarrow and DuckDB raise several kinds
        raise file_error(path, "不是有效的 Parquet 文件", "not a valid Parquet file", hint=str(exc)) from None
    width = len(schema.names)
    header = ", ".join(f"{literal(n)} AS c{i}" for i, n in enumerate(schema.names))
    cells = ", ".join(f"{_as_text(f'p.{quote(f.name)}', f.type)} AS c{i}" for i, f in enumerate(schema))
    not_blank = " OR ".join(f"c{i} IS NOT NULL" for i in range(width)) or "false"
    name = _table_name()
    con.execute(f"""
        CREATE TEMP VIEW {name} AS
        SELECT {header}, CAST(1 AS BIGINT) AS _row
        UNION ALL
        SELECT * FROM (
            SELECT {cells}, CAST(p.file_row_number + 2 AS BIGINT) AS _row
            FROM read_parquet({literal(path)}, file_row_number = true, hive_partitioning = false) p
        ) WHERE {not_blank}
    """)
    return _finish(con, path, None, name, width)


def _as_text(column: str, arrow_type: pa.DataType) -> str:
    """SQL giving the text of a Parquet cell as validation reads it: DuckDB's VARCHAR cast (the same text as
    pyarrow's cast for strings, integers, dates, booleans and decimals), except that a whole floating-point
    number below 1e16 is written without a decimal point or exponent (``3`` and ``123456789012``, as a
    spreadsheet shows them, not ``3.0`` or ``1.23456789012e+11``)."""
    if pa.types.is_floating(arrow_type):
        return (f"CASE WHEN {column} = trunc({column}) AND abs({column}) < 1e16 "
                f"THEN CAST(CAST({column} AS HUGEINT) AS VARCHAR) "
                f"ELSE CAST({column} AS VARCHAR) END")
    return f"CAST({column} AS VARCHAR)"


# ---------------------------------------------------------------- xls (BIFF, small)


def _cell_text(value: object) -> str | None:
    """Text of a calamine cell value as fastexcel would write it.

    >>> _cell_text(3.0), _cell_text(1234.5), _cell_text(""), _cell_text(True)
    ('3', '1234.5', None, 'true')
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return str(value)


def _blank(text: str | None) -> str | None:
    return text if text is None or text.strip() else None


def _xls_sheets(con: duckdb.DuckDBPyConnection, path: Path, wanted: str | None) -> Iterator[RawSheet]:
    import python_calamine as pc

    try:
        book = pc.CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise file_error(path, "不是有效的 Excel 文件", "not a valid Excel file", hint=str(exc)) from None
    visible = {m.name: m.visible == pc.SheetVisibleEnum.Visible for m in book.sheets_metadata}
    _check_wanted(path, wanted, list(book.sheet_names))
    for sheet_name in book.sheet_names:
        if (wanted is not None and sheet_name != wanted) or (wanted is None and not visible.get(sheet_name, True)):
            continue
        sheet = book.get_sheet_by_name(sheet_name)
        rows = sheet.to_python(skip_empty_area=False)
        if not rows or not any(rows):
            continue
        width = max(len(r) for r in rows)
        numeric = {
            c: np.array(
                [
                    i + 1
                    for i, r in enumerate(rows)
                    if c < len(r) and isinstance(r[c], float | int) and not isinstance(r[c], bool)
                ],
                dtype=np.int64,
            )
            for c in range(width)
        }
        cols = {
            f"h{c}": pa.array([_blank(_cell_text(r[c])) if c < len(r) else None for r in rows], pa.string())
            for c in range(width)
        }
        name, width = _register_arrow(con, pa.table(cols), 1)
        yield _finish(con, path, sheet_name, name, width, lambda cols, n=numeric: {c: n[c] for c in cols})


# ---------------------------------------------------------------- xlsx


def _check_wanted(path: Path, wanted: str | None, names: list[str]) -> None:
    if wanted is not None and wanted not in names:
        raise file_error(
            path,
            f"没有名为「{wanted}」的工作表（有：{'、'.join(names)}）",
            f"no sheet named {wanted!r} (sheets: {', '.join(names)})",
        )


def _xlsx_sheets(con: duckdb.DuckDBPyConnection, path: Path, wanted: str | None) -> Iterator[RawSheet]:
    import fastexcel

    if not zipfile.is_zipfile(path):
        raise file_error(path, "不是有效的 Excel 文件", "not a valid xlsx file (not a zip archive)")
    try:
        parts = workbook_sheets(path)
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except FileLevelError:
        raise
    except Exception as exc:
        raise file_error(path, "不是有效的 Excel 文件", "not a valid Excel file", hint=str(exc)) from None
    _check_wanted(path, wanted, names)
    for index, sheet_name in enumerate(names):
        part = parts.get(sheet_name)
        if wanted is not None and sheet_name != wanted:
            continue
        if wanted is None and part is not None and part.hidden:
            continue  # a hidden sheet (旧数据, a lookup list) is imported only when named
        xml = part.xml if part else None
        scan: SheetScan | None = None
        if xml:
            scan = SheetScan(path, xml, sheet_name)
            scan.refuse_oversized()
        try:
            batch = reader.load_sheet(
                index, header_row=None, dtypes="string", whitespace_as_null=True
            ).to_arrow()
        except Exception as exc:
            message = str(exc)
            if "empty" in message.lower() or "no data" in message.lower():
                continue
            raise file_error(
                path, "工作表无法读取", "the sheet cannot be read", sheet=sheet_name, hint=message
            ) from None
        if batch.num_rows == 0 or batch.num_columns == 0:
            continue
        start_row, start_col = scan.start() if scan is not None else (1, 0)
        name, width = _register_arrow(con, pa.Table.from_batches([batch]), start_row)
        finder = None
        if scan is not None:

            def finder(
                cols: list[int], scan: SheetScan = scan, start_col: int = start_col
            ) -> dict[int, np.ndarray]:
                return scan.rows({c: start_col + c for c in cols})

        yield _finish(con, path, sheet_name, name, width, finder)


@dataclass
class SheetPart:
    """A sheet of a workbook: its XML part inside the archive and whether it is hidden."""

    name: str
    xml: str | None
    hidden: bool


def workbook_sheets(path: Path) -> dict[str, SheetPart]:
    """Sheet name → its part, from ``xl/workbook.xml`` and its relationships, parsed as XML (so any
    namespace prefix, attribute order or quoting works, as Excel, LibreOffice, WPS and the .NET Open
    XML SDK write them)."""
    import xml.etree.ElementTree as ET

    try:
        with zipfile.ZipFile(path) as z:
            book = ET.fromstring(z.read("xl/workbook.xml"))
            rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, zipfile.BadZipFile, ET.ParseError):
        return {}
    targets = {}
    for rel in rels.iter():
        if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
            t = str(rel.get("Target"))
            targets[str(rel.get("Id"))] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = {}
    for sheet in book.iter():
        if _local(sheet.tag) != "sheet" or sheet.get("name") is None:
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        name = str(sheet.get("name"))
        state = (sheet.get("state") or "visible").lower()
        out[name] = SheetPart(name, targets.get(rid or ""), state in ("hidden", "veryhidden"))
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384  # the limits of a worksheet
GRID_FLOOR = 10_000_000  # cells a sheet's range may always span (about 320 MB for calamine)
BYTES_PER_CELL = 8  # no cell with a value takes fewer bytes of XML than this


class SheetScan:
    """What the reader needs from a sheet's XML besides calamine: where its range starts, whether its
    range is reasonable for its size (a cell at XFD1048576 in a 3 KB file would make calamine allocate
    the whole grid and abort the process), and the cells stored as *numbers* in each column.

    The common shape (every cell ``<c r="A1" ...>``, no namespace prefix: Excel, LibreOffice, WPS,
    xlsxwriter, openpyxl) is scanned with regular expressions in large chunks, the numeric cells by a
    background thread while calamine parses; any other shape (``<x:c>`` as the .NET Open XML SDK
    writes, attributes in another order, single quotes, cells or rows without ``r``) is parsed as XML
    by expat, counting positions the way calamine does."""

    def __init__(self, path: Path, xml: str, sheet: str) -> None:
        self.path, self.xml, self.sheet = path, xml, sheet
        self._found: dict[int, np.ndarray] = {}
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        with zipfile.ZipFile(path) as z:
            self.size = z.getinfo(xml).file_size
            with z.open(xml) as f:
                head = f.read(1 << 21)
        self.canonical = _is_canonical(head)
        self.extent: tuple[int, int, int, int] | None = None  # first row, first col, last row, last col
        if self.canonical:
            self._start = _xlsx_start_of(head)
        else:
            generic = _scan_generic(path, xml)
            self._found, self.extent = generic
            self._start = (self.extent[0], self.extent[1]) if self.extent else (1, 0)

    def refuse_oversized(self) -> None:
        """Raise a :class:`FileLevelError` when the sheet's range is far larger than its content could
        fill (then start the background scan of numeric cells)."""
        last_row, last_col = (
            (self.extent[2], self.extent[3]) if self.extent else _far_corner(self.path, self.xml)
        )
        first_row, first_col = self._start
        grid = max(0, last_row - first_row + 1) * max(0, last_col - first_col + 1)
        limit = max(GRID_FLOOR, 4 * (self.size // BYTES_PER_CELL))
        if last_row > MAX_ROWS or last_col >= MAX_COLUMNS or grid > limit:
            corner = f"{col_letters(min(last_col, 99_999))}{last_row}"
            raise file_error(
                self.path,
                f"工作表的使用范围太大（到 {corner}，约 {grid:,} 个单元格），而文件只有 {self.size:,} 字节的数据",
                f"the sheet's range reaches {corner} (about {grid:,} cells) but the file holds "
                f"{self.size:,} bytes of cells; it would not fit in memory",
                sheet=self.sheet,
                hint="delete the empty rows and columns after the data (or copy the data to a new sheet) "
                "and save again",
            )
        if self.canonical:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def start(self) -> tuple[int, int]:
        """(first row number, first column index) holding a value, as calamine starts its range."""
        return self._start

    def _run(self) -> None:
        try:
            self._found = numeric_cells_by_column(self.path, self.xml)
        except BaseException as exc:  # re-raised in rows()
            self._error = exc

    def rows(self, columns: dict[int, int]) -> dict[int, np.ndarray]:
        """``columns`` maps our column index to the sheet's; user row numbers of numeric cells."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        empty = np.array([], dtype=np.int64)
        return {ours: self._found.get(sheet_col, empty) for ours, sheet_col in columns.items()}



def _is_canonical(head: bytes) -> bool:
    """The sheet XML starts in the common shape: every cell element written ``<c r="..."`` and no
    namespace prefix on cells or rows (the rest of the file is checked again while it is scanned)."""
    head = head[: head.rfind(b">") + 1]
    if re.search(rb"<\w+:(?:c|row)[\s>/]", head):
        return False
    cells = head.count(b"<c ") + head.count(b"<c>") + head.count(b"<c/>")
    rows = head.count(b"<row ") + head.count(b"<row>")
    return cells == head.count(b'<c r="') and rows == head.count(b'<row r="')


# one pass each (both start with a literal, which Python's re searches fast): row tags, and column refs
# of two or more letters ("" for an attribute written with spaces around "=", which the fast forms miss)
_ROW_TAG = re.compile(rb'<row\b(?: r="(\d+)")?')
_WIDE_OR_SPACED = re.compile(rb'r(?:="([A-Z]{2,})\d|\s+=|=\s)')
_ROW_REF = re.compile(rb"<(?:\w{1,16}:)?row\s[^>]*?\br\s*=\s*[\"'](\d+)")
_FAR_WIDE = re.compile(rb"\sr\s*=\s*[\"']([A-Z]{2,})\d")


def _far_corner(path: Path, xml: str) -> tuple[int, int]:
    """(last row, last column index) of the sheet's range: the largest row number of a ``<row r=...>``
    (plus the rows written without one) and the largest column of a cell ref with two or more letters
    (25, column Z, when there is none). A chunk in the common shape costs two regular expressions that
    start with a literal; a chunk with prefixed rows or spaces around ``=`` takes general ones."""
    last_row, last_col, bare_rows = 0, 25, 0
    with zipfile.ZipFile(path) as z, z.open(xml) as f:
        tail = b""
        while chunk := f.read(1 << 24):
            data = tail + chunk
            cut = data.rfind(b">") + 1
            tags = _ROW_TAG.findall(data, 0, cut)
            refs = _WIDE_OR_SPACED.findall(data, 0, cut)
            if data.find(b":row", 0, cut) >= 0 or b"" in refs:
                rows = [int(r) for r in _ROW_REF.findall(data, 0, cut)]
                bare_rows += max(0, len(tags) - len(rows))
                refs = _FAR_WIDE.findall(data, 0, cut)
            else:
                rows = [int(r) for r in tags if r]
                bare_rows += len(tags) - len(rows)
            if rows:
                last_row = max(last_row, max(rows))
            wide = set(refs)
            if wide:
                last_col = max(last_col, max(col_index(w.decode()) for w in wide))
            tail = data[cut:]
    return last_row + bare_rows, last_col


def _xlsx_start_of(data: bytes) -> tuple[int, int]:
    rows, cols = [], []
    for match in _VALUE_CELL.finditer(data):
        rows.append(int(match.group(2)))
        cols.append(col_index(match.group(1).decode()))
        if len(rows) > 2000:
            break
    if not rows:
        return 1, 0
    return min(rows), min(cols)


_REF = re.compile(r"([A-Z]{0,3})(\d*)$")


def _scan_generic(path: Path, xml: str) -> tuple[dict[int, np.ndarray], tuple[int, int, int, int] | None]:
    """Numeric cells by column and the extent of the cells with a value, by an XML parser (expat):
    namespace prefixes, attribute order and quoting do not matter; a row or cell without ``r`` takes
    the position after the previous one, as calamine places it."""
    from xml.parsers import expat

    found: dict[int, list[int]] = {}
    state: dict[str, Any] = {"row": 0, "col": -1, "t": None, "value": False}
    extent = [MAX_ROWS + 1, MAX_COLUMNS + 1, 0, -1]

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local == "row":
            r = attrs.get("r")
            state["row"] = int(r) if r and r.isdigit() else int(state["row"]) + 1
            state["col"] = -1
        elif local == "c":
            ref = _REF.match(attrs.get("r") or "")
            col = col_index(ref.group(1)) if ref and ref.group(1) else int(state["col"]) + 1
            if ref and ref.group(2):
                state["row"] = int(ref.group(2))
            state["col"] = col
            state["t"] = attrs.get("t")
            state["value"] = False
        elif local in ("v", "is"):
            state["value"] = True

    def end(name: str) -> None:
        if name.rsplit(" ", 1)[-1] != "c" or not state["value"]:
            return
        row, col = int(state["row"]), int(state["col"])
        extent[0], extent[1] = min(extent[0], row), min(extent[1], col)
        extent[2], extent[3] = max(extent[2], row), max(extent[3], col)
        if state["t"] in (None, "n"):
            found.setdefault(col, []).append(row)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with zipfile.ZipFile(path) as z, z.open(xml) as f:
            parser.ParseFile(f)
    except expat.ExpatError as exc:
        raise file_error(path, "工作表的 XML 已损坏", "the sheet's XML is damaged", hint=str(exc)) from None
    columns = {c: np.array(rows, dtype=np.int64) for c, rows in found.items()}
    if extent[2] == 0:
        return columns, None
    return columns, (extent[0], extent[1], extent[2], extent[3])


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def col_index(letters: str) -> int:
    """0-based index of a column written in letters.

    >>> col_index("A"), col_index("Z"), col_index("AA")
    (0, 25, 26)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    """Letters of a 0-based column index.

    >>> col_letters(0), col_letters(26)
    ('A', 'AA')
    """
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


_VALUE_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?(?<!/)>\s*<(?:v|is|f)\b')


_NUMERIC_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})(\d+)"(?![^>]*\bt="(?:s|str|inlineStr|b|e)")[^>]*?(?<!/)>\s*'
    rb"(?:<f\b[^>]*(?:/>|>[^<]*</f>))?\s*<v>"
)


def _chunk_canonical(data: bytes, cut: int) -> bool:
    cells = data.count(b"<c ", 0, cut) + data.count(b"<c>", 0, cut) + data.count(b"<c/>", 0, cut)
    if cells != data.count(b'<c r="', 0, cut):
        return False
    return data.find(b":c ", 0, cut) < 0 or _PREFIXED_CELL.search(data, 0, cut) is None


_PREFIXED_CELL = re.compile(rb"<\w+:c[\s>/]")


def numeric_cells_by_column(path: Path, xml: str) -> dict[int, np.ndarray]:
    """Sheet column index → user row numbers of the cells holding a number (no text type: not a shared
    or inline string, formula string, boolean or error), for every column. The sheet XML is scanned in
    large chunks with one regular expression (C speed)."""
    found: dict[bytes, list[bytes]] = {}
    with zipfile.ZipFile(path) as z, z.open(xml) as f:
        tail = b""
        while True:
            chunk = f.read(1 << 24)
            data = tail + chunk
            cut = len(data) if not chunk else (data.rfind(b"</c>") + 4 if b"</c>" in data else 0)
            if not _chunk_canonical(data, cut):
                return _scan_generic(path, xml)[0]
            if b"<v>" in data:  # no value element, no number (a sheet of inline strings has none)
                for letters, row in _NUMERIC_CELL.findall(data, 0, cut):
                    found.setdefault(letters, []).append(row)
            tail = data[cut:]
            if not chunk:
                break
    return {
        col_index(letters.decode()): np.array(rows, dtype="S").astype(np.int64)
        for letters, rows in found.items()
    }
