"""A CSV file is validated while DuckDB reads it in parallel, and a row's number is its position: the check
must keep the file order (no join in it), or row numbers, reasons and duplicates would be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from tests.ingest.helpers import write_csv

from jingzhun.catalog import DATASETS
from jingzhun.ingest import api, current_files, import_file, read_quarantine, readers, validate


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("fast", [True, False])
def test_the_check_of_a_csv_file_has_no_join(tmp_path: Path, dataset: str, fast: bool) -> None:
    header = [f.zh for f in DATASETS[dataset].fields] + ["备注"]
    path = write_csv(tmp_path / "f.csv", [header, ["x"] * len(header)])
    con = api._connect(tmp_path)
    sheet, match = api._pick_sheet(con, path, dataset, tmp_path)
    assert sheet.streamed and len(match.columns) == len(DATASETS[dataset].fields)
    plan = "\n".join(
        str(r[-1]) for r in con.sql("EXPLAIN " + validate.check_sql(sheet, match, fast=fast)).fetchall()
    )
    assert "JOIN" not in plan.upper()


def test_row_numbers_of_a_file_read_by_many_threads(
    tmp_path: Path, data: Path, parquet_rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """100,000 rows read in 512 KiB pieces by several threads: every accepted row keeps its own number, and
    rejected rows and duplicates name the right rows."""
    monkeypatch.setattr(readers, "CSV_BUFFER_SIZE", 1 << 19)
    path = tmp_path / "claims.csv"
    header = ["结算单号", "姓名", "证件号码", "结算日期", "就诊类型", "医疗总费用", "个人自付金额"]
    write_csv(path, [header])
    con = duckdb.connect()
    con.execute("SET threads = 4")
    # row r (line r of the file) holds record R<r>; every 997th row has a bad date, every 1000th repeats
    # the record of the row above
    con.execute(
        f"COPY (SELECT CASE WHEN r % 1000 = 0 THEN 'R' || (r - 1) ELSE 'R' || r END, '甲', '11010519491231002X', "
        f"CASE WHEN r % 997 = 0 THEN 'bad' ELSE '2025-01-05' END, '住院', '1,000.50', '1' "
        f"FROM range(2, 100002) t(r)) TO '{tmp_path}/body.csv' (FORMAT csv, HEADER false)"
    )
    with path.open("ab") as out:
        out.write((tmp_path / "body.csv").read_bytes())
    r = import_file(data, path, period="2025-01")
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    assert r.rows_in == 100_000 and len(got) == r.rows_accepted
    assert all(g["record_id"] == f"R{g['_row']}" for g in got)
    bad = {x["_row"]: json.loads(x["_reasons"])[0] for x in read_quarantine(data, r.import_id)}
    assert {row for row, reason in bad.items() if reason["rule"] == "date"} == {
        row for row in range(2, 100002) if row % 997 == 0
    }
    duplicates = {row: reason["first_row"] for row, reason in bad.items() if reason["rule"] == "duplicate"}
    assert duplicates == {row: row - 1 for row in range(2, 100002) if row % 1000 == 0 and (row - 1) % 997}


@pytest.mark.parametrize("parallel", [False, True])
def test_blank_lines_keep_row_numbers_across_transcoded_chunks(
    tmp_path: Path, data: Path, parquet_rows, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """A GB18030 file with blank lines is transcoded in pieces (here 64 bytes, and in several processes):
    a row's number is still its line in the file."""
    monkeypatch.setattr(readers, "TRANSCODE_CHUNK", 64)
    monkeypatch.setattr(readers, "PARALLEL_TRANSCODE_BYTES", 700 if parallel else 10**12)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    lines = ["结算单号,姓名,结算日期,就诊类型,医疗总费用,个人自付金额"]
    for n in range(2, 400):
        lines.append("" if n % 7 == 0 else " \t" if n % 11 == 0 else f"R{n},张三,2025-01-05,住院,1,1")
    path = tmp_path / "gbk.csv"
    path.write_bytes("\n".join(lines).encode("gb18030") + b"\n")
    r = import_file(data, path, period="2025-01")
    got = parquet_rows(current_files(data, "medical_claim", "2025-01")[0])
    expected = [n for n in range(2, 400) if n % 7 and n % 11]
    assert [g["_row"] for g in got] == expected and [g["record_id"] for g in got] == [
        f"R{n}" for n in expected
    ]
    # a line of only spaces and tabs is blank too: skipped, not counted
    assert (r.rows_in, r.rows_quarantined) == (len(expected), 0)
