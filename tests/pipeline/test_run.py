from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from jingzhun.errors import JingzhunError
from jingzhun.ops import open_store
from jingzhun.ops.models import AuditEntry, RunRecord
from jingzhun.pipeline import current_run, list_runs, run_period
from jingzhun.pipeline.export import export_run, export_table
from jingzhun.store import DataFolder

MONTHS = ["2025-01", "2025-02"]


def _store(data):
    return open_store(DataFolder(data).ops_url)


def test_two_months_in_sequence_diff_against_the_previous_run(ran):
    data, runs = ran
    first, second = runs[MONTHS[0]], runs[MONTHS[1]]
    assert first.status == second.status == "done"
    assert first.summary["households"] > 300 and first.summary["members"] == 1500
    assert first.summary["alerts"]["persisting"] == 0 and first.summary["alerts"]["cleared"] == 0
    assert second.summary["previous_run"] == first.run_id
    a1 = pq.read_table(DataFolder(data).run_dir(first.run_id) / "alerts.parquet").to_pylist()
    a2 = pq.read_table(DataFolder(data).run_dir(second.run_id) / "alerts.parquet").to_pylist()
    before = {(a["household_id"], a["rule_id"]) for a in a1}
    after = {(a["household_id"], a["rule_id"]): a for a in a2}
    assert before, "the first month finds something"
    for key, alert in after.items():
        expected = "cleared" if alert["status"] == "cleared" else ("persisting" if key in before else "new")
        assert alert["status"] == expected, (key, alert["status"])
        if alert["status"] == "persisting":
            assert alert["first_period"] == MONTHS[0]
    # every alert of the first month is either still there or explicitly cleared
    assert before <= set(after)
    stages = second.stages
    assert list(stages) == ["snapshot", "load", "link", "evaluate", "conflicts", "diff", "write"]
    assert all(s["seconds"] >= 0 for s in stages.values())


def test_rerun_is_idempotent_and_forced_rerun_gives_the_same_hash(data):
    from jingzhun.ops.models import CaseAlert, CaseEvent, MonitoringCase

    def counts():
        with _store(data).session() as session:
            return [session.scalar(select(func.count()).select_from(t)) for t in (MonitoringCase, CaseEvent, CaseAlert)]

    first = run_period(data, MONTHS[0])
    handed = counts()
    assert handed[0] > 0 and first.handoff.counts["cases_opened"] == handed[0]
    again = run_period(data, MONTHS[0])
    assert again.status == "unchanged" and again.run_id == first.run_id
    forced = run_period(data, MONTHS[0], force=True)
    assert forced.run_id != first.run_id
    assert forced.result_hash == first.result_hash
    assert current_run(_store(data), MONTHS[0]).id == forced.run_id
    # the alerts were handed to the case workflow once, not once per run
    assert counts() == handed
    assert forced.handoff.counts["cases_opened"] == 0 and forced.handoff.counts["already_handed"] > 0


def test_a_failing_run_leaves_the_previous_results_intact(data, monkeypatch):
    good = run_period(data, MONTHS[0])
    before = sorted(p.name for p in (DataFolder(data).root / "runs").iterdir())

    import jingzhun.policy

    def boom(*args, **kwargs):
        raise RuntimeError("killed in the middle of evaluation")

    monkeypatch.setattr(jingzhun.policy, "evaluate", boom)
    with pytest.raises(RuntimeError, match="killed"):
        run_period(data, MONTHS[0], force=True)
    monkeypatch.undo()
    store = _store(data)
    assert sorted(p.name for p in (DataFolder(data).root / "runs").iterdir()) == before
    assert current_run(store, MONTHS[0]).id == good.run_id
    failed = [r for r in list_runs(store) if r.status == "failed"]
    assert len(failed) == 1 and "killed" in failed[0].error
    # and the period can simply be run again
    assert run_period(data, MONTHS[0], force=True).result_hash == good.result_hash


def test_a_run_needs_a_registry(tmp_path):
    with pytest.raises(JingzhunError, match="no registry"):
        run_period(tmp_path / "empty", "2025-01")


def test_links_match_the_truth_of_the_generator(ran, county):
    """Links written by the run tie feed records to the right registered person (truth/ of the generator)."""
    from jingzhun.link import precision_recall

    data, runs = ran
    run = runs[MONTHS[0]]
    links = pq.read_table(DataFolder(data).run_dir(run.run_id) / "links.parquet")
    truth = pq.read_table(county / "truth" / "feed_truth.parquet")
    truth = truth.filter(pa.compute.is_in(truth.column("record_id"), links.column("record_id")))
    con = duckdb.connect()
    con.register("links", links)
    methods = dict(
        con.execute("select method, count(*) from links where band = 'accepted' group by 1").fetchall()
    )
    assert methods.get("exact", 0) > 0 and sum(methods.values()) > 0.6 * links.num_rows
    for feed in ("medical_claim", "employment", "enrolment"):
        feed_links = links.filter(pa.compute.equal(links.column("feed"), feed))
        quality = precision_recall(feed_links, truth, dataset=feed)
        assert quality["precision"] >= 0.99, (feed, quality)
        assert quality["recall"] >= 0.95, (feed, quality)
    assert run.summary["linkage"]["medical_claim"]["records"] > 0


