"""The YAML tests beside every shipped policy file, one pytest item per case (same runner as
`jingzhun policy test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.policy import check_set, load
from jingzhun.policy.loader import case_files, policy_files
from jingzhun.policy.testing import load_cases, run_case

ROOT = Path(__file__).resolve().parents[2] / "policies"
POLICY_SET = load(ROOT)
CASES = [c for f in case_files(ROOT) for c in load_cases(f)]


def test_shipped_set_checks() -> None:
    checked = check_set(POLICY_SET)
    kinds = {c.rule.kind for c in checked.values()}
    assert kinds == {"trigger", "monitor", "exit", "tag", "conflict"}


def test_every_policy_file_has_tests_beside_it() -> None:
    for f in policy_files(ROOT):
        if f.name == "params.yaml":
            continue
        assert f.with_name(f.stem + ".test.yaml").exists(), f"{f} has no tests beside it"


def test_every_rule_is_tested() -> None:
    tested = {rid for c in CASES for rid in c.expect}
    assert set(POLICY_SET.rules) - tested == set()


@pytest.mark.parametrize("case", CASES, ids=[c.id.split("policies/")[-1] for c in CASES])
def test_policy_case(case) -> None:  # type: ignore[no-untyped-def]
    result = run_case(case, POLICY_SET, DuckDBEngine)
    assert result.ok, "\n".join(result.failures)
