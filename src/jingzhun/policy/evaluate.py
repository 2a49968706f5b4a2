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


def last_uses(plan: Plan) -> dict[str, int]:
    """For each step, the index of the last step that reads it; steps the flags read are kept to the end
    (``len(plan.steps)``).

    >>> from jingzhun.policy import compile_set, load_text
    >>> ps = load_text("rules: [{id: t.a, kind: tag, entity: household, when: household.member_count > 1}]")
    >>> last_uses(compile_set(ps, "2025-06"))
    {'jz_ctx_household_derived': 2, 'jz_ctx_village': 1, 'jz_s0_household': 3}
    """
    steps = [name for name, _ in plan.steps]
    last = {name: i for i, name in enumerate(steps)}
    for i, (_, tree) in enumerate(plan.steps):
        for t in tree.find_all(exp.Table):
            if t.name in last:
                last[t.name] = max(last[t.name], i)
    if plan.flags is not None:
        for t in plan.flags.find_all(exp.Table):
            if t.name in last:
                last[t.name] = len(steps)
    return last


def run_steps(engine: Any, plan: Plan) -> None:
    """Build the context and every rule's table, in order (context views as views). A step is dropped
    as soon as no later step and not the flags read it (shared aggregates once the last stage using
    them is built), so the engine holds little more than the stage tables and record lists."""
    ensure_relations(engine)
    last = last_uses(plan)
    built: list[str] = []
    for i, (name, tree) in enumerate(plan.steps):
        if name in CONTEXT_VIEWS:
            engine.create_view(name, tree)
        else:
            engine.materialize(name, tree)
        built.append(name)
        for done in [n for n in built if last[n] <= i]:
            engine.drop(done)
            built.remove(done)


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
