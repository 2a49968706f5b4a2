"""Risk checks for the case workflow: the exit/risk-elimination rules of the latest finished run.

:class:`RunRiskChecks` implements :data:`jingzhun.cases.ports.RiskChecks`, so 风险消除 can only be proposed and
approved for a household whose latest run says its risk is eliminable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select

from jingzhun.ops.db import OpsStore
from jingzhun.ops.models import RunRecord
from jingzhun.store import DataFolder


class RunRiskChecks:
    """``risk_checks_pass(household_id)``: the exit/risk-elimination checks of the latest run.

    Passes when the latest run's ``exit.risk_eliminable`` rule fired for the household; the details list
    every exit check and whether it passed, so a refusal says which condition is still open.
    """

    ELIMINABLE = "exit.risk_eliminable"

    def __init__(self, data_root: str | Path, store: OpsStore):
        self.data, self.store = DataFolder(data_root), store

    def __call__(self, household_id: str) -> tuple[bool, Any]:
        with self.store.session() as session:
            run = session.scalars(select(RunRecord).where(RunRecord.status == "done")
                                  .order_by(RunRecord.period.desc(), RunRecord.finished_at.desc()).limit(1)).first()
        if run is None:
            return False, "尚无监测运行结果 / no finished run yet"
        flags = self.data.run_dir(run.id) / "flags.parquet"
        rows = duckdb.connect().execute(
            "SELECT rule_id, explain_zh FROM read_parquet(?) WHERE household_id = ? AND kind = 'exit' "
            "ORDER BY rule_id", [str(flags), household_id]).fetchall()
        passed = {rule: text for rule, text in rows}
        details = {"run_id": run.id, "period": run.period, "passed_checks": passed}
        return self.ELIMINABLE in passed, details
