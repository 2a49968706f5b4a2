"""Run a compiled plan on an engine: evaluate every rule for a period, or explain one household.

The caller registers the relations (``household``, ``member``, ``income``, ``region`` and the feeds, with
``person_id``/``household_id`` on person-level feeds); any that is missing is registered empty, so a run
without, say, a disaster feed still evaluates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from jingzhun.catalog import DATASETS
from jingzhun.policy.compiler import Plan, compile_set
from jingzhun.policy.context import CONTEXT_VIEWS
from jingzhun.policy.flags import FLAG_SCHEMA, rule_flags
from jingzhun.policy.model import PolicySet
from jingzhun.policy.relations import empty_table


def ensure_relations(engine: Any) -> list[str]:
    """Register an empty table for every catalogue dataset the engine does not have; returns their names."""
    added = []
    for name in DATASETS:
        if not engine.has_table(name):
            engine.register_table(name, empty_table(name))
            added.append(name)
    return added


def run_steps(engine: Any, plan: Plan) -> None:
    """Build the context and every rule's table, in order (context views as views)."""
    ensure_relations(engine)
    for name, tree in plan.steps:
        if name in CONTEXT_VIEWS:
            engine.create_view(name, tree)
        else:
            engine.materialize(name, tree)


def run_plan(engine: Any, plan: Plan, *, into: str | None = None) -> pa.Table | None:
    """Build every step, then fetch the sorted flags (schema :data:`FLAG_SCHEMA`); the intermediate
    tables are dropped afterwards. With ``into``, the flags are stored in the engine as table ``into``
    instead (not sorted, nothing fetched: at national scale they stay where a writer can stream them)."""
    try:
        run_steps(engine, plan)
        if into is not None:
            if plan.flags is None:
                engine.register_table(into, FLAG_SCHEMA.empty_table())
            else:
                unsorted = plan.flags.copy()
                unsorted.set("order", None)
                engine.materialize(into, unsorted)
            return None
        if plan.flags is None:
            return FLAG_SCHEMA.empty_table()
        return engine.fetch_arrow(plan.flags).cast(FLAG_SCHEMA)
    finally:
        for name, _ in reversed(plan.steps):
            engine.drop(name)


def evaluate(
    engine: Any,
    ps: PolicySet,
    period: str,
    *,
    overrides: dict[str, Any] | None = None,
    into: str | None = None,
) -> pa.Table:
    """Every fired result of every rule for ``period`` over the relations registered on ``engine``,
    sorted by rule id then entity id. With ``into``, stored in the engine as that table instead (not
    sorted) and an empty table is returned."""
    plan = compile_set(ps, period, overrides=overrides)
    out = run_plan(engine, plan, into=into)
    return FLAG_SCHEMA.empty_table() if out is None else out


@dataclass
class Outcome:
    """One rule for one entity of a household: fired or not, with its evidence and explanation."""

    rule_id: str
    kind: str
    entity: str
    entity_id: str
    fired: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    explain_zh: str = ""
    explain_en: str = ""


def explain_household(engine: Any, ps: PolicySet, period: str, household_id: str) -> list[Outcome]:
    """Evaluate every rule for one household (its members and its village too), fired or not."""
    plan = compile_set(ps, period, household_id=household_id)
    run_steps(engine, plan)
    out: list[Outcome] = []
    for rid in sorted(plan.rules):
        lr = plan.rules[rid]
        tree = rule_flags(lr, only_fired=False)
        if lr.checked.rule.entity == "village":
            tree = tree.where(
                exp.In(
                    this=exp.column("village_code", table="e"),
                    query=exp.Subquery(
                        this=exp.select("village_code")
                        .from_("household")
                        .where(exp.column("household_id").eq(exp.Literal.string(household_id)))
                    ),
                )
            )
        for row in engine.fetch_arrow(tree).to_pylist():
            out.append(
                Outcome(
                    rid,
                    row["kind"],
                    row["entity"],
                    row["entity_id"],
                    bool(row["fired"]),
                    json.loads(row["evidence"]) if row["evidence"] else {},
                    row["explain_zh"] or "",
                    row["explain_en"] or "",
                )
            )
    return sorted(out, key=lambda o: (o.rule_id, o.entity_id))
