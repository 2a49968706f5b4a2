"""What-if over a data folder: load a period's inputs the way the monthly run does (registry, feeds
joined to the latest run's accepted links) and compare the policy set with changed parameters
(:func:`jingzhun.policy.whatif`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot

from jingzhun.catalog import DATASETS
from jingzhun.engines.duckdb import DuckDBEngine
from jingzhun.errors import JingzhunError
from jingzhun.ops import OpsStore
from jingzhun.pipeline.loading import register_dataset, register_regions
from jingzhun.pipeline.snapshot import take_snapshot
from jingzhun.policy.whatif import WhatIfResult
from jingzhun.reports.runs import policy_dir, run_for
from jingzhun.store import DataFolder


def whatif_for(root: str | Path, store: OpsStore, period: str, overrides: dict[str, Any]) -> WhatIfResult:
    """Evaluate ``period`` with and without ``overrides``; feeds are linked with the accepted links of
    the period's latest run (none when there is no run: feed-based rules then see no people)."""
    from jingzhun import policy

    data = DataFolder(root)
    snapshot = take_snapshot(data, store, period)
    if not snapshot.has_registry:
        raise JingzhunError(
            f"{period} 及以前没有导入建档立卡数据 / no registry imported for {period} or earlier"
        )
    _, run_id = run_for(store, period)
    links_path = data.run_dir(run_id) / "links.parquet" if run_id else None
    engine = DuckDBEngine()
    try:
        for name, dataset in DATASETS.items():
            if dataset.kind == "registry" or (dataset.kind == "feed" and not dataset.person_level):
                register_dataset(engine, snapshot, name)
            elif dataset.kind == "feed":
                raw = f"__jz_feed_{name}"
                if not register_dataset(engine, snapshot, name, raw):
                    continue
                if links_path is not None and links_path.exists():
                    engine.register_table("__jz_links", links_path)
                    join = (
                        f"LEFT JOIN (SELECT * FROM __jz_links WHERE feed = '{name}' AND band = 'accepted') l "
                        "ON l.record_id = f.record_id"
                    )
                    cols = "l.person_id, l.household_id"
                else:
                    join, cols = (
                        "",
                        "CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS household_id",
                    )
                engine.materialize(
                    name, sqlglot.parse_one(f"SELECT f.*, {cols} FROM {raw} f {join}", read="duckdb")
                )
                engine.drop(raw)
        register_regions(engine, snapshot)
        return policy.whatif(engine, policy.load(policy_dir()), period, overrides)
    finally:
        engine.close()


def region_rows(result: WhatIfResult, prefix: str, level: str) -> list[dict[str, Any]]:
    """Rows of ``result.by_region`` at ``level`` inside ``prefix`` (code, base, changed, delta)."""
    t: pa.Table = result.by_region
    if t.num_rows == 0:
        return []
    t = t.filter(pc.and_(pc.equal(t["level"], level), pc.starts_with(t["code"], prefix)))
    return t.to_pylist()
