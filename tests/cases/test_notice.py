"""The village notice never shows ID numbers, phones, bank accounts, health status or officers' notes."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from jingzhun.cases import notice
from jingzhun.catalog import ENUMS
from jingzhun.ops.models import MonitoringCase

ID_NUMBER, PHONE, BANK = "44148119800101001X", "13912345678", "6222021234567890123"
HEALTH = [h for h in ENUMS["health"] if h != "健康"] + ["住院", "癌症", "尿毒症"]


def cases() -> list[MonitoringCase]:
    start = dt.datetime(2026, 3, 2, 8)
    note = f"户主{ID_NUMBER}患大病住院，电话{PHONE}，账户{BANK}，残疾二级"
    return [
        MonitoringCase(
            id=1,
            household_id="H1",
            village_code="441481104201",
            head_name="张三",
            state="in_notice",
            monitoring_type="突发严重困难户",
            risk_type="因病",
            reason=note,
            notice_start=start,
            notice_end=start + dt.timedelta(days=5),
            evidence={"id_number": ID_NUMBER},
        ),
        MonitoringCase(
            id=2,
            household_id="H2",
            village_code="441481104201",
            head_name="李四",
            state="elim_notice",
            monitoring_type="边缘易致贫户",
            risk_type="因残",
            reason=f"残疾 {PHONE}",
            notice_start=start,
            notice_end=start + dt.timedelta(days=5),
        ),
    ]


def assert_private_free(text: str) -> None:
    for secret in (ID_NUMBER, PHONE, BANK, "1X", "5678", "0123", *HEALTH):
        assert secret not in text, secret


def test_html_notice_shows_only_public_fields():
    html = notice.render_html(cases(), "441481104201", "石坑村", today=dt.date(2026, 3, 2))
    assert "张三" in html and "李四" in html and "石坑村" in html
    assert "突发严重困难户" in html and "家庭刚性支出大幅增加" in html
    assert "拟纳入防止返贫监测对象公示" in html and "拟消除返贫致贫风险公示" in html
    assert "2026-03-02 至 2026-03-07" in html
    assert_private_free(html)


def test_xlsx_notice_shows_only_public_fields():
    wb = load_workbook(io.BytesIO(notice.render_xlsx(cases(), "441481104201", "石坑村")))
    cells = [str(c.value) for row in wb.active.iter_rows() for c in row if c.value is not None]
    assert cells[2:7] == ["公示类型", "户主姓名", "所在村", "监测类型", "主要原因"]
    assert cells[7:12] == [
        "拟纳入防止返贫监测对象公示",
        "张三",
        "石坑村",
        "突发严重困难户",
        "家庭刚性支出大幅增加",
    ]
    assert_private_free(" ".join(cells))


@pytest.mark.parametrize("risk_type", ENUMS["risk_type"])
def test_every_plain_reason_is_free_of_health_words(risk_type):
    assert notice.plain_reason(risk_type) in notice.PLAIN_REASONS.values()
    assert_private_free(notice.plain_reason(risk_type))


def test_html_escapes_names():
    case = cases()[0]
    case.head_name = "<script>x</script>"
    assert "<script>x" not in notice.render_html([case], "441481104201")
