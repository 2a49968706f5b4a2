"""Department screening alerts handed to the workflow in bulk, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from jingzhun.auth.users import Principal
from jingzhun.cases import CaseService
from jingzhun.cases.handoff import SYSTEM_ACTOR, alert_cases, hand_off_alerts
from jingzhun.errors import WorkflowError
from jingzhun.ops.db import alembic_config
from jingzhun.ops.models import AuditEntry, CaseAlert, CaseEvent, MonitoringCase

V1, V_GZ = "441481104201", "520102001001"
VILLAGE = Principal(1, "v1", "village", V1)
RUN1, RUN2 = "2025-01-aaaaaaaa", "2025-02-bbbbbbbb"


def alert(household, rule, status="new", village=V1, head="张三", evidence='{"values": {"oop": 6000}}'):
    return {"household_id": household, "village_code": village, "head_name": head, "rule_id": rule,
            "kind": "trigger", "status": status, "evidence": evidence, "explain_zh": f"{rule} 说明"}


def hand(store, settings, clock, run_id, period, alerts):
    with store.session() as session:
        return hand_off_alerts(session, settings, run_id=run_id, period=period, alerts=alerts, now=clock())


def cases(store):
    with store.session() as session:
        return {c.household_id: c for c in session.scalars(select(MonitoringCase).order_by(MonitoringCase.id))}


def events(store, case_id):
    with store.session() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def test_new_alerts_open_one_clue_case_per_household(store, settings, clock):
    alerts = [alert("H1", "trigger.medical_oop_registered"), alert("H1", "monitor.unstable_lifted"),
              alert("H2", "trigger.unsafe_house", village=V_GZ, head="李四", evidence="not json"),
              alert("H3", "trigger.dropout", status="persisting")]
    counts = hand(store, settings, clock, RUN1, "2025-01", alerts)
    assert (counts.cases_opened, counts.alerts_recorded, counts.new_noted) == (2, 3, 0)
    found = cases(store)
    assert set(found) == {"H1", "H2"}, "persisting alerts open nothing"
    h1, h2 = found["H1"], found["H2"]
    assert (h1.state, h1.channel, h1.run_id, h1.village_code, h1.head_name) == (
        "clue", "dept_alert", RUN1, V1, "张三")
    assert h1.rule_ids == ["monitor.unstable_lifted", "trigger.medical_oop_registered"]
    assert h1.alert_id == f"{RUN1}~H1~monitor.unstable_lifted"
    assert h1.opened_by == SYSTEM_ACTOR.username and h1.opened_at == clock()
    assert h1.evidence["alerts"][1]["evidence"] == {"values": {"oop": 6000}}
    assert h2.evidence["alerts"][0]["evidence"] == "not json"
    # the province's time limit: 15 days by default, 20 in Guizhou (52)
    assert h1.due_at == clock() + dt.timedelta(days=15) and h2.due_at == clock() + dt.timedelta(days=20)
    assert [(e.action, e.to_state, e.actor) for e in events(store, h1.id)] == [
        ("open", "clue", "system:pipeline")]
    with store.session() as session:
        audit = session.execute(select(AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id)
                                .where(AuditEntry.actor == "system:pipeline").order_by(AuditEntry.id)).all()
        assert audit == [("create", "case", str(h1.id)), ("create", "case", str(h2.id)), ("handoff", "run", RUN1)]
        # absent JSON values are SQL NULL, as the ORM writes them
        assert session.scalar(select(func.count()).where(AuditEntry.old_values.is_(None))) == 3
        assert alert_cases(session, "2025-01") == {
            ("H1", "monitor.unstable_lifted"): h1.id, ("H1", "trigger.medical_oop_registered"): h1.id,
            ("H2", "trigger.unsafe_house"): h2.id}
        assert alert_cases(session, "2025-01", ["H2"]) == {("H2", "trigger.unsafe_house"): h2.id}
    # the village sees its case in its list like any other
    svc = CaseService(store, settings, clock=clock)
    listed, total = svc.list_cases(VILLAGE, None, channel="dept_alert")
    assert total == 1 and listed[0]["household_id"] == "H1" and listed[0]["overdue"] is False


def test_a_household_with_an_open_case_gets_events_not_a_second_case(store, settings, clock):
    svc = CaseService(store, settings, clock=clock)
    own = svc.open_case(VILLAGE, None, household_id="H1", village_code=V1, head_name="张三", channel="self_report")
    clock.advance(days=1)
    counts = hand(store, settings, clock, RUN1, "2025-01", [alert("H1", "trigger.serious_illness")])
    assert (counts.cases_opened, counts.new_noted) == (0, 1)
    assert list(cases(store)) == ["H1"]
    noted = events(store, own["id"])[-1]
    assert (noted.action, noted.from_state, noted.to_state, noted.actor) == (
        "dept_alert", "clue", "clue", "system:pipeline")
    assert noted.payload["rule_ids"] == ["trigger.serious_illness"] and noted.payload["run_id"] == RUN1
    assert "trigger.serious_illness 说明" in noted.reason
    with store.session() as session:
        assert alert_cases(session, "2025-01") == {("H1", "trigger.serious_illness"): own["id"]}
    # the case itself is unchanged (no version bump: officers working on it are not disturbed)
    assert svc.get_case(VILLAGE, None, own["id"])["version"] == own["version"]


def test_cleared_alerts_are_noted_on_the_open_case_which_stays_open(store, settings, clock):
    hand(store, settings, clock, RUN1, "2025-01", [alert("H1", "trigger.serious_illness")])
    clock.advance(days=30)
    counts = hand(store, settings, clock, RUN2, "2025-02", [
        alert("H1", "trigger.serious_illness", status="cleared"),
        alert("H9", "trigger.unsafe_house", status="cleared"),  # no case: nothing to note
        alert("H1", "trigger.chronic_outpatient"),  # a new alert on the same case
    ])
    assert (counts.cases_opened, counts.cleared_noted, counts.new_noted, counts.cleared_without_case) == (0, 1, 1, 1)
    case = cases(store)["H1"]
    assert case.state == "clue" and case.closed_at is None
    assert [e.action for e in events(store, case.id)] == ["open", "dept_alert", "alert_cleared"]


def test_handing_off_a_period_again_changes_nothing(store, settings, clock):
    alerts = [alert("H1", "trigger.serious_illness"), alert("H2", "trigger.unsafe_house")]
    hand(store, settings, clock, RUN1, "2025-01", alerts)
    with store.session() as session:
        before = [session.scalar(select(func.count()).select_from(t)) for t in (MonitoringCase, CaseEvent, CaseAlert)]
    again = hand(store, settings, clock, RUN1, "2025-01", alerts)
    forced = hand(store, settings, clock, "2025-01-cccccccc", "2025-01", [*alerts, alert("H3", "trigger.dropout")])
    assert (again.cases_opened, again.already_handed) == (0, 2)
    assert (forced.cases_opened, forced.already_handed) == (1, 2)  # only what the forced run adds
    with store.session() as session:
        after = [session.scalar(select(func.count()).select_from(t)) for t in (MonitoringCase, CaseEvent, CaseAlert)]
    assert after == [before[0] + 1, before[1] + 1, before[2] + 1]


def test_a_closed_case_does_not_stop_a_new_clue(store, settings, clock):
    svc = CaseService(store, settings, clock=clock)
    hand(store, settings, clock, RUN1, "2025-01", [alert("H1", "trigger.serious_illness")])
    first = cases(store)["H1"]
    svc.transition(VILLAGE, None, first.id, "close", first.version, reason="核实不符合条件")
    counts = hand(store, settings, clock, RUN2, "2025-02", [alert("H1", "trigger.unsafe_house")])
    assert counts.cases_opened == 1
    with store.session() as session:
        states = session.execute(select(MonitoringCase.state).where(MonitoringCase.household_id == "H1")
                                 .order_by(MonitoringCase.id)).scalars().all()
    assert states == ["closed", "clue"]


def test_thousands_of_alerts_take_a_few_statements_not_one_per_case(store, settings, clock):
    alerts = [alert(f"H{i:05d}", rule) for i in range(3000) for rule in ("trigger.a", "trigger.b")]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        counts = hand(store, settings, clock, RUN1, "2025-01", alerts)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert counts.cases_opened == 3000 and counts.alerts_recorded == 6000
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(statements) < 80, len(statements)
    assert len(inserts) < 60, len(inserts)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MonitoringCase)) == 3000
        assert session.scalar(select(func.count()).where(AuditEntry.action == "create")) == 3000
        ids = dict(session.execute(select(MonitoringCase.household_id, MonitoringCase.id)).all())
        linked = dict(session.execute(select(CaseAlert.household_id, CaseAlert.case_id)
                                      .where(CaseAlert.rule_id == "trigger.b")).all())
    assert linked == ids, "every alert points at its own household's case"


def test_the_database_refuses_a_second_open_case_for_a_household(store, settings, clock):
    svc = CaseService(store, settings, clock=clock)
    hand(store, settings, clock, RUN1, "2025-01", [alert("H1", "trigger.serious_illness")])
    with pytest.raises(WorkflowError, match="H1"):
        svc.open_case(VILLAGE, None, household_id="H1", village_code=V1, head_name="张三", channel="self_report")
    row = {"household_id": "H1", "village_code": V1, "head_name": "张三", "channel": "self_report",
           "opened_by": "x", "due_at": clock(), "state": "clue"}
    with pytest.raises(IntegrityError), store.session() as session:  # behind the service's back
        session.add(MonitoringCase(**row))
    with store.session() as session:  # a closed one is history, not an open case
        session.add(MonitoringCase(**(row | {"state": "closed"})))


def test_migration_0003_goes_down_and_up_and_names_duplicate_open_cases(store):
    def migrate(target: str, up: bool) -> None:
        with store.engine.begin() as connection:
            config = alembic_config(store.url)
            config.attributes["connection"] = connection
            (command.upgrade if up else command.downgrade)(config, target)

    migrate("0002", up=False)
    row = {"village_code": V1, "head_name": "张三", "channel": "self_report", "opened_by": "x",
           "due_at": dt.datetime(2026, 1, 1), "state": "clue", "updated_at": dt.datetime(2026, 1, 1), "version": 1,
           "opened_at": dt.datetime(2026, 1, 1)}
    with store.engine.begin() as conn:
        table = MonitoringCase.__table__
        conn.execute(table.insert(), [row | {"household_id": "H7"}, row | {"household_id": "H7"}])
    with pytest.raises(RuntimeError, match=r"H7 \(2 cases\)"):
        migrate("0003", up=True)
    with store.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == 2).values(state="closed"))
    migrate("0003", up=True)
