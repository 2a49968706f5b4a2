"""Benchmark: import a large CSV and a large xlsx file (medical_claim) with full validation.

    .venv/bin/python bench/bench_ingest.py [--rows 1000000] [--xlsx-rows 1000000] [--keep DIR]

Builds the files in a temporary folder (values like real exports: mixed date formats, thousands
separators, 15-digit IDs, ~0.3% broken values, a few duplicates), then imports each in a child process
(so peak RSS is the import's own) and prints rows/s and peak RSS, next to a baseline measured in the same
run: reading the same file as text and writing it to Parquet with no validation (DuckDB read_csv for
CSV, fastexcel for xlsx). Targets on 2 cores: CSV ≥ 1 M rows/s, xlsx ≥ 200 k rows/s.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _child(kind: str, path: str, data: str) -> None:
    """Runs in a child process: one timed operation, result as JSON on stdout."""
    start = time.perf_counter()
    if kind == "import":
        from jingzhun.ingest import import_files

        (r,) = import_files(data, [path], period="2025-01", user="bench")
        out = {
            "rows_in": r.rows_in,
            "accepted": r.rows_accepted,
            "quarantined": r.rows_quarantined,
            "status": r.status,
            "error": r.error,
            "warnings": r.warnings,
        }
    elif kind == "baseline-csv":
        con = duckdb.connect()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{path}', all_varchar=true)) TO '{data}/base.parquet' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        out = {}
    else:
        import fastexcel
        import pyarrow.parquet as pq

        batch = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string").to_arrow()
        import pyarrow as pa

        pq.write_table(pa.Table.from_batches([batch]), f"{data}/base.parquet", compression="zstd")
        out = {}
    out["seconds"] = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(kind: str, path: Path, data: Path) -> dict:
    shutil.rmtree(data, ignore_errors=True)  # a fresh data folder: never "already imported"
    data.mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(data)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="jz-bench-ingest-"))
    folder.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"cores available: {len(os.sched_getaffinity(0))}, load average {load:.1f}; files in {folder}")
    for kind, n in (("csv", args.rows), ("xlsx", args.xlsx_rows)):
        if n <= 0:
            continue
        path = folder / f"medical_claim_{n}.{kind}"
        t = time.perf_counter()
        if not path.exists():
            (make_csv if kind == "csv" else make_xlsx)(path, n)
        made = time.perf_counter() - t
        size = path.stat().st_size / 1e6
        base = _run(f"baseline-{kind}", path, folder / f"base-{kind}")
        result = _run("import", path, folder / f"data-{kind}")
        if result["status"] != "imported":
            raise SystemExit(f"import did not run: {result}")
        rate = n / result["seconds"]
        print(f"\n{kind}: {n:,} rows, {size:,.1f} MB (built in {made:.1f} s)")
        print(
            f"  import with full validation: {result['seconds']:.2f} s = {rate:,.0f} rows/s, "
            f"{result['cpu_seconds']:.1f} CPU s (process total), peak RSS {result['peak_rss_mb']:,.0f} MB"
        )
        print(
            f"    accepted {result['accepted']:,}, quarantined {result['quarantined']:,}, "
            f"ID warnings {result['warnings']}"
        )
        print(
            f"  baseline (read as text + write Parquet, no validation): {base['seconds']:.2f} s = "
            f"{n / base['seconds']:,.0f} rows/s, peak RSS {base['peak_rss_mb']:,.0f} MB"
        )
        print(f"  ratio import / baseline: {result['seconds'] / base['seconds']:.2f}x")
        target = 1_000_000 if kind == "csv" else 200_000
        print(f"  target {target:,} rows/s: {'met' if rate >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
