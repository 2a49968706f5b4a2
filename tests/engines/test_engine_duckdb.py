"""The DuckDB engine and golden SQL: policy expressions compiled to sqlglot trees, written in the DuckDB and
Spark dialects, so that the Spark port only has to run the same trees."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlglot import exp

from jingzhun.engines.base import QueryError
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.policy import compile_set, evaluate, load_text
from jingzhun.policy.relations import rows_to_table

RULES = """
params:
  line: {default: 6000, provinces: {"52": 7200}}
rules:
  - id: trigger.oop
    kind: trigger
    entity: household
    let: {value: "sum(medical_claim.out_of_pocket where medical_claim.visit_type == '住院', last 12 months)"}
    when: value >= 5000
  - id: monitor.low
    kind: monitor
    entity: household
    when: household.per_capita_income <= param.line and not rule.trigger.oop
  - id: tag.kids
    kind: tag
    entity: household
    when: any(member where member.age between 6 and 15)
"""

# (duckdb, spark) fragments of the plan (the shared aggregate tables, the stage computing the rule, the
# record-id lists aggregated for fired rows only) or of the flags query: golden pairs, in the spirit of
# sqlglot's validate_all.
GOLDEN = {
    "trigger.oop": [
        (
            "SUM(s2.out_of_pocket) FILTER(WHERE s2.claim_date >= CAST('2024-07-01' AS DATE) AND "
            "(s2.visit_type = '住院')) AS c0",
            "SUM(s2.out_of_pocket) FILTER(WHERE s2.claim_date >= CAST('2024-07-01' AS DATE) AND "
            "(s2.visit_type = '住院')) AS c0",
        ),
        (
            "LIST_SORT(ARRAY_AGG(s9.record_id) FILTER(WHERE s9.claim_date >=",
            "ARRAY_SORT(COLLECT_LIST(s9.record_id) FILTER(WHERE s9.claim_date >=",
        ),
        (
            "s9.household_id IN (SELECT entity_id FROM jz_s0_household WHERE f0)",
            "s9.household_id IN (SELECT entity_id FROM jz_s0_household WHERE f0)",
        ),
    ],
    "monitor.low": [
        (
            "CASE WHEN h.province_code = '52' THEN 7200 ELSE 6000 END",
            "CASE WHEN h.province_code = '52' THEN 7200 ELSE 6000 END",
        ),
        (
            "LEFT JOIN jz_s0_household AS r7 ON r7.entity_id = h.household_id",
            "LEFT JOIN jz_s0_household AS r7 ON r7.entity_id = h.household_id",
        ),
        (
            "NOT COALESCE(r7.f0, FALSE)",
            "NOT COALESCE(r7.f0, FALSE)",
        ),
    ],
    "tag.kids": [
        (
            "COUNT(*) FILTER(WHERE (s5.age BETWEEN 6 AND 15)) AS c0",
            "COUNT(*) FILTER(WHERE (s5.age BETWEEN 6 AND 15)) AS c0",
        ),
        (
            "FROM (SELECT m.person_id, m.household_id, 2025 - YEAR(m.birth_date)",
            "FROM (SELECT m.person_id, m.household_id, 2025 - YEAR(m.birth_date)",
        ),
    ],
}


def validate_all(trees: list[exp.Expression], write: dict[str, str]) -> None:
    for dialect, expected in write.items():
        sql = "\n".join(t.sql(dialect=dialect) for t in trees)
        assert expected in sql, f"{dialect}:\n{sql}\n--- expected to contain:\n{expected}"


@pytest.mark.parametrize("rule_id", sorted(GOLDEN))
def test_golden_sql(rule_id: str) -> None:
    plan = compile_set(load_text(RULES), "2025-06")
    for duck, spark in GOLDEN[rule_id]:
        validate_all([t for _, t in plan.steps] + [plan.flags], {"duckdb": duck, "spark": spark})


def test_compiled_rules_run_on_duckdb() -> None:
    eng = DuckDBEngine()
    eng.register_table(
        "household",
        rows_to_table(
            "household",
            [
                {"household_id": "H1", "village_code": "520102001001", "household_type": "脱贫户"},
                {"household_id": "H2", "village_code": "440102001001", "household_type": "脱贫户"},
            ],
        ),
    )
    eng.register_table(
        "member",
        rows_to_table(
            "member",
            [
                {"person_id": "P1", "household_id": "H1", "birth_date": "2012-01-01"},
                {"person_id": "P2", "household_id": "H2", "birth_date": "1970-01-01"},
            ],
        ),
    )
    eng.register_table(
        "income",
        rows_to_table(
            "income",
            [
                {"household_id": "H1", "year": 2024, "wage_income": 7000},
                {"household_id": "H2", "year": 2024, "wage_income": 7000},
            ],
        ),
    )
    flags = evaluate(eng, load_text(RULES), "2025-06").to_pylist()
    assert [(f["rule_id"], f["entity_id"]) for f in flags] == [("monitor.low", "H1"), ("tag.kids", "H1")]


def test_execute_wraps_backend_errors_with_the_sql() -> None:
    eng = DuckDBEngine()
    eng.register_table("t", pa.table({"x": [1]}))
    with pytest.raises(QueryError) as info:
        eng.fetch_arrow(exp.select("y").from_("t"))
    assert info.value.sql == "SELECT y FROM t"
    assert "failing SQL" in str(info.value)


def test_register_parquet_and_drop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "a.parquet")
    eng = DuckDBEngine()
    eng.register_table("a", [tmp_path / "a.parquet"])
    assert eng.has_table("a")
    assert eng.fetch_arrow(exp.select("COUNT(*) AS n").from_("a")).to_pylist() == [{"n": 2}]
    eng.drop("a")
    assert not eng.has_table("a")


def test_a_column_named_like_a_partition_folder_keeps_the_files_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Imports live in ``datasets/<dataset>/period=YYYY-MM/``; the 人社 feed has its own column ``period``
    (所属期). A record of January delivered in May must keep its month, not take the folder's."""
    import pyarrow.parquet as pq

    folder = tmp_path / "employment" / "period=2025-05"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"record_id": ["R1", "R2"], "period": ["2025-01", "2025-05"]}), folder / "i.parquet")
    engine = DuckDBEngine()
    engine.register_table("employment", [folder / "i.parquet"])
    rows = engine.fetch_arrow(exp.select("record_id", "period").from_("employment").order_by("record_id"))
    assert rows.to_pylist() == [{"record_id": "R1", "period": "2025-01"}, {"record_id": "R2", "period": "2025-05"}]
