"""What-if and explain on exactly the data a run used (its snapshot and its links)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from jingzhun.errors import NotFound
from jingzhun.ops import open_store
from jingzhun.pipeline.run import DEFAULT_POLICY_DIR, _repo_path, context_for_run, current_run
from jingzhun.store import DataFolder


def _policy(policy_dir: str | Path | None) -> Any:
    from jingzhun import policy

    return policy.load(_repo_path(Path(policy_dir) if policy_dir else DEFAULT_POLICY_DIR))


def _region_names(engine: Any) -> dict[str, str]:
    if not engine.has_table("region"):
        return {}
    rows = engine.fetch_arrow(exp.select("code", "name").from_("region")).to_pylist()
    return {r["code"]: r["name"] for r in rows}


def whatif_period(data_root: str | Path, period: str, overrides: dict[str, Any], *,
                  policy_dir: str | Path | None = None) -> dict[str, Any]:
    """Evaluate ``overrides`` beside the current parameters on the latest run of ``period``; a JSON-ready
    report: monitored households before/after, by rule, by region (with names), households that change."""
    from jingzhun import policy

    store = open_store(DataFolder(data_root).ops_url)
    run = current_run(store, period)
    if run is None:
        raise NotFound(f"no finished run for {period}; run `jingzhun run --period {period}` first")
    engine, _ = context_for_run(data_root, run.id, store)
    try:
        result = policy.whatif(engine, _policy(policy_dir), period, overrides)
        names = _region_names(engine)
    finally:
        engine.close()
    by_region = result.by_region.to_pylist()
    for row in by_region:
        full = str(row["code"]).ljust(12, "0")
        row["name"] = names.get(full) or names.get(row["code"])
    return {
        "period": period, "run_id": run.id, "overrides": overrides,
        "monitored_before": result.monitored("base"), "monitored_after": result.monitored("changed"),
        "by_rule": result.by_rule.to_pylist(), "by_region": by_region,
        "households": result.households.to_pylist(),
    }


def explain_in_run(data_root: str | Path, run_id: str, household_id: str, *,
                   policy_dir: str | Path | None = None) -> list[Any]:
    """Every rule for one household, fired or not, on the data of run ``run_id``."""
    from jingzhun import policy

    engine, run = context_for_run(data_root, run_id)
    try:
        query = exp.select("count(*) AS n").from_("household").where(
            exp.column("household_id").eq(exp.Literal.string(household_id)))
        if not engine.fetch_arrow(query).column(0)[0].as_py():
            raise NotFound(f"household {household_id!r} is not in the registry of run {run_id}")
        return policy.explain_household(engine, _policy(policy_dir), run.period, household_id)
    finally:
        engine.close()