def test_exports_mask_ids_unless_unmasked_and_are_audited(ran, tmp_path):
    data, runs = ran
    run = runs[MONTHS[0]]
    masked = export_table(data, run.run_id, "alerts").to_pylist()
    assert masked and all("*" in (r["户主证件号码"] or "*") for r in masked)
    n = export_run(data, run.run_id, "alerts", "xlsx", tmp_path / "alerts.xlsx", user="clerk")
    assert n == len(masked) and (tmp_path / "alerts.xlsx").stat().st_size > 0
    export_run(data, run.run_id, "flags", "csv", tmp_path / "flags.csv", unmask=True, user="clerk")
    text = (tmp_path / "flags.csv").read_text(encoding="utf-8-sig")
    assert "规则" in text.splitlines()[0]
    with _store(data).session() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "clerk"))]
    assert actions == ["export", "export_unmasked"]


def test_run_ledger_records_inputs_and_policy_version(ran):
    data, runs = ran
    run = runs[MONTHS[1]]
    with _store(data).session() as session:
        record = session.get(RunRecord, run.run_id)
    assert record.status == "done" and record.result_hash == run.result_hash
    assert set(record.input_hashes) >= {"household", "member", "medical_claim", "_fingerprint"}
    # feeds of both months are read for the second month, the registry once
    assert len(record.input_hashes["medical_claim"]) == 2
    assert len(record.policy_set_hash) == 64


def test_a_killed_run_leaves_no_results_and_is_marked_interrupted(data):
    """A run process killed with SIGKILL in the middle: no result folder appears, the ledger row is
    marked failed at the next run, which then succeeds."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time, jingzhun.policy as p\n"
        "real = p.evaluate\n"
        "def slow(*a, **k):\n"
        "    print('evaluating', flush=True); time.sleep(60); return real(*a, **k)\n"
        "p.evaluate = slow\n"
        "from jingzhun.pipeline import run_period\n"
        f"run_period({str(data)!r}, {MONTHS[0]!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "evaluating"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.1)
    runs_dir = DataFolder(data).root / "runs"
    assert not runs_dir.exists() or not any(p for p in runs_dir.iterdir() if not p.name.startswith(".tmp-"))
    store = _store(data)
    assert [r.status for r in list_runs(store)] == ["running"]
    done = run_period(data, MONTHS[0])
    assert done.status == "done"
    statuses = sorted(r.status for r in list_runs(store))
    assert statuses == ["done", "failed"]


def test_risk_checks_for_the_case_workflow_follow_the_latest_run(ran):
    from jingzhun.pipeline.risk import RunRiskChecks

    data, runs = ran
    latest = runs[MONTHS[1]]
    flags = pq.read_table(DataFolder(data).run_dir(latest.run_id) / "flags.parquet").to_pylist()
    eliminable = {f["household_id"] for f in flags if f["rule_id"] == "exit.risk_eliminable"}
    monitored = {f["household_id"] for f in flags if f["kind"] == "monitor"} - eliminable
    checks = RunRiskChecks(data, _store(data))
    assert monitored, "the county has monitored households whose risk is not eliminable"
    passed, details = checks(sorted(monitored)[0])
    assert not passed and details["run_id"] == latest.run_id
    if eliminable:
        passed, details = checks(sorted(eliminable)[0])
        assert passed and "exit.risk_eliminable" in details["passed_checks"]


def test_policy_explain_and_whatif_commands_on_a_run(ran):
    from typer.testing import CliRunner

    from jingzhun.cli.main import app

    data, runs = ran
    run = runs[MONTHS[1]]
    alerts = pq.read_table(DataFolder(data).run_dir(run.run_id) / "alerts.parquet").to_pylist()
    alert = next(a for a in alerts if a["status"] != "cleared")
    runner = CliRunner()
    result = runner.invoke(app, ["policy", "explain", "--data", str(data), "--run", run.run_id,
                                 "--household", alert["household_id"], "--all"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert alert["rule_id"] in result.output
    missing = runner.invoke(app, ["policy", "explain", "--data", str(data), "--run", run.run_id,
                                  "--household", "NO-SUCH-HOUSEHOLD"])
    assert missing.exit_code != 0
    whatif = runner.invoke(app, ["whatif", "--data", str(data), "--period", MONTHS[1],
                                 "--set", "monitoring_line=9000", "--json"])
    assert whatif.exit_code == 0, whatif.output
    report = json.loads(whatif.output)
    assert report["monitored_after"] >= report["monitored_before"]
