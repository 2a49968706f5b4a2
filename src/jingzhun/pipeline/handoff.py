"""Handing a run's alerts to the case workflow (部门筛查预警), recorded on the run ledger.

A run writes, beside its alerts, a ``handoff`` table: every ``new`` and ``cleared`` household alert
with the household head's name (:func:`handoff_sql`). When the run is done its ledger row says
``handoff_status = 'pending'``; :func:`hand_off_run` then opens the cases and records the events
(:func:`jingzhun.cases.handoff.hand_off_alerts`) and sets ``handoff_status = 'done'`` with the counts
**in the same transaction**, so either everything is handed over or nothing is. A handoff that fails
is marked ``failed`` with its error and is retried by the next ``jingzhun run`` (any period) or by
``jingzhun runs handoff RUN``; a run killed between its results and its handoff stays ``pending`` and is
finished the same way. Only the current run of a period is handed over: a pending run that a newer run
of the same period replaced is marked ``superseded``.

``handoff_status``: NULL (a run made before the handoff existed), ``pending``, ``done``, ``failed``,
``skipped`` (``jingzhun run --no-handoff``; hand it over later with ``jingzhun runs handoff``),
``superseded``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from jingzhun.cases.handoff import ALERT_FIELDS, SYSTEM_ACTOR, hand_off_alerts
from jingzhun.errors import JingzhunError
from jingzhun.ops.db import OpsStore
from jingzhun.ops.models import RunRecord, utcnow
from jingzhun.settings import Settings
from jingzhun.store import DataFolder

HANDOFF_TABLE = "handoff"
RETRY_STATUSES = ("pending", "failed")


class HandoffError(JingzhunError):
    """Handing a run's alerts to the case workflow failed; the run's results are intact."""


@dataclass
class HandoffOutcome:
    run_id: str
    status: str  # done | superseded | failed | skipped
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def handoff_sql(alerts: str, member: str = "member") -> str:
    """SQL (DuckDB dialect) of the ``handoff`` table: the new and cleared alerts of ``alerts`` with the
    name of the household's head (relation 户主, else the first member by person id).

    >>> "户主" in handoff_sql("jz_alerts")
    True
    """
    return f"""
        WITH a AS (SELECT * FROM {alerts} WHERE status IN ('new', 'cleared')),
             head AS (
                SELECT household_id,
                       arg_min(name, (CASE WHEN relation = '户主' THEN '0' ELSE '1' END) || person_id) AS head_name
                FROM {member}
                WHERE household_id IN (SELECT household_id FROM a)
                GROUP BY household_id)
        SELECT a.household_id, a.village_code, coalesce(head.head_name, '') AS head_name, a.rule_id, a.kind,
               a.status, a.first_period, a.evidence, a.explain_zh
        FROM a LEFT JOIN head ON head.household_id = a.household_id
    """


def _set(store: OpsStore, run_id: str, **values: Any) -> None:
    with store.session() as session:
        record = session.get(RunRecord, run_id)
        assert record is not None
        for key, value in values.items():
            setattr(record, key, value)
        record.version += 1


def _is_current(session: Any, record: RunRecord) -> str | None:
    """None when ``record`` is the current (latest finished) run of its period, else the current id."""
    latest = session.scalars(
        select(RunRecord.id).where(RunRecord.period == record.period, RunRecord.status == "done")
        .order_by(RunRecord.finished_at.desc(), RunRecord.id.desc()).limit(1)
    ).first()
    return None if latest == record.id else latest


def hand_off_run(
    data_root: str | Path,
    run_id: str,
    store: OpsStore,
    *,
    settings: Settings | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> HandoffOutcome:
    """Hand run ``run_id``'s new and cleared alerts to the workflow (idempotent; see the module
    docstring). Raises :class:`HandoffError` when it fails, after marking the run ``failed``."""
    data = DataFolder(data_root)
    settings = settings or Settings(data=data.root)
    with store.session() as session:
        record = session.get(RunRecord, run_id)
        if record is None:
            raise JingzhunError(f"no run {run_id!r}; see `jingzhun runs list`")
        if record.status != "done":
            raise HandoffError(f"run {run_id} is {record.status}, not done: only a finished run's alerts can be "
                               "handed to the case workflow")
        if record.handoff_status == "done":
            return HandoffOutcome(run_id, "done", dict(record.handoff or {}))
        newer = _is_current(session, record)
    if newer is not None:
        _set(store, run_id, handoff_status="superseded", handoff={"superseded_by": newer})
        return HandoffOutcome(run_id, "superseded", {"superseded_by": newer})
    path = data.run_dir(run_id) / f"{HANDOFF_TABLE}.parquet"
    if not path.exists():
        raise HandoffError(f"run {run_id} has no {HANDOFF_TABLE}.parquet in {path.parent} (it was made before "
                           f"alerts were handed to cases): run period {record.period} again with --force")
    started = time.perf_counter()
    try:
        alerts = pq.read_table(path, columns=list(ALERT_FIELDS)).to_pylist()
        now = clock()
        with store.session() as session:
            # lock the ledger row (PostgreSQL; SQLite serialises writers) and look again: another
            # process may have finished this handoff meanwhile
            locked = session.scalars(select(RunRecord).where(RunRecord.id == run_id).with_for_update()).one()
            if locked.handoff_status == "done":
                return HandoffOutcome(run_id, "done", dict(locked.handoff or {}))
            counts = hand_off_alerts(session, settings, run_id=run_id, period=locked.period, alerts=alerts, now=now,
                                     actor=SYSTEM_ACTOR, started_by=locked.started_by)
            summary = {**counts.as_dict(), "alerts": len(alerts), "at": now.isoformat(timespec="seconds"),
                       "seconds": round(time.perf_counter() - started, 3)}
            locked.handoff_status = "done"
            locked.handoff = summary
            locked.version += 1
        return HandoffOutcome(run_id, "done", summary)
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"[:2000]
        _set(store, run_id, handoff_status="failed",
             handoff={"error": message, "at": clock().isoformat(timespec="seconds")})
        raise HandoffError(f"handing run {run_id}'s alerts to the case workflow failed ({message}); the run's "
                           f"results are kept: retry with `jingzhun runs handoff {run_id}`") from exc


def hand_off_pending(
    data_root: str | Path,
    store: OpsStore,
    *,
    settings: Settings | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> list[HandoffOutcome]:
    """Finish every handoff left ``pending`` or ``failed`` (oldest period first); a failure is reported
    in its outcome, not raised, so that one bad handoff does not stop the others or a run."""
    with store.session() as session:
        waiting = session.scalars(
            select(RunRecord.id).where(RunRecord.status == "done", RunRecord.handoff_status.in_(RETRY_STATUSES))
            .order_by(RunRecord.period, RunRecord.finished_at)
        ).all()
    outcomes = []
    for run_id in waiting:
        try:
            outcomes.append(hand_off_run(data_root, run_id, store, settings=settings, clock=clock))
        except HandoffError as exc:
            outcomes.append(HandoffOutcome(run_id, "failed", error=str(exc)))
    return outcomes
