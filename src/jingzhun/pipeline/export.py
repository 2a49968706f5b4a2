"""Exports of a run's results as xlsx (Chinese headers), csv or parquet.

Each export is joined to the registry of the run's period so a clerk sees names and places, not only
identifiers. ID numbers are masked unless ``unmask`` is asked for; an unmasked export is recorded in the
audit log (who, when, which run and table, how many rows).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import xlsxwriter

from jingzhun.errors import JingzhunError
from jingzhun.ids.sql import install_macros
from jingzhun.ops.db import OpsStore, open_store
from jingzhun.pipeline.run import get_run
from jingzhun.pipeline.snapshot import take_snapshot
from jingzhun.sqltext import literal
from jingzhun.store import DataFolder, atomic_file

WHAT = ("alerts", "flags", "tags", "conflicts", "links")
FORMATS = ("xlsx", "csv", "parquet")

STATUS_ZH = "CASE status WHEN 'new' THEN '新增' WHEN 'persisting' THEN '持续' WHEN 'cleared' THEN '已解除' END"

# (SQL over the result table `r`, the registry `household`/`member` and `region`), one per export.
_QUERIES: dict[str, str] = {
    "alerts": f"""
        SELECT r.household_id AS "户编号", r.village_code AS "行政村代码", v.name AS "行政村",
               head.name AS "户主姓名", {{id}}(head.id_number) AS "户主证件号码",
               r.rule_id AS "规则", {STATUS_ZH} AS "状态", r.first_period AS "首次预警期",
               r.period AS "期别", r.explain_zh AS "说明", r.evidence AS "依据"
        FROM r
        LEFT JOIN member head ON head.household_id = r.household_id AND head.relation = '户主'
        LEFT JOIN region v ON v.code = r.village_code
        ORDER BY r.village_code, r.household_id, r.rule_id
    """,
    "flags": """
        SELECT r.rule_id AS "规则", r.kind AS "类别", r.entity AS "对象层级", r.entity_id AS "对象编号",
               r.household_id AS "户编号", r.village_code AS "行政村代码", v.name AS "行政村",
               coalesce(m.name, head.name) AS "姓名（户主）", {id}(coalesce(m.id_number, head.id_number)) AS "证件号码",
               r.explain_zh AS "说明", r.evidence AS "依据"
        FROM r
        LEFT JOIN member m ON r.entity = 'person' AND m.person_id = r.entity_id
        LEFT JOIN member head ON r.entity = 'household' AND head.household_id = r.household_id
                              AND head.relation = '户主'
        LEFT JOIN region v ON v.code = r.village_code
        ORDER BY r.rule_id, r.entity_id
    """,
    "conflicts": """
        SELECT r.conflict_type AS "冲突类型", r.household_id AS "户编号", r.person_id AS "人编号",
               m.name AS "姓名", {id}(m.id_number) AS "证件号码",
               r.source_a AS "来源甲", r.value_a AS "甲方数据", r.source_b AS "来源乙", r.value_b AS "乙方数据",
               r.detail_zh AS "说明"
        FROM r LEFT JOIN member m ON m.person_id = r.person_id
        ORDER BY r.conflict_type, r.household_id, r.person_id
    """,
    "links": """
        SELECT r.feed AS "数据来源", r.record_id AS "记录编号", r.person_id AS "人编号",
               r.household_id AS "户编号", m.name AS "姓名", {id}(m.id_number) AS "证件号码",
               r.method AS "比对方式", round(r.score, 4) AS "匹配概率", r.band AS "比对结果"
        FROM r LEFT JOIN member m ON m.person_id = r.person_id
        ORDER BY r.feed, r.record_id
    """,
}
_QUERIES["tags"] = _QUERIES["flags"].replace("FROM r\n", "FROM (SELECT * FROM r0 WHERE kind = 'tag') r\n", 1)




def _mask_macro(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE MACRO jz_mask_id(s) AS CASE WHEN s IS NULL THEN NULL "
                "WHEN length(s) > 8 THEN left(s, 4) || repeat('*', length(s) - 8) || right(s, 4) "
                "ELSE repeat('*', length(s)) END")
    con.execute("CREATE OR REPLACE MACRO jz_plain_id(s) AS s")


def export_table(data_root: str | Path, run_id: str, what: str, *, unmask: bool = False,
                 store: OpsStore | None = None) -> pa.Table:
    """The rows of one export (Chinese column names), masked unless ``unmask``."""
    if what not in WHAT:
        raise JingzhunError(f"cannot export {what!r}; choose one of: {', '.join(WHAT)}")
    data = DataFolder(data_root)
    store = store or open_store(data.ops_url)
    run = get_run(store, run_id)
    if run.status != "done":
        raise JingzhunError(f"run {run_id} is {run.status}; only finished runs can be exported")
    source = "flags" if what == "tags" else what
    path = data.run_dir(run_id) / f"{source}.parquet"
    con = duckdb.connect()
    install_macros(con)
    _mask_macro(con)
    con.execute(f"CREATE VIEW {'r0' if what == 'tags' else 'r'} AS SELECT * FROM read_parquet({literal(path)})")
    snapshot = take_snapshot(data, store, run.period)
    for name in ("member",):
        files = [str(p) for p in snapshot.files(name)]
        if files:
            listed = ", ".join(literal(f) for f in files)
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}], union_by_name = true, hive_partitioning = false)")
        else:
            con.execute("CREATE TABLE member (person_id VARCHAR, household_id VARCHAR, name VARCHAR, "
                        "id_number VARCHAR, relation VARCHAR)")
    if snapshot.region_file:
        con.execute(f"CREATE VIEW region AS SELECT * FROM read_parquet({literal(snapshot.region_file)})")
    else:
        con.execute("CREATE TABLE region (code VARCHAR, name VARCHAR)")
    sql = _QUERIES[what].format(id="jz_plain_id" if unmask else "jz_mask_id")
    return con.sql(sql).to_arrow_table()


def _write_xlsx(table: pa.Table, path: Path, sheet: str) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    book.set_properties({"title": sheet, "author": "Jingzhun"})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws = book.add_worksheet(sheet[:31])
    ws.write_row(0, 0, table.column_names, header)
    row = 1
    for batch in table.to_batches(max_chunksize=10000):
        for values in zip(*(c.to_pylist() for c in batch.columns), strict=True):
            if row > 1_048_575:
                raise JingzhunError("more rows than one xlsx sheet holds; export as csv or parquet")
            ws.write_row(row, 0, ["" if v is None else v for v in values])
            row += 1
    ws.freeze_panes(1, 0)
    book.close()


def export_run(data_root: str | Path, run_id: str, what: str, fmt: str, out: str | Path, *,
               unmask: bool = False, user: str | None = None, store: OpsStore | None = None) -> int:
    """Write one export to ``out``; returns the row count. An unmasked export is audited."""
    if fmt not in FORMATS:
        raise JingzhunError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    data = DataFolder(data_root)
    store = store or open_store(data.ops_url)
    table = export_table(data_root, run_id, what, unmask=unmask, store=store)
    out = Path(out)
    with atomic_file(out) as tmp:
        if fmt == "parquet":
            pq.write_table(table, tmp)
        elif fmt == "csv":
            with open(tmp, "wb") as handle:
                handle.write("\ufeff".encode())  # Excel opens UTF-8 CSV with a BOM correctly
                pacsv.write_csv(table, handle)
        else:
            _write_xlsx(table, tmp, {"alerts": "预警名单", "flags": "规则结果", "tags": "政策标签",
                                     "conflicts": "数据冲突", "links": "比对结果"}[what])
    _audit_export(store, user or getpass.getuser(), run_id, what, fmt, table.num_rows, unmask, out)
    return table.num_rows


def _audit_export(store: OpsStore, user: str, run_id: str, what: str, fmt: str, rows: int, unmask: bool,
                  out: Path) -> None:
    from jingzhun.audit.log import Actor, record

    details: dict[str, Any] = {"run_id": run_id, "what": what, "format": fmt, "rows": rows,
                               "unmasked": unmask, "file": out.name}
    with store.session() as session:
        record(session, Actor(user, "cli"), "export_unmasked" if unmask else "export", "run_result",
               f"{run_id}/{what}", details=details)
