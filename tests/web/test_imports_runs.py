"""Uploading files through the imports page, rejected rows, and runs started in a worker process."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from urllib.parse import unquote

import openpyxl
from sqlalchemy import select

from jingzhun.ops.models import AuditEntry, ImportRecord

from .conftest import Doc
from .world import V1

CSV = f"户编号,行政村代码,户类型\nH9,{V1},一般农户\nH10,abc,一般农户\n".encode()
# the first member's ID number has a wrong check digit, the third's lost its last digit in Excel: both
# rows are rejected, and neither number may be shown in full to anyone
MEMBERS = (
    "人编号,户编号,姓名,证件号码,与户主关系,联系电话\n"
    "P91,H1,甲一,52012119500101001X,户主,13912345678\n"
    "P92,H1,乙二,520121196001010021,配偶,13987654321\n"
    "P93,H1,丙三,52012119700101003,之子,13911112222\n"
).encode()


def test_upload_imports_valid_rows_and_quarantines_the_rest(web):
    # the county office imports; a village or township officer may not (nor a province viewer, below)
    for user in ("cun", "xiang"):
        refused = web.post(user, "/imports", {"dataset": "household", "period": "2025-03"},
                           files=[("files", ("农户信息.csv", CSV, "text/csv"))])
        assert refused.status_code == 403
        assert "upload-form" not in web.doc(user, "/imports").ids
    r = web.post(
        "xian",
        "/imports",
        {"dataset": "household", "period": "2025-03"},
        files=[("files", ("农户信息.csv", CSV, "text/csv"))],
    )
    assert r.status_code == 200, r.text[:500]
    d = Doc(r.text)
    row = d.body_rows("results")[0]
    assert row[:7] == ["农户信息.csv", "已导入", "农户信息", "2025-03", "2", "1", "1"]
    with web.app.state.jz.store.session() as s:
        rec = s.scalars(select(ImportRecord).where(ImportRecord.period == "2025-03")).one()
    assert rec.imported_by == "xian" and rec.rows_quarantined == 1
    page = web.doc("xian", f"/imports/{rec.id}")
    assert any("H10" in cell for r in page.body_rows("rejects") for cell in r)
    x = web.login("xian").get(f"/imports/{rec.id}/rejects.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert "错误原因" in [c.value for c in ws[1]] and ws.max_row == 2
    assert f"/imports/{rec.id}/rejects.xlsx" in web.doc("xian", "/").links  # home lists imports with rejects
    # rejected rows are personal data: village, township, province and admin users may not read them
    for user in ("cun", "xiang", "sheng", "root"):
        assert web.login(user).get(f"/imports/{rec.id}").status_code == 403
        assert web.login(user).get(f"/imports/{rec.id}/rejects.xlsx").status_code == 403
        assert f"/imports/{rec.id}/rejects.xlsx" not in web.doc(user, "/").links
    # a department may not read another feed's rejects, a province viewer may not upload
    assert web.login("yibao").get(f"/imports/{rec.id}").status_code == 403
    denied = web.post("sheng", "/imports", {}, files=[("files", ("x.csv", CSV, "text/csv"))])
    assert denied.status_code == 403


def test_an_upload_without_a_month_asks_for_it_once_and_stores_nothing(web):
    files = [("files", ("低保.csv", CSV, "text/csv")), ("files", ("医保结算2025年4月.csv", CSV, "text/csv"))]
    r = web.post("xian", "/imports", {"dataset": "household", "period": ""}, files=files)
    assert r.status_code == 422
    error = re.search(r'id="upload-error">(.*?)</p>', r.text).group(1)
    assert "低保.csv" in error and "医保结算" not in error
    assert "--period" not in r.text and "YYYY-MM folder" not in r.text
    with web.app.state.jz.store.session() as s:
        assert s.scalars(select(ImportRecord).where(ImportRecord.imported_by == "xian")).all() == []
    en = web.post("xian", "/imports?lang=en", {"dataset": "household"}, files=files[:1])
    assert "Choose the month of this upload" in re.search(r'id="upload-error">(.*?)</p>', en.text).group(1)
    # chosen once for the whole upload; a file whose name gives its month keeps it
    ok = web.post("xian", "/imports", {"dataset": "household", "period": "2025-03"}, files=files)
    assert ok.status_code == 200
    assert sorted((r[0], r[3]) for r in Doc(ok.text).body_rows("results")) == [
        ("低保.csv", "2025-03"),
        ("医保结算2025年4月.csv", "2025-04"),
    ]


def test_a_run_for_a_month_without_imports_is_refused_with_the_reason(web):
    r = web.post("xian", "/runs", {"period": "2025-06"})
    assert r.status_code == 303 and not web.app.state.web.workers
    page = web.doc("xian", r.headers["location"])
    assert "2025-06 没有导入任何部门数据" in page.text
    before = web.post("xian", "/runs?lang=en", {"period": "2024-12"})
    assert "No household register has been imported for 2024-12" in unquote(before.headers["location"])
    with web.app.state.jz.store.session() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "start_run")).all() == []


def test_run_is_started_in_a_worker_and_its_failure_is_shown(web):
    for user in ("cun", "xiang", "sheng", "yibao", "root"):  # only the county office starts the run
        assert web.post(user, "/runs", {"period": "2024-12"}).status_code == 403
        assert "start-run" not in web.doc(user, "/runs").ids
    bad = web.post("xian", "/runs", {"period": "2025-13"})
    assert bad.status_code == 303 and "err=" in bad.headers["location"]
    r = web.post("xian", "/runs", {"period": "2025-02"})
    assert r.status_code == 303
    target = unquote(r.headers["location"])
    assert target.startswith("/runs/watch?period=2025-02")
    watch = web.doc("xian", target)
    poll = watch.ids["progress"]["hx-get"]
    workers = web.app.state.web.workers
    assert len(workers) == 1 and workers[0].pid != 0
    deadline = time.time() + 120
    while True:
        frag = web.login("xian").get(poll).text
        if 'data-finished="yes"' in frag or time.time() > deadline:
            break
        assert 'hx-trigger="every 1s"' in frag  # still polling
        time.sleep(0.5)
    assert 'data-finished="yes"' in frag and "hx-trigger" not in frag
    # the world lacks columns a real run needs: the failure is told in words, the detail kept apart
    page = Doc(frag)
    assert "运行失败，出错的阶段：数据比对" in page.text and "rows={" not in frag
    assert "家庭成员信息 11" in page.text  # what a stage read, by dataset title
    with web.app.state.jz.store.session() as s:
        started = s.scalars(select(AuditEntry).where(AuditEntry.action == "start_run")).all()
    assert [(a.actor, a.object_id) for a in started] == [("xian", "2025-02")]
    assert web.post("sheng", "/runs", {"period": "2024-12"}).status_code == 403
    # the worker was reaped as soon as it ended: no zombie left behind, whoever polls
    deadline = time.time() + 10
    while workers[0].returncode is None and time.time() < deadline:
        time.sleep(0.1)
    assert workers[0].returncode is not None
    assert not Path(f"/proc/{workers[0].pid}").exists() or "Z" not in _proc_state(workers[0].pid)
    # a since stamp that is not one is refused, never read as a file name
    assert web.login("xian").get("/runs/progress?period=2025-02&since=x").status_code == 422
    assert web.login("xian").get("/runs/progress?period=2025-02&since=../../secret").status_code == 422
    assert web.login("xian").get("/runs/progress?period=2025-02&since=20241399T000000000000").status_code == 400


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (OSError, IndexError):
        return ""


def test_rejected_rows_are_masked_on_screen_and_in_the_xlsx_for_every_role(web):
    r = web.post("xian", "/imports", {"dataset": "member", "period": "2025-03"},
                 files=[("files", ("人员信息.csv", MEMBERS, "text/csv"))])
    assert r.status_code == 200, r.text[:300]
    with web.app.state.jz.store.session() as s:
        rec = s.scalars(select(ImportRecord).where(ImportRecord.dataset == "member",
                                                   ImportRecord.period == "2025-03")).one()
    assert rec.rows_quarantined == 2
    page = web.doc("xian", f"/imports/{rec.id}")
    cells = [c for row in page.body_rows("rejects") for c in row]
    x = web.login("xian").get(f"/imports/{rec.id}/rejects.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    xcells = [str(c.value) for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    for shown in (cells, xcells):
        text = " ".join(shown)
        for secret in ("52012119500101001X", "52012119700101003", "13912345678", "13911112222"):
            assert secret not in text
        assert "5201**********001X" in shown and "5201*********1003" in shown and "*******5678" in shown
        assert "甲一" in shown and "乙二" not in shown  # the rest of the row is there to act on
    with web.app.state.jz.store.session() as s:
        exports = s.scalars(select(AuditEntry).where(AuditEntry.action == "export",
                                                     AuditEntry.object_type == "import")).all()
    assert exports and exports[-1].details["masked"] is True
