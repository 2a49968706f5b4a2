"""Language features end to end on tiny relations: village rules, all/max, dated and per-province
parameters, rule references across entities, definitions, what-if on a rule's own parameter, errors."""

from __future__ import annotations

import json

import pytest

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.errors import PolicyError
from jingzhun.policy import check_set, evaluate, explain_household, load_text
from jingzhun.policy.relations import rows_to_table

RULES = """
params:
  line: {default: 6000, "2025-01": 6500, provinces: {"52": {"2025-03": 7000}}}
definitions:
  adult: member.age >= 18
rules:
  - id: village.flooded
    kind: trigger
    entity: village
    let:
      loss: max(disaster_loss.direct_loss, this year)
      poor: count(household where household.household_type == '脱贫户')
    when: loss > 100000 and poor >= 1
    explain: {zh: "最大损失 {loss} 元，脱贫户 {poor} 户", en: "max loss {loss}, {poor} lifted-out households"}
  - id: household.all_adults
    kind: tag
    entity: household
    when: all(member where def.adult) and household.member_count >= 2
  - id: household.poor
    kind: monitor
    entity: household
    when: household.per_capita_income <= param.line
  - id: person.in_poor_household
    kind: tag
    entity: person
    when: rule.household.poor and def.adult
  - id: household.any_flagged_member
    kind: tag
    entity: household
    params: {min_members: 1}
    when: count(member where rule.person.in_poor_household) >= param.min_members
"""


@pytest.fixture()
def engine() -> DuckDBEngine:
    eng = DuckDBEngine()
    eng.register_table(
        "household",
        rows_to_table(
            "household",
            [
                {"household_id": "H1", "village_code": "520102001001", "household_type": "脱贫户"},
                {"household_id": "H2", "village_code": "440102001001", "household_type": "一般农户"},
            ],
        ),
    )
    eng.register_table(
        "member",
        rows_to_table(
            "member",
            [
                {"person_id": "A", "household_id": "H1", "birth_date": "1980-01-01"},
                {"person_id": "B", "household_id": "H1", "birth_date": "1985-01-01"},
                {"person_id": "C", "household_id": "H2", "birth_date": "1980-01-01"},
                {"person_id": "D", "household_id": "H2", "birth_date": "2015-01-01"},
            ],
        ),
    )
    eng.register_table(
        "income",
        rows_to_table(
            "income",
            [
                {"household_id": "H1", "year": 2024, "wage_income": 13600},
                {"household_id": "H2", "year": 2024, "wage_income": 13600},
            ],
        ),
    )
    eng.register_table(
        "disaster_loss",
        rows_to_table(
            "disaster_loss",
            [
                {
                    "record_id": "L1",
                    "village_code": "520102001001",
                    "disaster_type": "洪涝",
                    "event_date": "2025-02-01",
                    "direct_loss": 250000,
                },
                {
                    "record_id": "L2",
                    "village_code": "520102001001",
                    "disaster_type": "洪涝",
                    "event_date": "2025-03-01",
                    "direct_loss": 90000,
                },
                {
                    "record_id": "L3",
                    "village_code": "440102001001",
                    "disaster_type": "洪涝",
                    "event_date": "2024-12-01",
                    "direct_loss": 900000,
                },
            ],
        ),
    )
    return eng


def fired(flags, rule_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["entity_id"] for r in flags.to_pylist() if r["rule_id"] == rule_id]


def test_village_rule_all_and_rule_references(engine: DuckDBEngine) -> None:
    flags = evaluate(engine, load_text(RULES), "2025-06")
    assert fired(flags, "village.flooded") == ["520102001001"]
    row = next(r for r in flags.to_pylist() if r["rule_id"] == "village.flooded")
    assert json.loads(row["evidence"])["records"]["loss"] == ["L1", "L2"]
    assert row["explain_zh"] == "最大损失 250000 元，脱贫户 1 户" and row["household_id"] is None
    assert fired(flags, "household.all_adults") == ["H1"]
    # per capita 6800: above 6500 nationally in 2025, below Guizhou's 7000 from 2025-03
    assert fired(flags, "household.poor") == ["H1"]
    assert fired(flags, "person.in_poor_household") == ["A", "B"]
    assert fired(flags, "household.any_flagged_member") == ["H1"]


def test_dated_parameters_follow_the_period(engine: DuckDBEngine) -> None:
    ps = load_text(RULES)
    assert fired(evaluate(engine, ps, "2025-02"), "household.poor") == []  # Guizhou 6500 until 2025-03
    assert fired(evaluate(engine, ps, "2024-12"), "household.poor") == []  # 6000 before 2025
    assert fired(evaluate(engine, ps, "2025-06", overrides={"line": 7000}), "household.poor") == ["H1", "H2"]


def test_whatif_on_one_rules_own_parameter(engine: DuckDBEngine) -> None:
    ps = load_text(RULES)
    flags = evaluate(engine, ps, "2025-06", overrides={"household.any_flagged_member.min_members": 3})
    assert fired(flags, "household.any_flagged_member") == []
    with pytest.raises(PolicyError, match="no parameter"):
        evaluate(engine, ps, "2025-06", overrides={"nope": 1})


def test_explain_shows_rules_that_did_not_fire(engine: DuckDBEngine) -> None:
    out = explain_household(engine, load_text(RULES), "2025-06", "H2")
    by = {(o.rule_id, o.entity_id): o for o in out}
    assert not by[("household.poor", "H2")].fired
    assert by[("household.poor", "H2")].evidence["values"]["household.per_capita_income"] == 6800
    assert not by[("household.all_adults", "H2")].fired
    assert {o.entity_id for o in out if o.rule_id == "person.in_poor_household"} == {"C", "D"}


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("sum(member.health)", "sum() needs a number, found a text"),
        ("household.member_count > 'x'", "cannot compare a number with a text"),
        (
            "count(medical_claim, last 2 months) and true",
            "'and' needs a condition (true/false), found a number",
        ),
        ("any(medical_claim.out_of_pocket > 0 and disaster_loss.direct_loss > 0)", "any() mixes records"),
        ("rule.x.nope", "unknown rule 'x.nope'"),
        ("period.week == 1", "unknown period value 'period.week'"),
        ("def.nothing", "unknown definition 'nothing'"),
        ("household.house_grade in ['E']", "'E' is not a value of household.house_grade"),
    ],
)
def test_checker_errors(when: str, message: str) -> None:
    ps = load_text(
        f'rules:\n  - id: t.x\n    kind: tag\n    entity: household\n    when: "{when}"\n', "t.yaml"
    )
    with pytest.raises(PolicyError) as info:
        check_set(ps)
    assert info.value.message.startswith(message), info.value.message
    assert info.value.location.line == 5
