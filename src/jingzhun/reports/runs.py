"""The runs behind the figures: the latest finished run of each period, and the monitoring line."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from jingzhun.ops import OpsStore
from jingzhun.ops.models import RunRecord

DEFAULT_LINE = 7000.0


def done_runs(store: OpsStore) -> list[tuple[str, str]]:
    """(period, run_id) of the latest finished run of each period, sorted by period."""
    with store.session() as session:
        found = session.execute(
            select(RunRecord.period, RunRecord.id, RunRecord.started_at)
            .where(RunRecord.status == "done")
            .order_by(RunRecord.started_at)
        ).all()
    latest: dict[str, str] = {}
    for period, run_id, _ in found:
        latest[period] = run_id
    return sorted(latest.items())


def run_for(store: OpsStore, period: str | None) -> tuple[str | None, str | None]:
    """(period, run_id) for ``period`` (or the latest period with a finished run)."""
    runs = dict(done_runs(store))
    if period is None:
        if not runs:
            return None, None
        period = max(runs)
    return period, runs.get(period)


def policy_dir() -> Path:
    here = Path("policies")
    return here if here.exists() else Path(__file__).resolve().parents[3] / "policies"


@lru_cache(maxsize=64)
def monitoring_line(period: str, province: str | None = None) -> float:
    """The monitoring line (监测范围, yuan per person per year) of ``period`` from ``policies/params.yaml``,
    with the province's own value where it has one; 7000 when no policy set is found."""
    from jingzhun import policy

    try:
        ps = policy.load(policy_dir())
    except Exception:
        return DEFAULT_LINE
    param = ps.params.get("monitoring_line")
    if param is None:
        return DEFAULT_LINE
    return float(param.value(period, province))
