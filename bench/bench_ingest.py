"""Benchmark: import large medical_claim files (CSV, GB18030 CSV, xlsx) with full validation.

    .venv/bin/python bench/bench_ingest.py [--rows 1000000] [--xlsx-rows N] [--formats csv,gb18030,xlsx]
        [--threads N] [--memory-limit 4GB] [--json-out FILE] [--keep DIR]

Builds the files (values like real exports: mixed date formats, thousands separators, enum aliases,
15-digit and destroyed IDs, ~0.3% broken values, duplicates), then imports each in a child process (so
peak RSS and CPU seconds are the import's own) and prints rows/s, seconds per stage, CPU seconds and peak
RSS next to a baseline measured in the same run on the same file: reading it as text and writing it to
Parquet with no validation (DuckDB read_csv for CSV, the same GB18030 transcoding + read_csv for
GB18030, fastexcel for xlsx, whose parse alone is also printed). Targets on 2 cores: CSV ≥ 1 M rows/s,
xlsx ≥ 200 k rows/s. An xlsx sheet holds at most 1,048,576 rows, so xlsx is capped there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from jingzhun.ids import check_character

HEADER = [
    "结算单号",
    "姓名",
    "证件号码",
    "性别",
    "出生日期",
    "住址区划代码",
    "结算日期",
    "就诊类型",
    "参保类型",
    "疾病诊断",
    "医疗机构",
    "医疗总费用",
    "统筹报销金额",
    "个人自付金额",
]


def _ids(n: int = 997) -> list[str]:
    out = []
    for i in range(n):
        first17 = f"52010{i % 10}19{50 + i % 50:02d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        out.append(first17 + check_character(first17))
    return out


def _rows_sql(n: int) -> str:
    """SELECT producing the rows as text (vectorised in DuckDB)."""
    ids = "[" + ", ".join(f"'{x}'" for x in _ids()) + "]"
    return f"""
        SELECT
          'JS' || lpad(CAST(CASE WHEN i % 5000 = 7 THEN i - 1 ELSE i END AS VARCHAR), 9, '0') AS "结算单号",
          ['张伟', '王芳', '李娜', '刘洋', '陈静', '杨磊'][1 + i % 6] AS "姓名",
          CASE WHEN i % 1000 = 3 THEN '5.20122E+17' WHEN i % 500 = 1 THEN ''
               WHEN i % 300 = 2 THEN '520101500101001'
               ELSE {ids}[1 + i % 997] END AS "证件号码",
          CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END AS "性别",
          CASE i % 3 WHEN 0 THEN '1960-03-0' || (1 + i % 9) WHEN 1 THEN '1970/5/' || (1 + i % 28)
               ELSE '1980年7月' || (1 + i % 28) || '日' END AS "出生日期",
          '520102' || lpad(CAST(1 + i % 20 AS VARCHAR), 3, '0') || lpad(CAST(1 + i % 15 AS VARCHAR), 3, '0')
            AS "住址区划代码",
          CASE i % 4 WHEN 0 THEN '2025-01-' || lpad(CAST(1 + i % 28 AS VARCHAR), 2, '0')
               WHEN 1 THEN '2025/1/' || (1 + i % 28)
               WHEN 2 THEN '202501' || lpad(CAST(1 + i % 28 AS VARCHAR), 2, '0')
               ELSE CAST(45658 + i % 28 AS VARCHAR) END AS "结算日期",
          CASE WHEN i % 997 = 5 THEN '急诊'
               ELSE ['住院', '门诊', '慢特病门诊', '普通门诊'][1 + i % 4] END AS "就诊类型",
          ['城乡居民医保', '居民医保', '职工医保'][1 + i % 3] AS "参保类型",
          ['高血压', '糖尿病', '肺炎', '骨折'][1 + i % 4] AS "疾病诊断",
          ['县人民医院', '乡镇卫生院', '市第一人民医院'][1 + i % 3] AS "医疗机构",
          CASE WHEN i % 2 = 0 THEN format('{{:,}}', 1000 + i % 90000) || '.50'
               ELSE CAST(100 + i % 9000 AS VARCHAR)
               END AS "医疗总费用",
          CAST(50 + i % 5000 AS VARCHAR) AS "统筹报销金额",
          CASE WHEN i % 1500 = 9 THEN '-5' ELSE CAST(10 + i % 3000 AS VARCHAR) || '.25' END AS "个人自付金额"
        FROM range({n}) t(i)
    """


def make_csv(path: Path, n: int) -> None:
    con = duckdb.connect()
    con.execute(f"COPY ({_rows_sql(n)}) TO '{path}' (FORMAT csv, HEADER true)")


def _xml_escape_sql(col: str) -> str:
    return f"replace(replace(replace({col}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


def make_xlsx(path: Path, n: int) -> None:
    """A minimal valid xlsx (inline strings, every cell text) written with vectorised SQL; xlsxwriter would
    need minutes for a million rows."""
    con = duckdb.connect()
    letters = [chr(65 + i) for i in range(len(HEADER))]
    cells = " || ".join(
        f"'<c r=\"{letter}' || r || '\" t=\"inlineStr\"><is><t>' || {_xml_escape_sql(f'c{j}')} "
        "|| '</t></is></c>'"
        for j, letter in enumerate(letters)
    )
    cols = ", ".join(f'"{h}" AS c{j}' for j, h in enumerate(HEADER))
    head = "".join(
        f'<c r="{letter}1" t="inlineStr"><is><t>{h}</t></is></c>'
        for letter, h in zip(letters, HEADER, strict=True)
    )
    with tempfile.TemporaryDirectory() as tmp:
        rows = Path(tmp) / "rows.txt"
        con.execute(
            f"COPY (SELECT '<row r=\"' || r || '\">' || {cells} || '</row>' AS x FROM "
            f"(SELECT row_number() OVER () + 1 AS r, * FROM (SELECT {cols} FROM ({_rows_sql(n)})))) "
            f"TO '{rows}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')"
        )
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            z.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                'package/2006/content-types"><Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
                '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
                '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                'spreadsheetml.worksheet+xml"/></Types>',
            )
            z.writestr(
                "_rels/.rels",
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
                '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
                '"xl/workbook.xml"/></Relationships>',
            )
            z.writestr(
                "xl/workbook.xml",
                '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships"><sheets><sheet name="医保结算" sheetId="1" r:id="rId1"/></sheets></workbook>',
            )
            z.writestr(
                "xl/_rels/workbook.xml.rels",
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
                '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
                '"worksheets/sheet1.xml"/></Relationships>',
            )
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
                f.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
                    b'.org/spreadsheetml/2006/main"><sheetData><row r="1">' + head.encode() + b"</row>"
                )
                with rows.open("rb") as src:
                    while chunk := src.read(1 << 24):
                        f.write(chunk)
                f.write(b"</sheetData></worksheet>")


def make_gb18030(path: Path, csv_path: Path) -> None:
    """The CSV file re-encoded as GB18030 (what many department exports are)."""
    with csv_path.open("rb") as src, path.open("wb") as dst:
        while chunk := src.read(1 << 24):
            cut = chunk.rfind(b"\n") + 1 if len(chunk) == 1 << 24 else len(chunk)
            dst.write(chunk[:cut].decode("utf-8").encode("gb18030"))
            src.seek(cut - len(chunk), os.SEEK_CUR)


def _duckdb(threads: int | None, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {threads}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    return con


def _cpu() -> float:
    """CPU seconds of this process and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _child(kind: str, path: str, data: str, threads: int | None, memory_limit: str | None) -> None:
    """Runs in a child process: one timed operation, result as JSON on stdout."""
    from jingzhun.ingest.readers import _utf8_copy

    out: dict = {}
    if kind == "import":
        # modules loaded and the ledger created before the clock starts (DuckDB's first Arrow scan
        # imports pandas: a fixed cost of each process)
        import fastexcel
        import pandas  # noqa: F401

        from jingzhun.ingest import import_files, ledger

        ledger.store_for(Path(data)).dispose()
    start = time.perf_counter()
    before = _cpu()
    if kind == "import":
        (r,) = import_files(
            data, [path], period="2025-01", user="bench", threads=threads, memory_limit=memory_limit
        )
        out = {
            "seconds": time.perf_counter() - start,
            "cpu_seconds": _cpu() - before,
            "rows_in": r.rows_in,
            "accepted": r.rows_accepted,
            "quarantined": r.rows_quarantined,
            "status": r.status,
            "error": r.error,
            "warnings": r.warnings,
            "rules": r.rules,
            "stages": r.seconds,
        }
        # row numbers: row r of the file holds record JS<r-2> (a duplicate repeats the one above)
        files = list(Path(data).glob("datasets/medical_claim/*/*.parquet"))
        out["row_number_errors"] = duckdb.sql(
            f"SELECT count(*) FROM read_parquet({[str(f) for f in files]}) WHERE record_id NOT IN "
            "('JS' || lpad(CAST(_row - 2 AS VARCHAR), 9, '0'), 'JS' || lpad(CAST(_row - 3 AS VARCHAR), 9, '0'))"
        ).fetchall()[0][0]
    elif kind in ("baseline-csv", "baseline-gb18030"):
        source = path
        if kind == "baseline-gb18030":
            started = time.perf_counter()
            source = str(_utf8_copy(Path(path), "gb18030", Path(data), False))
            out["stages"] = {"transcode": time.perf_counter() - started}
        con = _duckdb(threads, memory_limit)
        con.execute(
            f"COPY (SELECT * FROM read_csv('{source}', all_varchar=true, header=false)) "
            f"TO '{data}/base.parquet' (FORMAT parquet, COMPRESSION zstd)"
        )
    else:
        import fastexcel
        import pyarrow as pa
        import pyarrow.parquet as pq

        batch = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string").to_arrow()
        out["stages"] = {"calamine parse": time.perf_counter() - start}
        pq.write_table(pa.Table.from_batches([batch]), f"{data}/base.parquet", compression="zstd")
    out.setdefault("seconds", time.perf_counter() - start)
    # CPU seconds of the timed work only (not of loading the modules), transcoding processes included
    out.setdefault("cpu_seconds", _cpu() - before)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(kind: str, path: Path, data: Path, args: argparse.Namespace) -> dict:
    shutil.rmtree(data, ignore_errors=True)  # a fresh data folder: never "already imported"
    data.mkdir(parents=True)
    command = [sys.executable, __file__, "--child", kind, str(path), str(data)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.memory_limit:
        command += ["--memory-limit", args.memory_limit]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    result: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(data, ignore_errors=True)
    return result


XLSX_MAX = 1_048_575  # data rows of one sheet (1,048,576 rows with the header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", "--persons", type=int, default=1_000_000, help="rows of each file")
    parser.add_argument("--xlsx-rows", type=int, default=None, help=f"rows of the xlsx file (≤ {XLSX_MAX:,})")
    parser.add_argument("--formats", default="csv,gb18030,xlsx", help="comma-separated: csv, gb18030, xlsx")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 4GB")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the figures here as JSON")
    parser.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the files in this folder")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child, args.threads, args.memory_limit)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="jz-bench-ingest-"))
    folder.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    report: dict = {
        "machine": {
            "cores": cores,
            "cpu": platform.processor() or platform.machine(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "load_average_start": os.getloadavg(),
        },
        "settings": {"rows": args.rows, "threads": args.threads, "memory_limit": args.memory_limit},
        "runs": {},
    }
    print(f"cores available: {cores}, load average {os.getloadavg()[0]:.1f}; files in {folder}")
    targets = {"csv": 1_000_000, "gb18030": 1_000_000, "xlsx": 200_000}
    csv_path = folder / f"medical_claim_{args.rows}.csv"
    for kind in [k.strip() for k in args.formats.split(",") if k.strip()]:
        n = min(args.xlsx_rows or args.rows, XLSX_MAX) if kind == "xlsx" else args.rows
        path = {
            "csv": csv_path,
            "gb18030": folder / f"medical_claim_{n}_gb18030.csv",
            "xlsx": folder / f"medical_claim_{n}.xlsx",
        }[kind]
        started = time.perf_counter()
        if not path.exists():
            if kind == "xlsx":
                make_xlsx(path, n)
            else:
                if not csv_path.exists():
                    make_csv(csv_path, n)
                if kind == "gb18030":
                    make_gb18030(path, csv_path)
        made = time.perf_counter() - started
        size = path.stat().st_size / 1e6
        load = os.getloadavg()[0]
        base = _run(f"baseline-{kind}", path, folder / f"base-{kind}", args)
        result = _run("import", path, folder / f"data-{kind}", args)
        if result["status"] != "imported":
            raise SystemExit(f"import did not run: {result}")
        if result["row_number_errors"]:
            raise SystemExit(f"{result['row_number_errors']} accepted rows carry a wrong row number")
        rate = n / result["seconds"]
        ratio = result["seconds"] / base["seconds"]
        print(f"\n{kind}: {n:,} rows, {size:,.1f} MB (built in {made:.1f} s), load average {load:.1f}")
        print(
            f"  import with full validation: {result['seconds']:.2f} s = {rate:,.0f} rows/s, "
            f"{result['cpu_seconds']:.1f} CPU s, peak RSS {result['peak_rss_mb']:,.0f} MB"
        )
        print("    stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result["stages"].items()))
        print(
            f"    accepted {result['accepted']:,}, quarantined {result['quarantined']:,}, "
            f"rules {result['rules']}, ID warnings {result['warnings']}"
        )
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in base.get("stages", {}).items())
        print(
            f"  baseline (read as text + write Parquet, no validation): {base['seconds']:.2f} s = "
            f"{n / base['seconds']:,.0f} rows/s, {base['cpu_seconds']:.1f} CPU s, "
            f"peak RSS {base['peak_rss_mb']:,.0f} MB" + (f" ({stages})" if stages else "")
        )
        print(f"  ratio import / baseline: {ratio:.2f}x")
        target = targets[kind]
        print(f"  target {target:,} rows/s: {'met' if rate >= target else 'NOT met'}")
        report["runs"][kind] = {
            "rows": n,
            "file_mb": round(size, 1),
            "load_average": load,
            "import": result,
            "rows_per_s": round(rate),
            "baseline": base,
            "baseline_rows_per_s": round(n / base["seconds"]),
            "ratio_to_baseline": round(ratio, 2),
            "target_rows_per_s": target,
            "target_met": rate >= target,
        }
    report["machine"]["load_average_end"] = os.getloadavg()
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print(f"\nfigures written to {args.json_out}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
