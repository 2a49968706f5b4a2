"""Pages parsed as HTML: the rows, links and fields that matter, scoping by region, CSRF, language."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from jingzhun.ops.models import AuditEntry, LinkDecision

from .conftest import Doc
from .world import V1, V3

PAGES = [
    "/",
    "/dashboard",
    "/households",
    "/alerts",
    "/cases",
    "/review",
    "/imports",
    "/runs",
    "/reports",
    "/whatif",
    "/households/H1",
]


def test_signed_out_pages_redirect_to_login(shared_web):
    from fastapi.testclient import TestClient

    c = TestClient(shared_web.app, follow_redirects=False)
    r = c.get("/dashboard?region=" + V1)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/dashboard")


def test_wrong_password_shows_error_and_sets_no_session(shared_web):
    from fastapi.testclient import TestClient

    from .conftest import csrf_of

    c = TestClient(shared_web.app, follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "cun", "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and "jingzhun_session" not in r.cookies
    assert "用户名或密码错误" in Doc(r.text).text


def test_login_post_without_csrf_token_is_refused(shared_web):
    from fastapi.testclient import TestClient

    c = TestClient(shared_web.app, follow_redirects=False)
    r = c.post("/login", data={"username": "cun", "password": "pw-123456"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert "jingzhun_session" not in r.cookies


def test_cookie_form_post_with_wrong_csrf_token_changes_nothing(web):
    c = web.login("cun")
    r = c.post("/alerts/2025-02-bbbb0002~H1~trigger.serious_illness/case", data={"csrf_token": "forged"})
    assert r.status_code == 403
    assert web.doc("cun", "/cases").body_rows("cases") == []


def test_home_counts_what_needs_doing_in_scope(shared_web):
    township = shared_web.doc("xiang", "/")
    county = shared_web.doc("xian", "/")
    # latest run 2025-02: township T1 has H1 (persisting) and H3 (new); county also H5 (new)
    assert township.text.count("新增预警") == 1
    assert re.search(r"1 新增预警 / 2 在列", township.text)
    assert re.search(r"2 新增预警 / 3 在列", county.text)
    assert re.search(r"1 待复核比对", township.text)  # fp-1 (H1), not fp-3 (H5, other township)


def test_dashboard_drills_down_and_tables_match_the_data(shared_web):
    d = shared_web.doc("xian", "/dashboard")
    assert [r[0] for r in d.body_rows("children")] == ["梅铺乡", "石桥镇"]
    assert "/dashboard?region=520121201000&period=2025-02" in d.links
    t = shared_web.doc("xian", "/dashboard?region=520121201000")
    assert t.body_rows("children") == [["鹿溪村", "2", "5", "1"], ["桥屯村", "2", "3", "1"]]
    assert [r[0] for r in t.body_rows("table-type")] == ["脱贫不稳定户", "边缘易致贫户"]
    assert t.body_rows("table-month") == [["2025-01", "2", "0", "0"], ["2025-02", "1", "1", "1"]]
    assert t.body_rows("table-triggers") == [["新发重大疾病", "2", "1"]]
    coverage = {r[0]: r[1:] for r in t.body_rows("table-coverage")}
    assert coverage["基本医疗保险参保"] == ["6", "8", "75.0%"]  # H4's two members are not insured
    assert coverage["低保"][0] == "2" and coverage["五保/特困供养"][0] == "1"
    income = dict(map(tuple, t.body_rows("table-income")))
    assert income["不高于监测范围"] == "2"  # H1 (5000) and H3 (6800) against 7000/7200
    for chart in (
        "chart-type",
        "chart-cause",
        "chart-triggers",
        "chart-month",
        "chart-coverage",
        "chart-income",
    ):
        assert chart in t.ids and "data-option" in t.ids[chart]


def test_village_user_sees_only_their_village(shared_web):
    d = shared_web.doc("cun", "/dashboard")
    assert "children" not in d.tables
    assert d.ids["overview"] and re.search(r"2 户数", d.text)
    r = shared_web.login("cun").get("/dashboard?region=" + V3)
    assert r.status_code == 403
    alerts = shared_web.doc("cun", "/alerts")
    assert [r[0] for r in alerts.body_rows("alerts")] == ["张三"]
    found = shared_web.doc("cun", "/households?q=周八")  # a household of the other village
    assert found.body_rows("results") == []
    assert shared_web.login("cun").get("/households/H3").status_code == 403


def test_household_search_by_name_id_number_and_place_masks_ids(shared_web):
    by_name = shared_web.doc("xian", "/households?q=张三")
    assert [r[0] for r in by_name.body_rows("results")] == ["H1"]
    by_id = shared_web.doc("xian", "/households?q=52012119500101001X")
    assert [r[0] for r in by_id.body_rows("results")] == ["H1"]
    by_place = shared_web.doc("xian", "/households?q=龙井村")
    assert [r[0] for r in by_place.body_rows("results")] == ["H5", "H6"]
    assert "52012119500101001X" not in shared_web.login("xian").get("/households?q=张三").text


def test_household_page_shows_members_flags_conflicts_records_and_unmasks_only_when_allowed(web):
    d = web.doc("cun", "/households/H1")
    members = d.body_rows("members")
    assert [m[0] for m in members] == ["张三", "李四"] and members[0][1] == "5201**********001X"
    # the explanation names the department records counted, their dates and the file that brought them
    assert d.body_rows("flags") == [
        ["新发重大疾病", "风险触发", "住院自付2.3万元JS1：日期 2025-01-20，2025-02 报送（医保结算2025.csv）"]
    ]
    en = web.doc("cun", "/households/H1?lang=en")
    assert "JS1: dated 2025-01-20, received in 2025-02 (医保结算2025.csv)" in str(en.body_rows("flags"))
    assert "低保对象候选" in d.text
    assert d.body_rows("conflicts") == [["已死亡人员仍在册", "李四已死亡但仍在家庭成员名单中"]]
    assert d.body_rows("records")[0][:2] == ["医保结算", "JS1"]
    assert "个人自付金额23000.0" in d.body_rows("records")[0][2]  # field titles, not record_id=…; dumps
    assert "52012119500101001X" not in str(d.body_rows("records"))
    full = web.doc("cun", "/households/H1?unmask=true")
    assert full.body_rows("members")[0][1] == "52012119500101001X"
    assert web.login("sheng").get("/households/H1?unmask=true").status_code == 403
    with web.app.state.jz.store.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "household")).all()
    assert {"view", "view_unmasked"} <= set(actions)


def test_alert_opens_a_case_and_the_case_page_offers_the_roles_steps(web):
    d = web.doc("cun", "/alerts")
    form = next(f for f in d.forms if f["action"].startswith("/alerts/"))
    r = web.post("cun", form["action"], {})
    assert r.status_code == 303 and re.match(r"/cases/\d+", r.headers["location"])
    case_url = r.headers["location"].split("?")[0]
    case = web.doc("cun", case_url)
    steps = [f["fields"]["action"] for f in case.forms if f["action"].endswith("/transition")]
    assert steps == ["record_visit", "close"]
    assert "case-link" in web.login("cun").get("/alerts").text  # the inbox now links the case
    r = web.post(
        "cun",
        case_url + "/transition",
        {
            "action": "record_visit",
            "version": "1",
            "authorisation_ref": "授权书-001",
            "findings": "住院自付2.3万元",
        },
    )
    assert r.status_code == 303
    after = web.doc("cun", case_url)
    assert after.ids["state"] and "已入户核实" in after.text
    assert [e[2] for e in after.body_rows("events")] == ["立案", "入户核实"]
    stale = web.post(
        "cun",
        case_url + "/transition",
        {"action": "start_notice", "version": "1", "monitoring_type": "脱贫不稳定户"},
    )
    assert "err=" in stale.headers["location"]  # version 1 is stale now
    assert web.doc("xiang", "/cases").body_rows("cases")[0][1] == "张三"
    assert web.doc("cun2", "/cases").body_rows("cases") == []


def test_exports_are_xlsx_with_chinese_headers_and_audited(web):
    r = web.login("xiang").get("/alerts.xlsx")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:7] == ("户编号", "户主", "乡(镇)", "行政村", "行政村代码", "预警规则", "预警状态")
    assert sorted((r[0], r[3], r[5], r[6]) for r in rows[1:]) == [
        ("H1", "鹿溪村", "新发重大疾病", "持续"),
        ("H3", "桥屯村", "新发重大疾病", "新增"),
    ]
    new = openpyxl.load_workbook(io.BytesIO(web.login("xiang").get("/alerts.xlsx?status=new").content)).active
    assert [r[0] for r in list(new.iter_rows(values_only=True))[1:]] == ["H3"]  # what the list shows
    en = openpyxl.load_workbook(io.BytesIO(web.login("xiang").get("/alerts.xlsx?lang=en").content)).active
    header, *body = list(en.iter_rows(values_only=True))
    assert header[5:7] == ("Alert rule", "Alert status") and body[0][5] == "New serious illness"
    hh = openpyxl.load_workbook(io.BytesIO(web.login("xiang").get("/households.xlsx").content)).active
    assert all("*" in str(c) or c is None for c in [])  # households export has no ID column at all
    assert [c.value for c in hh[1]][:2] == ["户编号", "户主"]
    rep = openpyxl.load_workbook(io.BytesIO(web.login("xiang").get("/reports.xlsx").content))
    assert "保障覆盖" in rep.sheetnames
    with web.app.state.jz.store.session() as s:
        exports = s.scalars(select(AuditEntry.object_type).where(AuditEntry.action == "export")).all()
    assert {"alert", "household", "report"} <= set(exports)


def test_language_switch_by_query_and_cookie(web):
    c = web.login("xiang")
    zh = Doc(c.get("/").text)
    assert "监测看板" in zh.text and zh.ids["lang-switch"]["href"] == "?lang=en"
    r = c.get("/dashboard?lang=en")
    assert r.cookies.get("lang") == "en" and 'lang="en"' in r.text
    en = Doc(c.get("/").text)  # the cookie keeps English
    assert "Dashboard" in en.text and "监测看板" not in en.text
    assert "Awaiting township review" in en.text


@pytest.mark.parametrize("path", PAGES)
def test_no_page_references_an_external_url(shared_web, path):
    r = shared_web.login("xian").get(path)
    assert r.status_code == 200
    refs = re.findall(r'(?:src|href|action)="([^"]*)"', r.text)
    assert refs and all(not re.match(r"^(https?:)?//", u) for u in refs), refs
    for asset in re.findall(r'src="(/static/[^"]+)"', r.text):
        assert shared_web.login("xian").get(asset).status_code == 200


def test_review_queue_side_by_side_accept_is_recorded(web):
    d = web.doc("xiang", "/review")
    forms = [f for f in d.forms if f["action"] == "/review/decide"]
    assert [f["fields"]["fingerprint"] for f in forms] == ["fp-1"]  # fp-3 is in another township
    assert d.tables["table0"][1] == ["姓名", "张叁", "张三"]
    r = web.post("xiang", "/review/decide", {**forms[0]["fields"], "decision": "accept", "note": "同一人"})
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    with web.app.state.jz.store.session() as s:
        rows = s.scalars(select(LinkDecision)).all()
    assert [
        (x.fingerprint if hasattr(x, "fingerprint") else x.record_fingerprint, x.decision) for x in rows
    ] == [("fp-1", "accept")]
    assert "empty-queue" in web.doc("xiang", "/review").ids
    forged = web.post(
        "xiang",
        "/review/decide",
        {**forms[0]["fields"], "fingerprint": "fp-3", "person_id": "H5P0", "decision": "accept"},
    )
    assert forged.status_code == 404  # not in the user's queue: refused (and audited)
    with web.app.state.jz.store.session() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.actor == "xiang",
                                                  AuditEntry.action == "refused")).first() is not None


def test_reports_print_a_village_report_with_seed_style_figures(shared_web):
    d = shared_web.doc("xiang", "/reports?region=" + V1)
    assert "鹿溪村 防止返贫动态监测情况报告" in d.text
    summary = d.text
    assert "共有农户 2 户 5 人" in summary and "低保 2 人" in summary
    assert "@media print" in shared_web.login("xiang").get("/static/app.css").text


def test_whatif_form_accepts_any_line_and_reports_missing_imports(shared_web):
    d = shared_web.doc("xiang", "/whatif")
    line = d.ids  # the form's fields
    form = next(f for f in d.forms if f["action"] == "/whatif")
    assert set(form["fields"]) >= {"csrf_token", "period", "monitoring_line"}
    assert 'step="any"' in shared_web.login("xiang").get("/whatif").text and line
    r = shared_web.post("xiang", "/whatif", {"period": "2024-12", "monitoring_line": "12000"})
    assert r.status_code == 200
    assert "no registry imported for 2024-12" in Doc(r.text).text  # the world's extract is 2025-01
