"""The case service on SQLite and PostgreSQL: workflow, guards, locking, flags, history, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from jingzhun.auth.users import Principal
from jingzhun.cases import CaseInputError, CaseService
from jingzhun.errors import ConcurrentModification, PermissionDenied, WorkflowError
from jingzhun.ops.models import AuditEntry, CaseEvent, MonitoringCase

V1, V2, V_GZ = "441481104201", "441481104202", "520102001001"
VILLAGE = Principal(1, "v1", "village", V1)
VILLAGE2 = Principal(2, "v2", "village", V2)
TOWNSHIP = Principal(3, "t1", "township", "441481104000")
COUNTY = Principal(4, "c1", "county", "441481000000")
PROVINCE = Principal(5, "p", "province", "440000000000")


@pytest.fixture
def svc(store, settings, risk, clock) -> CaseService:
    return CaseService(store, settings, risk, clock)


def open_h1(svc: CaseService, household="H1", village=V1, who=VILLAGE, **kw) -> dict:
    args = {"head_name": "张三", "channel": "self_report", "risk_type": "因病"} | kw
    return svc.open_case(who, "10.0.0.1", household_id=household, village_code=village, **args)


def step(svc, who, case, action, **fields) -> dict:
    return svc.transition(who, "10.0.0.1", case["id"], action, case["version"], **fields)


def to_county_review(svc, clock, case) -> dict:
    case = step(svc, VILLAGE, case, "record_visit", authorisation_ref="SQ-001", findings="收入骤降")
    case = step(svc, VILLAGE, case, "start_notice", monitoring_type="突发严重困难户")
    clock.advance(days=5)
    case = step(svc, VILLAGE, case, "submit_to_township")
    return step(svc, TOWNSHIP, case, "township_approve")


def test_identification_and_elimination(svc, clock, risk, store):
    case = open_h1(svc)
    assert case["state"] == "clue" and case["version"] == 1
    case = to_county_review(svc, clock, case)
    case = step(svc, COUNTY, case, "county_confirm")
    assert case["state"] == "monitored" and case["monitoring_type"] == "突发严重困难户"
    assert case["authorisation_signed_at"] is not None and case["confirmed_at"] == clock.now
    with pytest.raises(WorkflowError, match="帮扶措施"):
        step(svc, VILLAGE, case, "start_assistance")
    svc.add_measure(
        TOWNSHIP,
        None,
        case["id"],
        measure_type="健康",
        helper="李四",
        start_date=dt.date(2026, 3, 20),
        amount="3000.5",
    )
    case = step(svc, VILLAGE, svc.get_case(VILLAGE, None, case["id"]), "start_assistance")
    risk.passing.add("H1")
    with pytest.raises(WorkflowError, match="回访"):  # not the day of confirmation: a follow-up first
        step(svc, VILLAGE, case, "propose_elimination")
    risk.passing.clear()
    svc.add_follow_up(
        VILLAGE, None, case["id"], visit_date=clock.now.date(), visitor="王五", findings="收入恢复"
    )
    with pytest.raises(WorkflowError, match="风险消除条件未满足"):
        step(svc, VILLAGE, case, "propose_elimination")
    risk.passing.add("H1")
    case = step(svc, VILLAGE, case, "propose_elimination")
    assert case["risk_check_details"]["income_above_line"] is True
    case = step(svc, VILLAGE, case, "record_visit", findings="两不愁三保障已落实")
    case = step(svc, VILLAGE, case, "start_notice")
    clock.advance(days=5)
    case = step(svc, VILLAGE, case, "submit_to_township")
    case = step(svc, TOWNSHIP, case, "township_approve")
    risk.passing.clear()  # the latest run no longer passes: the county cannot approve
    with pytest.raises(WorkflowError, match="H1"):
        step(svc, COUNTY, case, "county_confirm")
    risk.passing.add("H1")
    case = step(svc, COUNTY, case, "county_confirm")
    assert case["state"] == "eliminated" and case["eliminated_at"] == clock.now
    full = svc.get_case(COUNTY, None, case["id"])
    actions = [e["action"] for e in full["events"]]
    assert actions[:6] == [
        "open",
        "record_visit",
        "start_notice",
        "submit_to_township",
        "township_approve",
        "county_confirm",
    ]
    assert actions[-1] == "county_confirm" and "add_measure" in actions and "add_follow_up" in actions
    assert full["allowed_actions"] == []
    # a new case for the same household is possible once the previous one is final
    assert open_h1(svc)["state"] == "clue"


def test_roles_and_required_fields(svc, clock):
    case = open_h1(svc)
    with pytest.raises(PermissionDenied, match="county"):
        step(svc, TOWNSHIP, to_county_review(svc, clock, case), "county_confirm")
    case = open_h1(svc, household="H9")
    with pytest.raises(CaseInputError, match="authorisation_ref"):
        step(svc, VILLAGE, case, "record_visit", findings="x")
    with pytest.raises(WorkflowError, match="county_confirm"):
        step(svc, COUNTY, case, "county_confirm")
    with pytest.raises(PermissionDenied):
        step(svc, PROVINCE, case, "close", reason="x")
    with pytest.raises(PermissionDenied):
        step(svc, VILLAGE2, case, "close", reason="x")


def test_notice_must_run_its_days(svc, clock):
    case = step(svc, VILLAGE, open_h1(svc), "record_visit", authorisation_ref="SQ", findings="f")
    case = step(svc, VILLAGE, case, "start_notice", monitoring_type="边缘易致贫户")
    assert case["notice_end"] - case["notice_start"] == dt.timedelta(days=5)
    clock.advance(days=4, hours=23)
    with pytest.raises(WorkflowError, match="公示期未满"):
        step(svc, VILLAGE, case, "submit_to_township")
    clock.advance(hours=1)
    assert step(svc, VILLAGE, case, "submit_to_township")["state"] == "township_review"


def test_rejection_needs_reason_and_closes_without_deleting(svc, clock, store):
    case = to_county_review(svc, clock, open_h1(svc))
    with pytest.raises(CaseInputError, match="reason"):
        step(svc, COUNTY, case, "county_reject")
    back = step(svc, COUNTY, case, "county_return", reason="材料不全")
    assert back["state"] == "township_review"
    case = step(svc, TOWNSHIP, back, "township_reject", reason="收入高于监测范围")
    assert case["state"] == "closed" and case["closed_reason"] == "收入高于监测范围"
    with store.session() as s:
        assert s.get(MonitoringCase, case["id"]) is not None
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case["id"]).order_by(CaseEvent.id)
        ).all()
        assert [e.reason for e in events if e.action.endswith(("return", "reject"))] == [
            "材料不全",
            "收入高于监测范围",
        ]
    with pytest.raises(WorkflowError):
        step(svc, TOWNSHIP, case, "township_approve")


def test_one_active_case_per_household(svc):
    open_h1(svc)
    with pytest.raises(WorkflowError, match="H1"):
        open_h1(svc, channel="cadre_screening")


def test_department_alert_channel_needs_run(svc):
    with pytest.raises(CaseInputError, match="run_id"):
        open_h1(svc, channel="dept_alert")
    case = open_h1(
        svc,
        channel="dept_alert",
        run_id="run-2026-02",
        rule_ids=["monitor.medical_oop"],
        evidence={"out_of_pocket": 23000, "period": dt.date(2026, 2, 1)},
    )
    assert case["run_id"] == "run-2026-02" and case["evidence"]["period"] == "2026-02-01"


def test_optimistic_locking(svc, store):
    case = open_h1(svc)
    # two officers read version 1; the first change wins, the second gets a conflict and changes nothing
    first = svc.edit(VILLAGE, None, case["id"], case["version"], {"reason": "务工收入中断"})
    assert first["version"] == 2
    with pytest.raises(ConcurrentModification, match="version 1"):
        svc.edit(TOWNSHIP, None, case["id"], case["version"], {"reason": "other"})
    with pytest.raises(ConcurrentModification):
        step(svc, VILLAGE, case, "close", reason="x")
    again = svc.get_case(VILLAGE, None, case["id"])
    assert again["reason"] == "务工收入中断" and again["state"] == "clue" and again["version"] == 2


def test_optimistic_locking_in_sql(svc, store):
    """The UPDATE itself carries the version: a write that slipped in after the read is not overwritten."""
    case = open_h1(svc)
    with store.session() as s:  # someone else's committed change, after our read of version 1
        s.execute(
            text("UPDATE monitoring_case SET version = 2, reason = 'theirs' WHERE id = :id"),
            {"id": case["id"]},
        )
    with store.session() as s, pytest.raises(ConcurrentModification):
        svc._update(s, case["id"], 1, {"reason": "ours"}, svc.clock())
    assert svc.get_case(VILLAGE, None, case["id"])["reason"] == "theirs"


def test_overdue_flags_use_province_limits(svc, clock):
    gd = open_h1(svc)  # Guangdong: default 15 days
    gz_officer = Principal(9, "gz", "county", "520102000000")
    gz = open_h1(svc, household="H2", village=V_GZ, who=gz_officer)  # Guizhou: 20 days
    assert gz["due_at"] - gz["opened_at"] == dt.timedelta(days=20)
    clock.advance(days=16)
    items, total = svc.list_cases(COUNTY, None, overdue=True)
    assert [i["id"] for i in items] == [gd["id"]] and total == 1 and items[0]["overdue"] is True
    assert svc.list_cases(gz_officer, None, overdue=True) == ([], 0)
    clock.advance(days=5)
    assert [i["id"] for i in svc.list_cases(gz_officer, None, overdue=True)[0]] == [gz["id"]]
    assert svc.list_cases(COUNTY, None, overdue=False)[1] == 0


def test_follow_up_due_after_six_months(svc, clock):
    case = to_county_review(svc, clock, open_h1(svc))
    case = step(svc, COUNTY, case, "county_confirm")
    clock.advance(days=150)
    assert svc.list_cases(VILLAGE, None, follow_up_due=True)[1] == 0
    clock.advance(days=40)  # more than 6 months after confirmation, no visit yet
    due, total = svc.list_cases(VILLAGE, None, follow_up_due=True)
    assert total == 1 and due[0]["follow_up_due"] is True and due[0]["last_follow_up"] is None
    svc.add_follow_up(
        VILLAGE,
        None,
        case["id"],
        visit_date=clock.now.date() - dt.timedelta(days=3),
        visitor="王五",
        findings="稳定",
    )
    items, _ = svc.list_cases(VILLAGE, None)
    assert items[0]["follow_up_due"] is False and items[0][
        "last_follow_up"
    ] == clock.now.date() - dt.timedelta(days=3)


def test_scoped_lists(svc):
    open_h1(svc)
    open_h1(svc, household="H2", village=V2, who=VILLAGE2)
    assert [c["household_id"] for c in svc.list_cases(VILLAGE, None)[0]] == ["H1"]
    assert sorted(c["household_id"] for c in svc.list_cases(TOWNSHIP, None)[0]) == ["H1", "H2"]
    with pytest.raises(PermissionDenied):  # a department reads no cases at all (permission matrix)
        svc.list_cases(Principal(7, "d", "department", "medical_claim"), None)
    items, total = svc.list_cases(TOWNSHIP, None, limit=1, offset=1)
    assert total == 2 and len(items) == 1


def test_measures_validate_input(svc, clock):
    case = open_h1(svc)
    with pytest.raises(WorkflowError):
        svc.add_measure(
            VILLAGE, None, case["id"], measure_type="产业", helper="李四", start_date=dt.date(2026, 3, 1)
        )
    with pytest.raises(CaseInputError, match="measure_type"):
        svc.add_measure(
            VILLAGE, None, case["id"], measure_type="旅游", helper="李四", start_date=dt.date(2026, 3, 1)
        )


def test_every_change_is_audited_and_audit_is_append_only(svc, store):
    case = open_h1(svc)
    svc.edit(VILLAGE, "192.0.2.7", case["id"], 1, {"reason": "新原因"})
    with store.session() as s:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "case").order_by(AuditEntry.id)
        ).all()
        update = rows[-1]
        assert (update.action, update.actor, update.ip) == ("update", "v1", "192.0.2.7")
        assert update.old_values == {"reason": None, "version": 1}
        assert update.new_values == {"reason": "新原因", "version": 2}
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), store.session() as s:
            s.execute(text(sql))
    with store.session() as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.id == update.id)) == "v1"


def test_two_officers_at_once(svc, store):
    """Two threads write the same case from the same version: exactly one wins."""
    import threading

    case = open_h1(svc)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer(who: Principal, reason: str) -> None:
        barrier.wait()
        try:
            svc.edit(who, None, case["id"], 1, {"reason": reason})
            outcomes.append("ok")
        except ConcurrentModification:
            outcomes.append("conflict")

    threads = [threading.Thread(target=officer, args=(p, p.username)) for p in (VILLAGE, TOWNSHIP)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    final = svc.get_case(VILLAGE, None, case["id"])
    assert final["version"] == 2 and final["reason"] in ("v1", "t1")


def test_region_filter_is_a_code_prefix(svc):
    open_h1(svc)  # 441481104201
    other = Principal(8, "v10", "village", "441481104210")
    open_h1(svc, household="H10", village="441481104210", who=other)
    assert [c["household_id"] for c in svc.list_cases(TOWNSHIP, None, region="441481104201")[0]] == ["H1"]
    assert svc.list_cases(TOWNSHIP, None, region="441481104000")[1] == 2


def test_edit_refuses_empty_changes(svc):
    case = open_h1(svc)
    with pytest.raises(CaseInputError, match="nothing"):
        svc.edit(VILLAGE, None, case["id"], 1, {})
    with pytest.raises(CaseInputError, match="head_name"):
        svc.edit(VILLAGE, None, case["id"], 1, {"head_name": " "})
    with pytest.raises(CaseInputError, match="reason"):
        step(svc, VILLAGE, case, "close", reason="   ")
    assert svc.get_case(VILLAGE, None, case["id"])["version"] == 1
