"""Policies as code: YAML rules, a small safe expression language parsed into a syntax tree, checked
against the dataset catalogue and compiled to engine-neutral sqlglot trees (this package imports neither
DuckDB nor Spark; engines live in :mod:`jingzhun.engines`).

Public API::

    ps = load("policies")                                  # PolicySet; PolicyError with file:line:column
    plan = compile_set(ps, "2025-06")                      # Plan: steps (name, sqlglot tree) + flags tree
    flags = evaluate(engine, ps, "2025-06")                # Arrow table, schema FLAG_SCHEMA
    outcomes = explain_household(engine, ps, "2025-06", "H1")
    result = whatif(engine, ps, "2025-06", {"monitoring_line": 7500})
"""

from jingzhun.policy.compiler import PASSES, Plan, check_set, compile_set
from jingzhun.policy.evaluate import Outcome, ensure_relations, evaluate, explain_household, run_plan
from jingzhun.policy.flags import FLAG_SCHEMA
from jingzhun.policy.loader import load, load_text
from jingzhun.policy.model import KINDS, PolicySet, Rule
from jingzhun.policy.params import Param
from jingzhun.policy.parser import parse
from jingzhun.policy.whatif import WhatIfResult, whatif

__all__ = [
    "FLAG_SCHEMA",
    "KINDS",
    "PASSES",
    "Outcome",
    "Param",
    "Plan",
    "PolicySet",
    "Rule",
    "WhatIfResult",
    "check_set",
    "compile_set",
    "ensure_relations",
    "evaluate",
    "explain_household",
    "load",
    "load_text",
    "parse",
    "run_plan",
    "whatif",
]
