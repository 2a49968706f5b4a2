"""Department screening alerts (部门筛查预警) handed to the case workflow in bulk.

After a monthly run, :func:`hand_off_alerts` turns the run's alerts into work for the villages, in the
caller's transaction:

- a household with **new** alerts and no open case gets a case in state 线索 (``clue``), channel
  ``dept_alert``, carrying the run id, the rule ids and the evidence, assigned to its village, with the
  province's time limit (``due_at``);
- a household with new alerts that already has an open case gets a ``dept_alert`` event on that case
  instead of a second case;
- a household with **cleared** alerts that has an open case gets an ``alert_cleared`` event (the case is
  not closed: a person decides).

Every alert handed over is recorded in ``case_alert`` (unique on period, household, rule and status),
so handing off the same period again (a re-run, ``--force``, a retry after a failure) changes nothing.
Rows are written with one DBAPI executemany per table (:func:`bulk_insert`), not one ORM round trip per case, and
every change is in the audit log under the system actor ``system:pipeline``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from jingzhun.audit import Actor
from jingzhun.cases import deadlines, workflow
from jingzhun.ops.models import AuditEntry, CaseAlert, CaseEvent, MonitoringCase
from jingzhun.settings import Settings

#: who the audit log and the case history name for changes made by the handoff
SYSTEM_ACTOR = Actor("system:pipeline", "system", None)

#: case-event actions written by the handoff (besides ``open``), with their labels
EVENT_ACTIONS: dict[str, str] = {
    "dept_alert": "部门筛查新增预警",
    "alert_cleared": "部门筛查预警已解除",
}

#: fields each alert handed over must carry (the run's ``handoff`` table)
ALERT_FIELDS = (
    "household_id", "village_code", "head_name", "rule_id", "kind", "status", "evidence", "explain_zh",
)

_CHUNK = 5000  # values per IN (...) list


@dataclass
class HandoffCounts:
    """What one handoff did (all zero when everything had been handed over before)."""

    cases_opened: int = 0
    new_noted: int = 0  # households with an open case that got a dept_alert event
    cleared_noted: int = 0  # households with an open case that got an alert_cleared event
    alerts_recorded: int = 0  # case_alert rows written
    already_handed: int = 0  # alerts of this period handed over before (skipped)
    cleared_without_case: int = 0  # cleared alerts of households without an open case (nothing to do)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def bulk_insert(session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``model``'s table with one DBAPI ``executemany``.

    Values go through each column type's own bind processor (dates, JSON), as SQLAlchemy would do, but
    without its per-row, per-parameter bookkeeping, which costs more than the database itself on
    SQLite (3–4× for 50,000 cases). ``None`` is SQL NULL, JSON columns included.
    """
    if not rows:
        return
    table = _table(model)
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    compiled = insert(table).values({n: bindparam(n) for n in names}).compile(dialect=dialect)
    processors = {n: table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names}
    active = [(n, f) for n, f in processors.items() if f is not None]

    def convert(row: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for name, process in active:
            value = out[name]
            if value is not None:
                out[name] = process(value)
        return out

    converted = [convert(row) for row in rows]
    if compiled.positional:
        order = compiled.positiontup or []
        connection.exec_driver_sql(str(compiled), [tuple(r[n] for n in order) for r in converted])
    else:
        connection.exec_driver_sql(str(compiled), converted)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _in(column: Any, values: Sequence[str]) -> Any:
    """``column IN ('a', 'b', ...)`` with the values written into the SQL: a prepared statement with
    thousands of parameters gets a generic plan on PostgreSQL that compares each row with every value."""
    return column.in_(bindparam("values", value=list(values), expanding=True, literal_execute=True))


def _evidence(text: Any) -> Any:
    """The evidence of an alert as stored in the run (JSON text; several entities joined by ' | '):
    parsed when it is JSON, so that it is JSON-safe either way (no dates or decimals)."""
    if not isinstance(text, str):
        return text
    with contextlib.suppress(ValueError):
        return json.loads(text)
    return text


def _alert_entry(alert: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule_id": alert["rule_id"],
        "kind": alert.get("kind"),
        "explanation": alert.get("explain_zh"),
        "evidence": _evidence(alert.get("evidence")),
    }


def open_cases_of(session: Session, household_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Household id → (id, state) of its open (neither eliminated nor closed) case."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(household_ids):
        rows = session.execute(
            select(MonitoringCase.household_id, MonitoringCase.id, MonitoringCase.state).where(
                _in(MonitoringCase.household_id, chunk), MonitoringCase.state.not_in(workflow.FINAL_STATES)
            )
        )
        found.update((household, (case_id, state)) for household, case_id, state in rows)
    return found


def alert_cases(session: Session, period: str, household_ids: Sequence[str] | None = None) -> dict[
        tuple[str, str], int]:
    """(household id, rule id) → the case that holds the *new* alert of ``period`` (opened by it or
    noted on it): what a page needs to show that an alert already has its case."""
    stmt = select(CaseAlert.household_id, CaseAlert.rule_id, CaseAlert.case_id).where(
        CaseAlert.period == period, CaseAlert.status == "new"
    )
    if household_ids is None:
        return {(h, r): c for h, r, c in session.execute(stmt)}
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(list(household_ids)):
        found.update(((h, r), c) for h, r, c in session.execute(stmt.where(_in(CaseAlert.household_id, chunk))))
    return found


def hand_off_alerts(
    session: Session,
    settings: Settings,
    *,
    run_id: str,
    period: str,
    alerts: Iterable[Mapping[str, Any]],
    now: dt.datetime,
    actor: Actor = SYSTEM_ACTOR,
    started_by: str | None = None,
) -> HandoffCounts:
    """Hand the ``new`` and ``cleared`` alerts of run ``run_id`` (period ``period``) to the workflow in
    ``session``'s transaction; see the module docstring. ``alerts`` carry :data:`ALERT_FIELDS`."""
    counts = HandoffCounts()
    done = {
        (h, r, s)
        for h, r, s in session.execute(
            select(CaseAlert.household_id, CaseAlert.rule_id, CaseAlert.status).where(CaseAlert.period == period)
        )
    }
    new: dict[str, list[Mapping[str, Any]]] = {}
    cleared: dict[str, list[Mapping[str, Any]]] = {}
    for alert in alerts:
        status = alert["status"]
        if status not in ("new", "cleared"):
            continue
        if (alert["household_id"], alert["rule_id"], status) in done:
            counts.already_handed += 1
            continue
        (new if status == "new" else cleared).setdefault(alert["household_id"], []).append(alert)
    for group in (*new.values(), *cleared.values()):
        group.sort(key=lambda a: a["rule_id"])
    if not new and not cleared:
        return counts

    open_before = open_cases_of(session, sorted(set(new) | set(cleared)))
    to_open = sorted(h for h in new if h not in open_before)

    events: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []

    def audit(action: str, case_id: int, *, new_values: Any = None, details: Any = None) -> None:
        audits.append({
            "at": now, "actor": actor.username, "role": actor.role, "action": action, "object_type": "case",
            "object_id": str(case_id), "ip": actor.ip, "old_values": None, "new_values": new_values,
            "details": details,
        })

    def link(case_id: int, household: str, items: list[Mapping[str, Any]], status: str, action: str) -> None:
        links.extend({
            "case_id": case_id, "period": period, "run_id": run_id, "household_id": household,
            "rule_id": a["rule_id"], "status": status, "action": action, "at": now,
        } for a in items)

    # 1. new cases, in one multi-row INSERT ... RETURNING per batch
    if to_open:
        rows = []
        for household in to_open:
            items = new[household]
            first = items[0]
            rule_ids = [a["rule_id"] for a in items]
            rows.append({
                "household_id": household,
                "village_code": first["village_code"],
                "head_name": first.get("head_name") or "",
                "channel": "dept_alert",
                "state": "clue",
                "reason": "；".join(a.get("explain_zh") or a["rule_id"] for a in items),
                "run_id": run_id,
                "alert_id": "~".join((run_id, household, rule_ids[0])),
                "rule_ids": rule_ids,
                "evidence": {"period": period, "run_id": run_id, "alerts": [_alert_entry(a) for a in items]},
                "opened_by": actor.username,
                "opened_at": now,
                "due_at": deadlines.due_at(now, settings.time_limit_days(first["village_code"])),
                "updated_at": now,
                "version": 1,
            })
        # executemany without RETURNING (SQLite would fall back to a statement per row); the ids are read
        # back by household, unique among open cases (index uq_case_open_household)
        bulk_insert(session, MonitoringCase, rows)
        opened = open_cases_of(session, to_open)
        for row in rows:
            household = row["household_id"]
            case_id = opened[household][0]
            payload = {"channel": "dept_alert", "run_id": run_id, "period": period, "rule_ids": row["rule_ids"]}
            events.append({
                "case_id": case_id, "at": now, "actor": actor.username, "action": "open", "from_state": None,
                "to_state": "clue", "reason": row["reason"], "payload": payload,
            })
            link(case_id, household, new[household], "new", "opened")
            audit("create", case_id, new_values={
                "household_id": household, "village_code": row["village_code"], "channel": "dept_alert",
                "state": "clue", "run_id": run_id, "rule_ids": row["rule_ids"], "due_at": row["due_at"].isoformat(),
            }, details={"period": period, "started_by": started_by})
        counts.cases_opened = len(rows)

    # 2. new alerts of households that already have an open case, 3. cleared alerts: events
    for status, groups, action in (("new", new, "dept_alert"), ("cleared", cleared, "alert_cleared")):
        for household in sorted(groups):
            if household not in open_before:
                if status == "cleared":
                    counts.cleared_without_case += len(groups[household])
                continue
            case_id, state = open_before[household]
            items = groups[household]
            rule_ids = [a["rule_id"] for a in items]
            payload = {"run_id": run_id, "period": period, "rule_ids": rule_ids,
                       "alerts": [_alert_entry(a) for a in items]}
            label = EVENT_ACTIONS[action]
            events.append({
                "case_id": case_id, "at": now, "actor": actor.username, "action": action, "from_state": state,
                "to_state": state, "payload": payload,
                "reason": f"{label}：" + "；".join(a.get("explain_zh") or a["rule_id"] for a in items),
            })
            link(case_id, household, items, status, "noted")
            audit("update", case_id, details={"event": action, "run_id": run_id, "period": period,
                                              "rule_ids": rule_ids})
            if status == "new":
                counts.new_noted += 1
            else:
                counts.cleared_noted += 1

    if events:
        bulk_insert(session, CaseEvent, events)
    if links:
        bulk_insert(session, CaseAlert, links)
    counts.alerts_recorded = len(links)
    audits.append({
        "at": now, "actor": actor.username, "role": actor.role, "action": "handoff", "object_type": "run",
        "object_id": run_id, "ip": actor.ip, "old_values": None, "new_values": None,
        "details": {"period": period, "started_by": started_by, **counts.as_dict()},
    })
    bulk_insert(session, AuditEntry, audits)
    return counts
