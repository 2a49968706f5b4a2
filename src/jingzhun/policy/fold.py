"""Compiler pass: choose the branch of ``if(condition, a, b)`` when the condition depends only on
parameters that are the same in every province for the period (and literals).

A rule can offer variants chosen by a parameter, as the medical triggers do for the unit (person or
household) and the window (calendar year or rolling 12 months) of their thresholds. Where the parameter
is national for the period, only the chosen variant is computed, and the evidence lists only its
records. Where it differs by province, the ``if`` stays and is decided row by row.

>>> from jingzhun.policy.loader import load_text
>>> from jingzhun.policy.checker import check_rule
>>> ps = load_text('''
... params: {unit: person}
... rules:
...   - id: t.a
...     kind: tag
...     entity: household
...     let:
...       value: if(param.unit == 'household', sum(medical_claim.out_of_pocket), 0)
...     when: value > 1
... ''')
>>> checked = check_rule(ps, ps.rules["t.a"])
>>> len(checked.records)
1
>>> folded = fold_rule(checked, ps, "2025-06")
>>> folded.lets[0][1].value, len(folded.records)
(0, 0)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from jingzhun.policy.checker import CheckedRule, Part, collect_records
from jingzhun.policy.model import PolicySet
from jingzhun.policy.nodes import Binary, Call, Literal, Name, Node, Unary

_UNKNOWN = object()


def _value(node: Node, ps: PolicySet, rule: Any, period: str) -> Any:
    """The value of a condition made of literals and national parameters, else ``_UNKNOWN``."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name) and node.ref and node.ref[0] == "param":
        p = ps.param(rule, node.ref[1])
        if p is None:
            return _UNKNOWN
        national, diff = p.for_period(period)
        return _UNKNOWN if diff else national
    if isinstance(node, Unary) and node.op == "not" and node.operand is not None:
        v = _value(node.operand, ps, rule, period)
        return _UNKNOWN if v is _UNKNOWN or not isinstance(v, bool) else not v
    if isinstance(node, Binary) and node.left is not None and node.right is not None:
        a, b = _value(node.left, ps, rule, period), _value(node.right, ps, rule, period)
        if a is _UNKNOWN or b is _UNKNOWN:
            return _UNKNOWN
        if node.op == "==":
            return a == b
        if node.op == "!=":
            return a != b
        if node.op in ("and", "or") and isinstance(a, bool) and isinstance(b, bool):
            return (a and b) if node.op == "and" else (a or b)
    return _UNKNOWN


class _Folder:
    def __init__(self, ps: PolicySet, rule: Any, period: str):
        self.ps, self.rule, self.period = ps, rule, period
        self.memo: dict[int, Node] = {}

    def memo_changed(self) -> bool:
        """Whether any node was replaced."""
        return any(new is not None and id(new) != old for old, new in self.memo.items())

    def fold(self, node: Node) -> Node:
        done = self.memo.get(id(node))
        if done is not None:
            return done
        out = self._fold(node)
        self.memo[id(node)] = out
        return out

    def _fold(self, node: Node) -> Node:
        if isinstance(node, Call) and node.func == "if" and len(node.args) == 3:
            chosen = _value(node.args[0], self.ps, self.rule, self.period)
            if isinstance(chosen, bool):
                return self.fold(node.args[1] if chosen else node.args[2])
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(node):
            v = getattr(node, f.name)
            if isinstance(v, Node):
                new = self.fold(v)
                if new is not v:
                    changes[f.name] = new
            elif isinstance(v, list) and v and all(isinstance(x, Node) for x in v):
                items = [self.fold(x) for x in v]
                if any(a is not b for a, b in zip(items, v, strict=True)):
                    changes[f.name] = items
        if not changes:
            return node
        copy = dataclasses.replace(node, **changes)
        copy.type = node.type
        return copy


def fold_rule(checked: CheckedRule, ps: PolicySet, period: str) -> CheckedRule:
    """``checked`` with every decidable ``if`` replaced by its chosen branch; the evidence keeps the
    records of the aggregations still computed."""
    f = _Folder(ps, checked.rule, period)
    lets = [(name, f.fold(n)) for name, n in checked.lets]
    when = f.fold(checked.when)
    applies = f.fold(checked.applies) if checked.applies is not None else None

    def parts(ps_: list[Part]) -> list[Part]:
        return [Part(p.text, f.fold(p.node) if p.node is not None else None) for p in ps_]

    zh, en = parts(checked.explain_zh), parts(checked.explain_en)
    records = collect_records(lets, when) if f.memo_changed() else checked.records
    return dataclasses.replace(
        checked, when=when, applies=applies, lets=lets, explain_zh=zh, explain_en=en, records=records
    )
