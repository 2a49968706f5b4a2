"""A run's new alerts become clue cases (部门筛查预警), once, whatever happens to the process."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
from sqlalchemy import func, select

from jingzhun.ops import open_store
from jingzhun.ops.models import AuditEntry, CaseAlert, CaseEvent, MonitoringCase, RunRecord
from jingzhun.pipeline import run_period
from jingzhun.store import DataFolder

MONTHS = ["2025-01", "2025-02"]


def _store(data):
    return open_store(DataFolder(data).ops_url)


def _alerts(data, run_id, status):
    rows = pq.read_table(DataFolder(data).run_dir(run_id) / "alerts.parquet").to_pylist()
    return [a for a in rows if a["status"] == status]


def _counts(store):
    with store.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in (MonitoringCase, CaseEvent, CaseAlert))


def _check_month_one(store, data, run_id):
    """Every household with a new alert in the first month has one clue case with all its rules."""
    new = _alerts(data, run_id, "new")
    expected: dict[str, set[str]] = {}
    for a in new:
        expected.setdefault(a["household_id"], set()).add(a["rule_id"])
    with store.session() as session:
        cases = {c.household_id: c for c in session.scalars(select(MonitoringCase).where(MonitoringCase.run_id == run_id))}
    assert set(cases) == set(expected)
    village = {a["household_id"]: a["village_code"] for a in new}
    for household, case in cases.items():
        assert (case.state, case.channel, case.opened_by) == ("clue", "dept_alert", "system:pipeline")
        assert set(case.rule_ids) == expected[household] and case.village_code == village[household]
        assert case.head_name, household
    return cases


def test_new_alerts_become_cases_and_later_alerts_events_on_them(ran):
    data, runs = ran
    store = _store(data)
    first, second = runs[MONTHS[0]], runs[MONTHS[1]]
    month_one = _check_month_one(store, data, first.run_id)
    # the head's name is the registry's 户主
    members = pq.read_table(DataFolder(data).root / "datasets" / "member").to_pylist()
    heads = {m["household_id"]: m["name"] for m in members if m["relation"] == "户主"}
    assert all(case.head_name == heads[h] for h, case in month_one.items() if h in heads)

    new2 = _alerts(data, second.run_id, "new")
    cleared2 = _alerts(data, second.run_id, "cleared")
    with store.session() as session:
        opened2 = set(session.scalars(select(MonitoringCase.household_id).where(MonitoringCase.run_id == second.run_id)))
        open_per_household = session.execute(
            select(MonitoringCase.household_id, func.count()).where(MonitoringCase.state == "clue")
            .group_by(MonitoringCase.household_id)).all()
        noted = {(e.case_id, e.action) for e in session.scalars(
            select(CaseEvent).where(CaseEvent.action.in_(["dept_alert", "alert_cleared"])))}
        records = session.get(RunRecord, first.run_id), session.get(RunRecord, second.run_id)
    assert max(n for _, n in open_per_household) == 1, "never two open cases for a household"
    # month two: households that already had a case got an event, the others a case
    assert opened2 == {a["household_id"] for a in new2} - set(month_one)
    assert {(month_one[a["household_id"]].id, "dept_alert") for a in new2 if a["household_id"] in month_one} <= noted
    assert cleared2, "some alerts of the first month clear in the second"
    assert {(month_one[a["household_id"]].id, "alert_cleared") for a in cleared2
            if a["household_id"] in month_one} <= noted
    # the ledger says the handoff is done, with what it did
    assert [r.handoff_status for r in records] == ["done", "done"]
    assert records[0].handoff["cases_opened"] == len(month_one)
    assert records[1].handoff["cases_opened"] == len(opened2)
    assert first.handoff is not None and first.handoff.status == "done"


def test_killed_failed_and_superseded_handoffs_are_finished_once(data, monkeypatch):
    """Killed during the handoff → pending, finished by the next run; failed half-way → nothing stored,
    marked failed, finished by `jingzhun runs handoff`; a replaced run → superseded."""
    import signal
    import subprocess
    import sys

    from typer.testing import CliRunner

    import jingzhun.cases.handoff as cases_handoff
    from jingzhun.cli.main import app

    script = (
        "import time, jingzhun.pipeline.handoff as h\n"
        "def slow(*a, **k):\n"
        "    print('handing off', flush=True); time.sleep(60)\n"
        "h.hand_off_alerts = slow\n"
        "from jingzhun.pipeline import run_period\n"
        f"run_period({str(data)!r}, {MONTHS[0]!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "handing off"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = _store(data)
    with store.session() as session:
        (killed,) = session.scalars(select(RunRecord)).all()
    assert (killed.status, killed.handoff_status) == ("done", "pending")
    assert _counts(store) == (0, 0, 0)

    again = run_period(data, MONTHS[0])  # unchanged, and finishes the pending handoff
    assert again.status == "unchanged" and again.handoff.status == "done"
    month_one = _check_month_one(store, data, killed.id)
    after_one = _counts(store)

    # a handoff failing half-way (cases inserted, then an error) leaves nothing behind
    real = cases_handoff.bulk_insert

    def failing(session, model, rows):
        real(session, model, rows)
        if model is CaseAlert:
            raise RuntimeError("database went away")

    monkeypatch.setattr(cases_handoff, "bulk_insert", failing)
    second = run_period(data, MONTHS[1])
    monkeypatch.undo()
    assert second.status == "done" and second.handoff.status == "failed"
    assert "database went away" in second.handoff.error and "runs handoff" in second.handoff.error
    assert _counts(store) == after_one
    with store.session() as session:
        record = session.get(RunRecord, second.run_id)
        assert record.handoff_status == "failed" and "database went away" in record.handoff["error"]
        assert not session.scalar(select(func.count()).where(MonitoringCase.run_id == second.run_id))

    # a stale pending run of month one, replaced since, is superseded rather than handed over
    with store.session() as session:
        session.add(RunRecord(id="2025-01-00000000", period=MONTHS[0], engine="duckdb", policy_set_hash="x",
                              input_hashes={}, status="done", stages={}, handoff_status="pending",
                              started_at=dt.datetime(2000, 1, 1), finished_at=dt.datetime(2000, 1, 1)))

    runner = CliRunner()
    result = runner.invoke(app, ["runs", "handoff", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    outcomes = {h["run_id"]: h for h in json.loads(result.output)}
    assert outcomes["2025-01-00000000"]["status"] == "superseded"
    assert outcomes[second.run_id]["status"] == "done"
    new2 = _alerts(data, second.run_id, "new")
    assert outcomes[second.run_id]["counts"]["cases_opened"] == len({a["household_id"] for a in new2} - set(month_one))
    after_two = _counts(store)
    assert after_two[0] > after_one[0]

    # once done, handing over again is a no-op, and so is re-running the period
    result = runner.invoke(app, ["runs", "handoff", second.run_id, "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert run_period(data, MONTHS[1]).status == "unchanged"
    assert _counts(store) == after_two
    with store.session() as session:
        handoffs = session.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "handoff")).all()
    assert sorted(handoffs) == sorted([killed.id, second.run_id])
