"""The monthly run's engine-neutral SQL on Spark: snapshot loading (de-duplication across imports),
attaching links to a feed, and the alerts diff against the previous month, identical to DuckDB."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.engines.spark import SparkEngine
from jingzhun.pipeline.diff import alerts_sql
from jingzhun.pipeline.loading import register_dataset
from jingzhun.pipeline.run import attach_links
from jingzhun.policy import FLAG_SCHEMA
from jingzhun.policy.relations import rows_to_table

pytestmark = pytest.mark.spark


def _import(tmp: Path, import_id: str, rows: list[dict[str, Any]]) -> SimpleNamespace:
    table = rows_to_table("medical_claim", rows).drop_columns(
        ["person_id", "household_id", "_arrived", "_import_id"])
    table = table.append_column("_import_id", pa.array([import_id] * len(rows)))
    table = table.append_column("_row", pa.array(range(2, len(rows) + 2), pa.int64()))
    table = table.append_column("_period", pa.array(["2025-06"] * len(rows)))
    path = tmp / f"{import_id}.parquet"
    pq.write_table(table, path)
    return SimpleNamespace(path=path, import_id=import_id, period="2025-06")


def _flags(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "rule_id": r,
                "kind": "trigger",
                "entity": "household",
                "entity_id": h,
                "household_id": h,
                "village_code": "520102001001",
                "evidence": f'{{"v":{i}}}',
                "explain_zh": f"说明{i}",
                "explain_en": f"why {i}",
            }
            for i, (r, h, _) in enumerate(rows)
        ],
        schema=FLAG_SCHEMA,
    )


def test_loading_links_and_alerts_match_duckdb(spark: Any, tmp_path: Path) -> None:
    first = _import(
        tmp_path,
        "imp1",
        [
            {"record_id": "C1", "claim_date": "2025-06-01", "out_of_pocket": 100},
            {"record_id": "C2", "claim_date": "2025-06-02", "out_of_pocket": 200},
        ],
    )
    second = _import(
        tmp_path,
        "imp2",
        [  # a later import corrects C2 and adds C3
            {"record_id": "C2", "claim_date": "2025-06-02", "out_of_pocket": 250.5},
            {"record_id": "C3", "claim_date": "2025-06-03", "out_of_pocket": None},
        ],
    )
    snapshot = SimpleNamespace(inputs={"medical_claim": [first, second]})
    links = pa.table(
        {
            "record_id": ["C1", "C2"],
            "person_id": ["P1", "P2"],
            "household_id": ["H1", "H2"],
            "band": ["accepted", "review"],
        }
    )
    previous = pa.table(
        {
            "household_id": ["H1", "H9"],
            "village_code": ["520102001001"] * 2,
            "rule_id": ["trigger.a"] * 2,
            "kind": ["trigger"] * 2,
            "status": ["new", "new"],
            "first_period": ["2025-05"] * 2,
            "period": ["2025-05"] * 2,
            "evidence": ["{}"] * 2,
            "explain_zh": ["旧"] * 2,
            "explain_en": ["old"] * 2,
        }
    )
    flags = _flags([("trigger.a", "H1", ""), ("trigger.a", "H2", ""), ("trigger.b", "H2", "")])
    out = {}
    for name, eng in (("duckdb", DuckDBEngine()), ("spark", SparkEngine(spark))):
        n = register_dataset(eng, snapshot, "medical_claim", "__jz_feed_medical_claim")  # type: ignore[arg-type]
        attach_links(eng, "medical_claim", links)
        feed = eng.fetch_arrow(
            sqlglot.parse_one(
                "SELECT record_id, out_of_pocket, person_id, _import_id FROM medical_claim ORDER BY record_id"
            )
        )
        eng.register_table("jz_flags", flags)
        eng.register_table("jz_prev", previous)
        diff = sqlglot.parse_one(alerts_sql("jz_flags", "jz_prev", "2025-06"), read="duckdb")
        alerts = eng.fetch_arrow(diff)
        out[name] = (n, feed.to_pylist(), alerts.to_pylist())
        eng.close()
    n, feed, alerts = out["duckdb"]
    assert n == 3 and [r["_import_id"] for r in feed] == ["imp1", "imp2", "imp2"]
    assert [r["person_id"] for r in feed] == ["P1", None, None]  # C2 is only in review
    assert [(a["household_id"], a["rule_id"], a["status"]) for a in alerts] == [
        ("H1", "trigger.a", "persisting"),
        ("H2", "trigger.a", "new"),
        ("H2", "trigger.b", "new"),
        ("H9", "trigger.a", "cleared"),
    ]
    assert out["spark"] == out["duckdb"]
