"""Compile a policy set for one period into an engine-neutral plan of sqlglot trees.

The passes run in order from :data:`PASSES`, each one module:

1. ``overrides`` (:mod:`jingzhun.policy.params`): apply what-if parameter values;
2. ``check`` (:mod:`jingzhun.policy.checker`): parse, resolve and type-check every rule;
3. ``fold`` (:mod:`jingzhun.policy.fold`): choose the branch of ``if`` where national parameters decide it;
4. ``order`` (:mod:`jingzhun.policy.order`): order rules so each follows the rules it uses;
5. ``lower`` (:mod:`jingzhun.policy.lower`): shared aggregate tables, then one SELECT per stage and
   entity computing all its rules, and the record-id lists of their fired rows;
6. ``context`` (:mod:`jingzhun.policy.context`): each read of the household/member context becomes a
   SELECT of the columns it uses; the stored context tables those need come first;
7. ``flags`` (:mod:`jingzhun.policy.flags`): the sorted result table.

>>> from jingzhun.policy.loader import load_text
>>> ps = load_text('''
... rules:
...   - id: tag.big
...     kind: tag
...     entity: household
...     when: household.member_count >= 5
... ''')
>>> plan = compile_set(ps, "2025-06")
>>> [name for name, _ in plan.steps]  # doctest: +ELLIPSIS
['jz_ctx_household_derived', 'jz_ctx_village', 'jz_s0_household']
>>> [name for name, _ in plan.rule_steps("tag.big")]
['jz_s0_household']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from jingzhun.policy.checker import CheckedRule, check_all
from jingzhun.policy.context import context_steps, inline
from jingzhun.policy.flags import flags_tree
from jingzhun.policy.fold import fold_rule
from jingzhun.policy.lower import LoweredRule, lower_rules
from jingzhun.policy.model import PolicySet
from jingzhun.policy.order import dependency_order
from jingzhun.policy.params import period_key, with_overrides


@dataclass
class Plan:
    """What an engine runs: materialize ``steps`` in order, then fetch ``flags``."""

    period: str
    policy_set: PolicySet
    household_id: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    checked: dict[str, CheckedRule] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    steps: list[tuple[str, exp.Expr]] = field(default_factory=list)
    rules: dict[str, LoweredRule] = field(default_factory=dict)
    flags: exp.Expr | None = None

    def rule_steps(self, rule_id: str) -> list[tuple[str, exp.Expr]]:
        """The steps computing one rule's rows: the shared aggregate tables its stage reads, then the
        stage (which computes the stage's other rules too). For showing what a rule compiles to."""
        lr = self.rules[rule_id]
        tables = {t.name for t in lr.tree.find_all(exp.Table)}
        return [
            (name, tree) for name, tree in self.steps if name in tables and name.startswith("jz_agg_")
        ] + [(lr.table, lr.tree)]


def _overrides(plan: Plan) -> None:
    if plan.overrides:
        plan.policy_set = with_overrides(plan.policy_set, plan.overrides)


def _check(plan: Plan) -> None:
    plan.checked = check_all(plan.policy_set)


def _fold(plan: Plan) -> None:
    plan.checked = {rid: fold_rule(c, plan.policy_set, plan.period) for rid, c in plan.checked.items()}


def _order(plan: Plan) -> None:
    ps = plan.policy_set
    plan.order = dependency_order(
        {rid: c.deps for rid, c in plan.checked.items()}, lambda rid: ps.rules[rid].location
    )


def _lower(plan: Plan) -> None:
    lowered = lower_rules(plan.checked, plan.order, plan.policy_set, plan.period, plan.household_id)
    plan.rules = lowered.rules
    plan.steps.extend(lowered.steps)


def _context(plan: Plan) -> None:
    needs: set[str] = set()
    steps = []
    for name, tree in plan.steps:
        tree, more = inline(tree, plan.period, plan.household_id)
        needs |= more
        steps.append((name, tree))
    by_table = dict(steps)
    for lr in plan.rules.values():
        lr.tree = by_table[lr.table]
    plan.steps = [*context_steps(plan.period, needs, plan.household_id), *steps]


def _flags(plan: Plan) -> None:
    plan.flags = flags_tree(list(plan.rules.values()))


PASSES: tuple[Callable[[Plan], None], ...] = (_overrides, _check, _fold, _order, _lower, _context, _flags)


def compile_set(
    ps: PolicySet, period: str, *, overrides: dict[str, Any] | None = None, household_id: str | None = None
) -> Plan:
    """Run every pass; raises :class:`~jingzhun.errors.PolicyError` at the first mistake found."""
    plan = Plan(period_key(period), ps, household_id, dict(overrides or {}))
    for p in PASSES:
        p(plan)
    return plan


def check_set(ps: PolicySet) -> dict[str, CheckedRule]:
    """Check a policy set without a period (for ``policy check``)."""
    plan = Plan("2000-01", ps)
    _check(plan)
    _order(plan)
    return plan.checked
