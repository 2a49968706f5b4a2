"""The whole procedure through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from jingzhun.ops.models import AuditEntry

from .world import V1


def take(world, user, case, action, **fields):
    r = world.post(
        user, f"/cases/{case['id']}/transitions", {"action": action, "version": case["version"], **fields}
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_full_procedure(world):
    # a department alert from the February run opens the case (部门筛查预警)
    alerts = world.get("t1", "/alerts", params={"period": "2026-02"}).json()
    assert {a["household_id"] for a in alerts["items"]} == {"H1", "H2"} and alerts["total"] == 2
    r = world.post("t1", "/alerts/run-2026-02:H1/case")
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["state"], case["channel"], case["run_id"]) == ("clue", "dept_alert", "run-2026-02")
    assert (
        case["rule_ids"] == ["monitor.medical_oop_registered"]
        and case["evidence"]["evidence"]["out_of_pocket"] == 23000
    )
    assert world.post("t1", "/alerts/run-2026-02:H1/case").status_code == 409  # already open

    detail = world.get("v1", f"/cases/{case['id']}").json()
    assert detail["allowed_actions"] == ["record_visit", "close"]
    case = take(
        world, "v1", case, "record_visit", authorisation_ref="授权书-2026-001", findings="住院自付2.3万元"
    )
    case = take(world, "v1", case, "start_notice", monitoring_type="脱贫不稳定户")

    html = world.get("v1", f"/notices/{V1}")
    assert html.status_code == 200 and "张三" in html.text and "一村" in html.text
    xlsx = world.get("v1", f"/notices/{V1}", params={"format": "xlsx"})
    cells = [c.value for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows() for c in row]
    assert "张三" in cells and "52010219800101001X" not in cells
    one = world.get("v1", f"/cases/{case['id']}/notice")
    assert one.status_code == 200 and "张三" in one.text and "大病" not in one.text
    assert world.get("v2", f"/cases/{case['id']}/notice").status_code == 403

    r = world.post(
        "v1", f"/cases/{case['id']}/transitions", {"action": "submit_to_township", "version": case["version"]}
    )
    assert r.status_code == 409 and r.json()["error"] == "workflow"
    world.advance(days=5)
    case = take(world, "v1", case, "submit_to_township")
    assert (
        world.post(
            "v1",
            f"/cases/{case['id']}/transitions",
            {"action": "township_approve", "version": case["version"]},
        ).status_code
        == 403
    )
    case = take(world, "t1", case, "township_approve")
    case = take(world, "c1", case, "county_return", reason="补充收入证明")
    case = take(world, "t1", case, "township_approve")
    case = take(world, "c1", case, "county_confirm")
    assert case["state"] == "monitored" and case["monitoring_type"] == "脱贫不稳定户"

    r = world.post(
        "t1",
        f"/cases/{case['id']}/measures",
        {
            "measure_type": "健康",
            "helper": "李帮扶",
            "start_date": "2026-03-10",
            "amount": "5000.00",
            "description": "大病保险二次报销",
        },
    )
    assert r.status_code == 201, r.text
    case = take(world, "v1", world.get("v1", f"/cases/{case['id']}").json(), "start_assistance")
    r = world.post(
        "v1",
        f"/cases/{case['id']}/follow-ups",
        {"visit_date": "2026-03-07", "visitor": "驻村队员", "findings": "已报销，收入恢复"},
    )
    assert r.status_code == 201, r.text

    r = world.post(
        "v1",
        f"/cases/{case['id']}/transitions",
        {"action": "propose_elimination", "version": case["version"]},
    )
    assert r.status_code == 409 and "H1" in r.json()["message"]
    world.risk.passing.add("H1")
    case = take(world, "v1", case, "propose_elimination")
    case = take(world, "v1", case, "record_visit", findings="两不愁三保障及饮水安全均已保障")
    case = take(world, "v1", case, "start_notice")
    world.advance(days=6)
    case = take(world, "v1", case, "submit_to_township")
    case = take(world, "t1", case, "township_approve")
    case = take(world, "c1", case, "county_confirm")
    assert case["state"] == "eliminated"

    full = world.get("c1", f"/cases/{case['id']}").json()
    assert len(full["measures"]) == 1 and len(full["follow_ups"]) == 1
    assert [e["to_state"] for e in full["events"] if e["action"] == "county_confirm"] == [
        "monitored",
        "eliminated",
    ]
    listed = world.get("c1", "/cases", params={"state": "eliminated"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == case["id"]
    with world.store.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "case")).all()
    assert actions.count("transition:county_confirm") == 2 and "create" in actions and "view" in actions


def test_open_self_report_and_overdue_in_api(world):
    r = world.post(
        "v2",
        "/cases",
        {
            "household_id": "H2",
            "village_code": "520102001002",
            "head_name": "李四",
            "channel": "self_report",
            "risk_type": "因灾",
        },
    )
    assert r.status_code == 201, r.text
    assert world.get("c1", "/cases", params={"overdue": True}).json()["total"] == 0
    world.advance(days=21)  # province 52: 20 days
    body = world.get("c1", "/cases", params={"overdue": True}).json()
    assert body["total"] == 1 and body["items"][0]["overdue"] is True
    assert world.get("v2", f"/cases/{r.json()['id']}").json()["overdue"] is True


def test_optimistic_locking_over_http(world):
    case = world.post(
        "v1",
        "/cases",
        {"household_id": "H1", "village_code": V1, "head_name": "张三", "channel": "cadre_screening"},
    ).json()
    a = world.patch("v1", f"/cases/{case['id']}", {"version": case["version"], "reason": "务工中断"})
    b = world.patch("t1", f"/cases/{case['id']}", {"version": case["version"], "reason": "其他"})
    assert a.status_code == 200 and b.status_code == 409 and b.json()["error"] == "concurrent_modification"
    assert world.get("t1", f"/cases/{case['id']}").json()["reason"] == "务工中断"


def test_login_logout_throttle(world):
    c = world.client
    assert c.get("/api/v1/cases").status_code == 401
    headers = world.login("v1")
    assert c.get("/api/v1/auth/me", headers=headers).json()["scope"] == V1
    assert c.post("/api/v1/auth/logout", headers=headers).json() == {"revoked": True}
    assert c.get("/api/v1/auth/me", headers=headers).status_code == 401
    for name in ("v2", "no-such-user"):  # unknown names get exactly the same answers
        answers = [
            c.post("/api/v1/auth/login", json={"username": name, "password": "bad"}) for _ in range(6)
        ]
        assert [r.status_code for r in answers] == [401] * 5 + [429]
        assert answers[-1].headers["retry-after"] == "1" and answers[-1].json()["error"] == "too_many_attempts"
        assert answers[0].json() == {"error": "unauthenticated", "message": answers[0].json()["message"]}
    world.advance(seconds=1)
    assert c.post("/api/v1/auth/login", json={"username": "v2", "password": "s3cret-pw"}).status_code == 200


def test_cookie_session_is_signed_and_httponly(world):
    c = world.client
    r = c.post("/api/v1/auth/login", json={"username": "v1", "password": "s3cret-pw", "cookie": True})
    assert "httponly" in r.headers["set-cookie"].lower()
    assert c.get("/api/v1/auth/me").json()["username"] == "v1"  # cookie sent by the client
    c.cookies.set("jingzhun_session", r.json()["token"])  # an unsigned token in the cookie is refused
    assert c.get("/api/v1/auth/me").status_code == 401
    c.cookies.clear()


def test_ledgers_and_openapi(world):
    import datetime as dt

    from jingzhun.ops.models import ImportRecord, RunRecord

    with world.store.session() as s:
        s.add(
            RunRecord(id="run-2026-02", period="2026-02", engine="duckdb", policy_set_hash="h", status="done")
        )
        for ds in ("medical_claim", "enrolment"):
            s.add(
                ImportRecord(
                    id=f"imp-{ds}",
                    file_name=f"{ds}.xlsx",
                    content_hash=ds,
                    dataset=ds,
                    period="2026-02",
                    rows_in=10,
                    rows_accepted=9,
                    rows_quarantined=1,
                    imported_by="c1",
                    imported_at=dt.datetime(2026, 3, 1),
                )
            )
    assert world.get("c1", "/runs").json()["items"][0]["id"] == "run-2026-02"
    assert world.get("prov", "/runs/run-2026-02").json()["status"] == "done"
    assert world.get("c1", "/imports").json()["total"] == 2
    assert [i["dataset"] for i in world.get("dept", "/imports").json()["items"]] == ["medical_claim"]
    spec = world.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/cases/{case_id}/transitions" in spec["paths"]
    assert world.get("admin", "/audit", params={"action": "login"}).json()["total"] >= 1
    # a county officer reads the entries of users inside the county only; a village officer none
    world.login("c2"), world.login("v1")
    county_actors = {e["actor"] for e in world.get("c1", "/audit", params={"limit": 500}).json()["items"]}
    assert {"c1", "v1"} <= county_actors and not county_actors & {"c2", "admin", "dept"}
    assert world.get("v1", "/audit").status_code == 403
