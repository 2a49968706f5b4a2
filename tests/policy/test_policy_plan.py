"""The shape of a compiled plan: rules fused by stage and entity, aggregations shared across rules,
the context read with only the columns used, record ids listed for fired rows only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlglot import exp

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.policy import compile_set, evaluate, explain_household, load, load_text
from jingzhun.policy.relations import rows_to_table

ROOT = Path(__file__).resolve().parents[2]
PS = load(ROOT / "policies")


def _stage_names(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [name for name, _ in plan.steps if name.startswith("jz_s")]


def test_one_select_per_stage_and_entity() -> None:
    plan = compile_set(PS, "2025-06")
    by_stage = Counter((lr.stage, lr.checked.rule.entity) for lr in plan.rules.values())
    assert sorted(_stage_names(plan)) == sorted(f"jz_s{s}_{e}" for s, e in by_stage)
    # 39 rules, but only a handful of passes over households and members
    assert len(plan.rules) == 39 and len(by_stage) <= 5
    assert by_stage[(0, "person")] >= 10 and by_stage[(0, "household")] >= 10
    # rules that use other rules come in later stages
    assert plan.rules["exit.risk_eliminable"].stage > plan.rules["exit.housing_secured"].stage > 0
    assert plan.rules["monitor.sudden_hardship"].stage == 1


def test_aggregates_are_shared_between_rules_and_stored_once() -> None:
    plan = compile_set(PS, "2025-06")
    steps = dict(plan.steps)
    shared = [name for name in steps if name.startswith("jz_agg_")]
    assert len(shared) == len(set(shared))
    claims = steps["jz_agg_medical_claim_household_id"].sql("duckdb")
    # medical_oop_registered and medical_oop_others aggregate the same inpatient costs: one column
    assert claims.count("visit_type = '住院'") == 1
    # ... read by one stage SELECT, which joins that table once
    stage = steps["jz_s0_household"].sql("duckdb")
    assert stage.count("JOIN jz_agg_medical_claim_household_id") == 1


def test_context_is_read_with_only_the_columns_used() -> None:
    ps = load_text(
        """
rules:
  - id: tag.kids
    kind: tag
    entity: household
    when: any(member where member.age between 6 and 15)
"""
    )
    plan = compile_set(ps, "2025-06")
    sql = "\n".join(t.sql("duckdb") for _, t in plan.steps)
    assert "jz_ctx_member" not in sql and "jz_ctx_household" not in sql
    # no rule needs the household's size or income, so that table is neither built nor joined
    assert "jz_ctx_household_derived" not in dict(plan.steps)
    members = next(s for s in dict(plan.steps)["jz_agg_member_household_id"].find_all(exp.Subquery))
    assert [c.alias_or_name for c in members.this.expressions] == ["person_id", "household_id", "age"]


def _shared_records_engine() -> DuckDBEngine:
    eng = DuckDBEngine()
    eng.register_table(
        "household",
        rows_to_table("household", [{"household_id": "H1", "village_code": "520102001001"}]),
    )
    eng.register_table("member", rows_to_table("member", [{"person_id": "P1", "household_id": "H1"}]))
    eng.register_table(
        "medical_claim",
        rows_to_table(
            "medical_claim",
            [
                {
                    "record_id": "C1",
                    "person_id": "P1",
                    "household_id": "H1",
                    "claim_date": "2025-05-01",
                    "visit_type": "住院",
                    "out_of_pocket": 800,
                },
                {
                    "record_id": "C2",
                    "person_id": "P1",
                    "household_id": "H1",
                    "claim_date": "2025-06-01",
                    "visit_type": "门诊",
                    "out_of_pocket": 100,
                },
            ],
        ),
    )
    return eng


SHARED = """
rules:
  - id: tag.some_costs
    kind: tag
    entity: household
    let: {oop: "sum(medical_claim.out_of_pocket, last 12 months)"}
    when: oop > 500
  - id: trigger.high_costs
    kind: trigger
    entity: household
    let: {inpatient: "sum(medical_claim.out_of_pocket where medical_claim.visit_type == '住院', last 12 months)"}
    when: inpatient > 5000
"""


def test_record_ids_only_for_the_rules_that_fired() -> None:
    ps = load_text(SHARED)
    flags = evaluate(_shared_records_engine(), ps, "2025-06").to_pylist()
    assert [(f["rule_id"], f["entity_id"]) for f in flags] == [("tag.some_costs", "H1")]
    outcomes = {o.rule_id: o for o in explain_household(_shared_records_engine(), ps, "2025-06", "H1")}
    assert outcomes["tag.some_costs"].fired
    assert outcomes["tag.some_costs"].evidence["records"] == {"oop": ["C1", "C2"]}
    # the same claims table lists ids for the other rule's aggregate too, but it did not fire
    assert not outcomes["trigger.high_costs"].fired
    assert outcomes["trigger.high_costs"].evidence["values"] == {"inpatient": 800}
    assert outcomes["trigger.high_costs"].evidence["records"] == {"inpatient": None}


def test_intermediate_tables_are_dropped_and_flags_can_stay_in_the_engine() -> None:
    ps = load_text(SHARED)
    eng = _shared_records_engine()
    plan = compile_set(ps, "2025-06")
    from jingzhun.policy.evaluate import run_steps

    run_steps(eng, plan)
    kept = {name for name, _ in plan.steps if eng.has_table(name)}
    # the shared aggregate is gone once the stage is built; the flags still need the stage and record lists
    assert "jz_agg_medical_claim_household_id" not in kept
    assert kept == {"jz_s0_household", "jz_rec_s0_household_medical_claim_household_id"}
    assert evaluate(eng, ps, "2025-06", into="jz_flags").num_rows == 0
    assert not any(eng.has_table(name) for name, _ in plan.steps)
    stored = eng.con.sql("SELECT rule_id, entity_id FROM jz_flags").fetchall()
    assert stored == [("tag.some_costs", "H1")]
