"""Compile a policy set for one period into an engine-neutral plan of sqlglot trees.

The passes run in order from :data:`PASSES`, each one module:

1. ``overrides`` (:mod:`jingzhun.policy.params`): apply what-if parameter values;
2. ``check`` (:mod:`jingzhun.policy.checker`): parse, resolve and type-check every rule;
3. ``order`` (:mod:`jingzhun.policy.order`): order rules so each follows the rules it uses;
4. ``context`` (:mod:`jingzhun.policy.context`): the derived household/member/village tables;
5. ``lower`` (:mod:`jingzhun.policy.lower`): one SELECT per rule;
6. ``flags`` (:mod:`jingzhun.policy.flags`): the sorted result table.

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
[..., 'jz_ctx_member', 'jz_ctx_village', 'jz_r_tag__big']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from jingzhun.policy.checker import CheckedRule, check_all
from jingzhun.policy.context import context_steps
from jingzhun.policy.flags import flags_tree
from jingzhun.policy.lower import LoweredRule, lower_rule
from jingzhun.policy.model import PolicySet
from jingzhun.policy.nodes import Name
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


def _overrides(plan: Plan) -> None:
    if plan.overrides:
        plan.policy_set = with_overrides(plan.policy_set, plan.overrides)


def _check(plan: Plan) -> None:
    plan.checked = check_all(plan.policy_set)


def _order(plan: Plan) -> None:
    ps = plan.policy_set
    plan.order = dependency_order(
        {rid: c.deps for rid, c in plan.checked.items()}, lambda rid: ps.rules[rid].location
    )


def _context(plan: Plan) -> None:
    used = {
        n.ref[1:]
        for c in plan.checked.values()
        for root in (c.when, c.applies, *(node for _, node in c.lets))
        if root is not None
        for n in root.walk()
        if isinstance(n, Name) and n.ref and n.ref[0] == "field"
    }
    plan.steps.extend(
        context_steps(
            plan.period, plan.household_id, id_households=("member", "id_number_households") in used
        )
    )


def _lower(plan: Plan) -> None:
    for rid in plan.order:
        lr = lower_rule(plan.checked[rid], plan.policy_set, plan.period, plan.household_id)
        plan.rules[rid] = lr
        plan.steps.append((lr.table, lr.tree))


def _flags(plan: Plan) -> None:
    plan.flags = flags_tree(list(plan.rules.values()))


PASSES: tuple[Callable[[Plan], None], ...] = (_overrides, _check, _order, _context, _lower, _flags)


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
