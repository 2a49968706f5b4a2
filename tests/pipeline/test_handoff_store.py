"""hand_off_run on SQLite and PostgreSQL: the ledger row and the cases commit together, once."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from conftest_pg import *  # noqa: F403 (fixtures: ops_url, pg_base_url, ...)
from jingzhun.ops import open_store
from jingzhun.ops.models import MonitoringCase, RunRecord
from jingzhun.pipeline.handoff import HandoffError, hand_off_run
from jingzhun.settings import Settings
from jingzhun.store import DataFolder

RUN = "2025-03-0000abcd"


@pytest.fixture
def world(ops_url, tmp_path):
    store = open_store(ops_url)
    with store.session() as session:
        session.add(RunRecord(id=RUN, period="2025-03", engine="duckdb", policy_set_hash="p", input_hashes={},
                              status="done", stages={}, handoff_status="pending",
                              finished_at=dt.datetime(2026, 1, 1)))
    run_dir = DataFolder(tmp_path).run_dir(RUN)
    run_dir.mkdir(parents=True)
    rows = [("H1", "trigger.serious_illness", "new"), ("H2", "trigger.unsafe_house", "new"),
            ("H3", "trigger.dropout", "cleared")]
    pq.write_table(pa.table({
        "household_id": [r[0] for r in rows], "village_code": ["441481104201"] * 3, "head_name": ["甲", "乙", "丙"],
        "rule_id": [r[1] for r in rows], "kind": ["trigger"] * 3, "status": [r[2] for r in rows],
        "first_period": ["2025-03"] * 3, "evidence": ["{}"] * 3, "explain_zh": ["说明"] * 3,
    }), run_dir / "handoff.parquet")
    yield store, tmp_path
    store.dispose()


def test_handoff_commits_with_the_ledger_and_only_once(world):
    store, data = world
    settings = Settings(data=data)
    first = hand_off_run(data, RUN, store, settings=settings)
    assert first.status == "done" and first.counts["cases_opened"] == 2
    again = hand_off_run(data, RUN, store, settings=settings)
    assert again.status == "done" and again.counts == first.counts
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MonitoringCase)) == 2
        record = session.get(RunRecord, RUN)
        assert record.handoff_status == "done" and record.handoff["alerts"] == 3


def test_a_run_that_is_not_done_is_refused(world):
    store, data = world
    with store.session() as session:
        session.get(RunRecord, RUN).status = "running"
    with pytest.raises(HandoffError, match="not done"):
        hand_off_run(data, RUN, store)
