"""Importing files: the entry points used by the CLI, the web upload and the pipeline.

One import = one file (one sheet of it) → ``datasets/<dataset>/period=P/<import_id>.parquet`` (accepted
rows), ``quarantine/<import_id>.parquet`` (rejected rows) and one ledger row. Files are written under a
temporary name and renamed into place; the ledger row is committed last, and if that fails the files
are removed again, so an import is all or nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
from sqlalchemy.exc import IntegrityError

from jingzhun.catalog import DATASETS
from jingzhun.errors import FileLevelError, JingzhunError, Location
from jingzhun.ingest import coerce, headers, ledger, readers, validate
from jingzhun.ops.models import ImportRecord
from jingzhun.sqltext import literal
from jingzhun.store import DataFolder, atomic_file

ProgressFn = Callable[[Path, str, float], None]
"""Called as ``progress(file, stage, fraction_of_this_file_done)``."""

SKIP_DIRS = ("truth",)
SKIP_FILES = ("manifest.json", "regions.csv")
FOLDER_EXTS = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".parquet")


@dataclass
class ImportResult:
    """What happened to one file. ``status``: imported, already_imported or failed."""

    file: str
    status: str
    dataset: str | None = None
    period: str | None = None
    import_id: str | None = None
    sheet: str | None = None
    rows_in: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


_PERIOD_DASH = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")
_PERIOD_ZH = re.compile(r"(?<!\d)(\d{4})年(0?[1-9]|1[0-2])月")


def period_from_path(path: str | Path) -> str | None:
    """The period named by the parent folder (``2025-01``) or the file name (``..._2025-01.csv``,
    ``XX县2025年1月医保结算明细.xlsx``).

    >>> period_from_path("data/2025-01/medical_claim.csv"), period_from_path("医保2024年3月.xlsx")
    ('2025-01', '2024-03')
    >>> period_from_path("member.csv") is None
    True
    """
    path = Path(path)
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", path.parent.name):
        return path.parent.name
    for pattern in (_PERIOD_DASH, _PERIOD_ZH):
        m = pattern.search(path.stem)
        if m:
            return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None


def _resolve_period(path: Path, period: str | None) -> str:
    if period:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
            raise FileLevelError(
                f"期间 {period!r} 应写成 YYYY-MM (period must be YYYY-MM)", Location(str(path))
            )
        return period
    found = period_from_path(path)
    if not found:
        raise FileLevelError(
            "无法确定数据期间 (period missing)",
            Location(str(path)),
            hint="pass --period YYYY-MM, or put the file in a YYYY-MM folder",
        )
    return found


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def new_import_id() -> str:
    """Sortable by time: ``imp-20250131T120000-1a2b3c4d``."""
    now = dt.datetime.now(dt.UTC)
    return f"imp-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


WORK_DIR = "tmp"
_WORK_PREFIX = "ingest-"


@contextlib.contextmanager
def work_folder(root: Path) -> Iterator[Path]:
    """A private temporary folder for one import (transcoded CSV copies, DuckDB's spill files) inside
    the data folder, ``tmp/ingest-<pid>-<random>``: removed when the import ends, however it ends, and
    by :func:`sweep_work_folders` after a killed process (whose pid is gone)."""
    base = root / WORK_DIR
    base.mkdir(parents=True, exist_ok=True)
    path = base / f"{_WORK_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_work_folders(root: str | Path) -> list[Path]:
    """Remove the work folders of imports whose process no longer runs (killed); returns them."""
    base = Path(root) / WORK_DIR
    removed: list[Path] = []
    if not base.is_dir():
        return removed
    for path in base.glob(f"{_WORK_PREFIX}*"):
        pid = path.name[len(_WORK_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connect(
    workdir: Path, threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for one import; ``memory_limit`` (e.g. ``"1GB"``) makes it spill
    to ``workdir`` instead of growing."""
    con = duckdb.connect(config={"preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    con.execute("SET temp_directory = ?", [str(workdir / "duckdb")])
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    coerce.install(con)
    return con


def _pick_sheet(
    con: duckdb.DuckDBPyConnection, path: Path, dataset: str | None, workdir: Path, sheet: str | None = None
) -> tuple[readers.RawSheet, headers.HeaderMatch]:
    """The one sheet to import: among the sheets read (hidden ones only when named), those whose header
    is recognised qualify; two or more qualifying sheets are refused, naming them (the user names one
    with ``sheet``), so a second township's sheet or a household sheet before the member sheet is
    never silently left out."""
    first_error: FileLevelError | None = None
    found: list[tuple[readers.RawSheet, headers.HeaderMatch]] = []
    for raw in readers.iter_sheets(con, path, workdir, sheet):
        try:
            found.append((raw, headers.detect(raw.head, raw.head_rows, str(path), raw.sheet, dataset)))
        except FileLevelError as exc:
            first_error = first_error or exc
    if len(found) > 1:
        names_zh = "、".join(f"「{s.sheet}」（{m.dataset.zh}）" for s, m in found)
        names_en = ", ".join(f"{s.sheet!r} ({m.dataset.name})" for s, m in found)
        raise FileLevelError(
            f"工作簿中有 {len(found)} 张工作表都可以导入：{names_zh}；请合并为一张，或指定要导入的工作表 "
            f"({len(found)} sheets could be imported: {names_en}; merge them into one sheet or name the "
            "sheet to import)",
            Location(str(path)),
            hint="jingzhun import --sheet NAME (one import per sheet); sheets of a full register extract "
            "must be merged, because each import of it replaces the previous one",
        )
    if found:
        return found[0]
    if first_error:
        raise first_error
    raise readers.file_error(path, "文件为空（没有数据行）", "the file is empty (no data rows)")


def _detect(sheet: readers.RawSheet, dataset: str | None) -> headers.HeaderMatch:
    return headers.detect(sheet.head, sheet.head_rows, str(sheet.file), sheet.sheet, dataset)


def _check(
    con: duckdb.DuckDBPyConnection,
    sheet: readers.RawSheet,
    match: headers.HeaderMatch,
    dataset: str | None,
) -> validate.Checked:
    """Validate a sheet. A CSV file is read while it is validated, so this is where it can turn out to
    be GB18030 after all, or to have rows wider than its first ones: then it is read again."""
    for _attempt in range(3):
        try:
            checked = validate.check(con, sheet, match)
        except duckdb.Error as exc:
            if not sheet.streamed:
                raise
            sheet = readers.csv_retry(con, sheet, exc)
            match = _detect(sheet, dataset)
            continue
        wider = validate.spare_used(con, checked)
        if wider is None:
            return checked
        sheet = readers.csv_widen(con, sheet, wider)
        match = _detect(sheet, dataset)
    raise readers.file_error(sheet.file, "CSV 文件无法解析", "the CSV file cannot be parsed")


def import_file(
    data_root: str | Path,
    path: str | Path,
    dataset: str | None = None,
    period: str | None = None,
    user: str | None = None,
    progress: ProgressFn | None = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    sheet: str | None = None,
) -> ImportResult:
    """Import one file. Raises :class:`FileLevelError` when the file as a whole is unusable (nothing is
    stored then); returns the counts otherwise, or ``already_imported`` for content seen before.

    A file with a header and no data rows is a valid, empty increment (a month without events).
    ``threads`` and ``memory_limit`` are handed to DuckDB (default: all cores, 80% of the memory).
    ``ImportResult.seconds`` has the seconds of each stage (hash, read, check, count, duplicates, write).
    ``sheet`` names the sheet of a workbook to import (a hidden one too); by default the one visible
    sheet whose header is recognised.
    """
    path = Path(path)
    report = progress or (lambda _f, _s, _x: None)
    if dataset is not None and dataset not in DATASETS:
        raise FileLevelError(
            f"未知数据集 {dataset!r} (unknown dataset; known: {', '.join(DATASETS)})", Location(str(path))
        )
    folder = DataFolder(data_root).ensure()
    period = _resolve_period(path, period)
    if not path.is_file():
        raise readers.file_error(path, "文件不存在", "file not found")
    report(path, "hash", 0.02)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    content_hash = file_hash(path)
    if sheet is not None:
        # one sheet named out of a workbook: that sheet of this content is what was imported
        content_hash = hashlib.sha256(f"{content_hash}\0sheet\0{sheet}".encode()).hexdigest()
    seconds["hash"] = time.perf_counter() - started
    store = ledger.store_for(folder.root)
    try:
        if dataset:
            existing = ledger.find_existing(store, content_hash, dataset, period)
            if existing:
                return _already(path, existing)
        with (
            work_folder(folder.root) as tmp,
            contextlib.closing(_connect(tmp, threads, memory_limit)) as con,
        ):
            report(path, "read", 0.05)
            started = time.perf_counter()
            raw, match = _pick_sheet(con, path, dataset, tmp, sheet)
            seconds["read"] = time.perf_counter() - started
            ds = match.dataset
            existing = ledger.find_existing(store, content_hash, ds.name, period)
            if existing:
                return _already(path, existing)
            report(path, "validate", 0.45)
            checked = _check(con, raw, match, dataset)
            raw, match = checked.sheet, checked.match
            ds = match.dataset
            seconds.update(checked.seconds)
            import_id = new_import_id()
            report(path, "write", 0.7)
            started = time.perf_counter()
            written = _write(con, folder, checked, import_id, period, path)
            seconds["write"] = time.perf_counter() - started
            result = ImportResult(
                file=str(path),
                status="imported",
                dataset=ds.name,
                period=period,
                import_id=import_id,
                sheet=raw.sheet,
                rows_in=checked.rows_in,
                rows_accepted=checked.rows_accepted,
                rows_quarantined=checked.rows_quarantined,
                warnings=checked.warnings,
                rules=checked.rule_counts,
                extra_columns=[match.labels[c] for c in match.extras],
                seconds={k: round(v, 3) for k, v in seconds.items()},
            )
            record = ImportRecord(
                id=import_id,
                file_name=path.name,
                content_hash=content_hash,
                dataset=ds.name,
                period=period,
                sheet=raw.sheet,
                rows_in=checked.rows_in,
                rows_accepted=checked.rows_accepted,
                rows_quarantined=checked.rows_quarantined,
                imported_by=user or default_user(),
                status=ledger.DONE,
                details={
                    "path": str(path.resolve()),
                    "header_rows": match.header_rows,
                    "columns": {name: match.labels[c] for name, c in match.columns.items()},
                    "extra_columns": result.extra_columns,
                    "warnings": checked.warnings,
                    "rules": checked.rule_counts,
                    "files": [str(p.relative_to(folder.root)) for p in written],
                },
            )
            try:
                ledger.record_import(store, record)
            except BaseException as exc:
                for p in written:
                    p.unlink(missing_ok=True)
                if isinstance(exc, IntegrityError):
                    existing = ledger.find_existing(store, content_hash, ds.name, period)
                    if existing:
                        return _already(path, existing)
                raise
            report(path, "done", 1.0)
            return result
    finally:
        store.dispose()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.sql(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _already(path: Path, record: ImportRecord) -> ImportResult:
    return ImportResult(
        file=str(path),
        status="already_imported",
        dataset=record.dataset,
        period=record.period,
        import_id=record.id,
        sheet=record.sheet,
        rows_in=record.rows_in,
        rows_accepted=record.rows_accepted,
        rows_quarantined=record.rows_quarantined,
    )




def _write(
    con: duckdb.DuckDBPyConnection,
    folder: DataFolder,
    checked: validate.Checked,
    import_id: str,
    period: str,
    path: Path,
) -> list[Path]:
    """Rename the accepted (and quarantine) parquet files into place; on any error remove them."""
    ds = checked.match.dataset
    written: list[Path] = []
    try:
        target = folder.period_dir(ds.name, period) / f"{import_id}.parquet"
        with atomic_file(target) as tmp:
            con.execute(
                f"COPY ({validate.accepted_sql(checked, import_id, period)}) TO {literal(tmp)} "
                "(FORMAT parquet, COMPRESSION zstd)"
            )
        written.append(target)
        if checked.rows_quarantined:
            target = folder.quarantine_file(import_id)
            with atomic_file(target) as tmp:
                con.execute(
                    f"COPY ({validate.quarantine_sql(checked, path.name)}) TO {literal(tmp)} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
            written.append(target)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return written


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named explicitly, and every importable file under the folders named (recursively; the synth
    generator's ``truth/``, ``manifest.json`` and ``regions.csv`` are skipped unless named explicitly)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p).parts
                if not f.is_file() or any(part in SKIP_DIRS or part.startswith(".") for part in rel[:-1]):
                    continue
                if (
                    f.name in SKIP_FILES
                    or f.name.startswith((".", "~$"))
                    or f.suffix.lower() not in FOLDER_EXTS
                ):
                    continue
                out.append(f)
        else:
            out.append(p)
    return out


def import_files(
    data_root: str | Path,
    paths: Iterable[str | Path],
    dataset: str | None = None,
    period: str | None = None,
    user: str | None = None,
    progress: ProgressFn | None = None,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    sheet: str | None = None,
) -> list[ImportResult]:
    """Import files and folders; a file that fails as a whole is reported with ``status='failed'`` and
    its error, and the others go on."""
    ledger.sweep_orphans(data_root)
    sweep_work_folders(data_root)
    results = []
    for path in expand_paths(paths):
        try:
            results.append(
                import_file(
                    data_root,
                    path,
                    dataset,
                    period,
                    user,
                    progress,
                    threads=threads,
                    memory_limit=memory_limit,
                    sheet=sheet,
                )
            )
        except JingzhunError as exc:
            results.append(
                ImportResult(file=str(path), status="failed", dataset=dataset, period=period, error=str(exc))
            )
            if progress:
                progress(path, "failed", 1.0)
    return results
