"""YAML tests beside policy files (``NAME.test.yaml`` next to ``NAME.yaml``), in the openfisca / sqlmesh
spirit: input rows per table, then for each rule the entity ids expected to fire and key evidence values.

::

    period: "2025-06"
    cases:
      - name: registered household over 5000
        params: {inpatient_oop_registered: 6000}     # optional what-if values
        input:
          household: [{household_id: H1, village_code: "520102001001", household_type: 脱贫户}]
          medical_claim: [{record_id: C1, person_id: P1, household_id: H1, claim_date: 2025-03-01, ...}]
        expect:
          trigger.medical_oop_registered:
            fired: [H1]                 # exactly these entity ids fire
            evidence: {H1: {values.value: 5500, records.value: [C1]}}

The engine is passed in (``engine_factory``) so this module stays engine-neutral; the pytest plugin
(``tests/policy/conftest.py``) and ``jingzhun policy test`` use DuckDB.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jingzhun.catalog import DATASETS
from jingzhun.errors import Location, PolicyError
from jingzhun.policy.evaluate import evaluate
from jingzhun.policy.loader import case_files
from jingzhun.policy.model import PolicySet
from jingzhun.policy.params import period_key
from jingzhun.policy.relations import rows_to_table


@dataclass
class Case:
    file: str
    name: str
    period: str
    input: dict[str, list[dict[str, Any]]]
    expect: dict[str, dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


@dataclass
class CaseResult:
    case: Case
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class _LineLoader(yaml.SafeLoader):
    pass


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    out = loader.construct_mapping(node, deep=True)
    out["__line__"] = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if k != "__line__"}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    return v


def load_cases(path: Path) -> list[Case]:
    """The cases of one test file; a malformed file is a :class:`PolicyError` at its line."""
    file = str(path)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise PolicyError(
            f"not valid YAML: {exc.problem}", Location(file, line=mark.line + 1 if mark else None)
        ) from None
    default_period = doc.get("period")
    cases = []
    for raw in doc.get("cases") or []:
        where = Location(file, line=raw.get("__line__"))
        name = str(raw.get("name") or f"case at line {raw.get('__line__')}")
        period = raw.get("period", default_period)
        if period is None:
            raise PolicyError(f"test {name!r} has no period", where)
        inputs = _strip(raw.get("input") or {})
        for table in inputs:
            if table not in DATASETS:
                raise PolicyError(f"test {name!r}: unknown table {table!r}", where)
        expect = _strip(raw.get("expect") or {})
        if not expect:
            raise PolicyError(f"test {name!r} expects nothing", where)
        cases.append(
            Case(
                file,
                name,
                period_key(period, where),
                inputs,
                expect,
                _strip(raw.get("params") or {}),
                raw.get("__line__"),
            )
        )
    return cases


def _subset(ps: PolicySet, ids: list[str]) -> PolicySet:
    from jingzhun.policy.checker import check_rule

    keep: set[str] = set()
    todo = list(ids)
    while todo:
        rid = todo.pop()
        if rid in keep:
            continue
        keep.add(rid)
        todo.extend(check_rule(ps, ps.rule(rid)).deps)
    out = copy.copy(ps)
    out.rules = {rid: r for rid, r in ps.rules.items() if rid in keep}
    return out


def _get(evidence: dict[str, Any], path: str) -> Any:
    cur: Any = evidence
    for part in path.split(".", 1)[0:1] + ([path.split(".", 1)[1]] if "." in path else []):
        if not isinstance(cur, dict) or part not in cur:
            raise KeyError(path)
        cur = cur[part]
    return cur


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(float(actual) - float(expected)) <= 0.01
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(
            _same(a, e) for a, e in zip(actual, expected, strict=True)
        )
    return actual == expected


def run_case(case: Case, ps: PolicySet, engine_factory: Callable[[], Any]) -> CaseResult:
    result = CaseResult(case)
    for rid in case.expect:
        if rid not in ps.rules:
            result.failures.append(f"unknown rule {rid!r}")
    if result.failures:
        return result
    subset = _subset(ps, list(case.expect))
    engine = engine_factory()
    try:
        where = Location(case.file, line=case.line)
        for table, rows in case.input.items():
            engine.register_table(table, rows_to_table(table, rows, where, case.period))
        flags = evaluate(engine, subset, case.period, overrides=case.params).to_pylist()
    finally:
        engine.close()
    for rid, exp_ in case.expect.items():
        got = {r["entity_id"]: r for r in flags if r["rule_id"] == rid}
        if "fired" in exp_:
            want = sorted(str(x) for x in exp_["fired"] or [])
            if sorted(got) != want:
                result.failures.append(f"{rid}: fired for {sorted(got)}, expected {want}")
        for eid in exp_.get("not_fired") or []:
            if str(eid) in got:
                result.failures.append(f"{rid}: fired for {eid}, expected not to")
        for eid, checks in (exp_.get("evidence") or {}).items():
            row = got.get(str(eid))
            if row is None:
                result.failures.append(f"{rid}: no result for {eid} to check evidence")
                continue
            ev = json.loads(row["evidence"])
            for path, want_v in checks.items():
                try:
                    actual = _get(ev, path)
                except KeyError:
                    result.failures.append(f"{rid} {eid}: evidence has no {path!r} (has {sorted(ev)})")
                    continue
                if not _same(actual, want_v):
                    result.failures.append(f"{rid} {eid}: {path} = {actual!r}, expected {want_v!r}")
        for key in ("explain_zh", "explain_en"):
            for eid, text in (exp_.get(key) or {}).items():
                row = got.get(str(eid))
                if row is None or row[key] != text:
                    result.failures.append(f"{rid} {eid}: {key} = {row and row[key]!r}, expected {text!r}")
    return result


def run_tests(root: str | Path, ps: PolicySet, engine_factory: Callable[[], Any]) -> list[CaseResult]:
    """Run every case of every ``*.test.yaml`` under ``root``."""
    out = []
    for f in case_files(Path(root)):
        for case in load_cases(f):
            out.append(run_case(case, ps, engine_factory))
    return out
