"""Every YAML test case of the shipped policies runs on DuckDB and on Spark (local[2]) and must give the
same flags row for row: ids, evidence JSON and explanation texts included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.engines.spark import SparkEngine
from jingzhun.policy import FLAG_SCHEMA, load
from jingzhun.policy.loader import case_files
from jingzhun.policy.testing import load_cases, run_case

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2] / "policies"
POLICY_SET = load(ROOT)
CASES = [c for f in case_files(ROOT) for c in load_cases(f)]


class _Recording:
    """Keeps the last table an engine fetched (the flags, for ``evaluate``)."""

    last: pa.Table | None = None

    def fetch_arrow(self, tree: exp.Expr) -> pa.Table:
        self.last = super().fetch_arrow(tree)  # type: ignore[misc]
        return self.last


class RecordingDuckDB(_Recording, DuckDBEngine):
    pass


class RecordingSpark(_Recording, SparkEngine):
    pass


@pytest.mark.parametrize("case", CASES, ids=[c.id.split("policies/")[-1] for c in CASES])
def test_case_gives_identical_flags_on_duckdb_and_spark(case: Any, spark: Any) -> None:
    engines: dict[str, Any] = {}

    def factory(name: str) -> Any:
        def make() -> Any:
            engines[name] = RecordingSpark(spark) if name == "spark" else RecordingDuckDB()
            return engines[name]

        return make

    for name in ("duckdb", "spark"):
        result = run_case(case, POLICY_SET, factory(name))
        assert result.ok, f"{name}: " + "\n".join(result.failures)
    duck, spk = (engines[n].last.cast(FLAG_SCHEMA).to_pylist() for n in ("duckdb", "spark"))
    assert len(spk) == len(duck), f"{len(spk)} rows on Spark, {len(duck)} on DuckDB"
    diffs = [
        f"row {i} {d['rule_id']} {d['entity_id']} {k}: spark={s[k]!r} duckdb={d[k]!r}"
        for i, (s, d) in enumerate(zip(spk, duck, strict=True))
        for k in d
        if s[k] != d[k]
    ]
    assert not diffs, "\n".join(diffs)
