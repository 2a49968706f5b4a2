"""The case page's forms for assistance measures and follow-up visits: CSRF, field errors shown in
Chinese beside the fields with the typed values kept, refusals of the service, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from jingzhun.ops.models import AssistanceMeasure, AuditEntry, FollowUp, MonitoringCase

from .conftest import Doc

ALERT = "/alerts/2025-02-bbbb0002~H1~trigger.serious_illness/case"
T0 = dt.datetime(2025, 3, 10, 9, 0)


def _step(web, user: str, url: str, action: str, **fields: str) -> None:
    version = next(
        f["fields"]["version"] for f in web.doc(user, url).forms if f["fields"].get("action") == action
    )
    r = web.post(user, url + "/transition", {"action": action, "version": version, **fields})
    assert r.status_code == 303 and "err=" not in r.headers["location"], r.headers["location"]


@pytest.fixture
def monitored(web):
    """A case of H1 (village 鹿溪村) taken through the identification steps to 监测对象."""
    web.app.state.jz.clock = lambda: T0
    r = web.post("cun", ALERT, {})
    url = r.headers["location"].split("?")[0]
    _step(web, "cun", url, "record_visit", authorisation_ref="授权书-001", findings="住院")
    _step(web, "cun", url, "start_notice", monitoring_type="脱贫不稳定户")
    pass_notice_period(web, int(url.rsplit("/", 1)[1]))
    _step(web, "cun", url, "submit_to_township")
    _step(web, "xiang", url, "township_approve")
    _step(web, "xian", url, "county_confirm", monitoring_type="脱贫不稳定户")
    return url


def pass_notice_period(web, case_id: int, days: int = 6) -> None:
    """Let the notice period pass as time would: its start and end move back in the store."""
    back = dt.timedelta(days=days)
    with web.app.state.jz.store.session() as s:
        case = s.get(MonitoringCase, case_id)
        case.notice_start, case.notice_end = case.notice_start - back, case.notice_end - back


def _count(web, model) -> int:
    with web.app.state.jz.store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_measure_form_shows_chinese_errors_beside_fields_and_keeps_what_was_typed(web, monitored):
    d = web.doc("cun", monitored)
    assert "监测对象" in d.text
    form = next(f for f in d.forms if f["action"] == monitored + "/measures")
    assert set(form["fields"]) >= {"csrf_token", "measure_type", "helper", "start_date", "amount"}
    r = web.post(
        "cun",
        monitored + "/measures",
        {
            "measure_type": "",
            "helper": "王干部",
            "start_date": "2025-03-10",
            "end_date": "2025-03-01",
            "amount": "-3",
        },
    )
    assert r.status_code == 422
    page = Doc(r.text)
    assert page.ids["err-measure_type"] and "请选择帮扶措施类型" in page.text
    assert "结束日期不能早于开始日期" in page.text and "金额应为不小于 0 的数字" in page.text
    assert 'value="王干部"' in r.text and 'aria-invalid="true"' in r.text
    assert "err-helper" not in page.ids
    assert _count(web, AssistanceMeasure) == 0


def test_measure_is_recorded_listed_audited_and_unlocks_assistance(web, monitored):
    r = web.post(
        "cun",
        monitored + "/measures",
        {
            "measure_type": "就业",
            "helper": "王干部",
            "start_date": "2025/3/10",
            "amount": "1,200",
            "description": "公益性岗位",
        },
    )
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    d = web.doc("cun", monitored)
    assert d.body_rows("measures") == [["就业", "王干部", "1200.00", "2025-03-10", "", "公益性岗位"]]
    assert "start_assistance" in [f["fields"].get("action") for f in d.forms]
    with web.app.state.jz.store.session() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "assistance_measure")).all()
    assert [(a.actor, a.action, a.new_values["helper"]) for a in audit] == [("cun", "create", "王干部")]
    assert d.body_rows("events")[-1][1:3] == ["cun", "录入帮扶措施"]


def test_follow_up_form_refuses_a_future_date_then_records_the_visit(web, monitored):
    future = web.post(
        "cun", monitored + "/follow-ups", {"visit_date": "2025-03-20", "visitor": "", "findings": "收入稳定"}
    )
    assert future.status_code == 422
    page = Doc(future.text)
    assert "走访日期不能晚于今天" in page.text and "请填写走访人" in page.text
    assert "收入稳定" in future.text and _count(web, FollowUp) == 0
    ok = web.post(
        "cun",
        monitored + "/follow-ups",
        {"visit_date": "2025-03-08", "visitor": "李支书", "findings": "收入稳定"},
    )
    assert ok.status_code == 303
    assert web.doc("cun", monitored).body_rows("follow-ups") == [["2025-03-08", "李支书", "收入稳定"]]
    with web.app.state.jz.store.session() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.object_type == "follow_up")) == 1


def test_forms_need_csrf_a_writing_role_and_a_confirmed_case(web, monitored):
    good = {"measure_type": "教育", "helper": "王干部", "start_date": "2025-03-10"}
    forged = web.login("cun").post(monitored + "/measures", data={**good, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert web.post("sheng", monitored + "/measures", good).status_code == 403  # province reads only
    assert "measure-form" not in web.doc("sheng", monitored).ids
    assert _count(web, AssistanceMeasure) == 0
    # a case still at 线索 has no forms, and a post is refused on the page by the workflow
    other = web.post("xiang", "/alerts/2025-02-bbbb0002~H3~trigger.serious_illness/case", {})
    url = other.headers["location"].split("?")[0]
    assert "measure-form" not in web.doc("xiang", url).ids
    refused = web.post("xiang", url + "/measures", good)
    assert refused.status_code == 409 and "measure-refused" in Doc(refused.text).ids
    assert _count(web, AssistanceMeasure) == 0


def test_field_errors_in_english(web, monitored):
    web.login("cun").cookies.set("lang", "en")
    r = web.post("cun", monitored + "/measures", {"measure_type": "就业", "helper": "", "start_date": "x"})
    assert r.status_code == 422
    assert "Enter the responsible helper" in r.text and "Enter the date as year-month-day" in r.text
