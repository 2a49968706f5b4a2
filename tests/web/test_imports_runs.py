"""Uploading files through the imports page, rejected rows, and runs started in a worker process."""

from __future__ import annotations

import io
import re
import time
from urllib.parse import unquote

import openpyxl
from sqlalchemy import select

from jingzhun.ops.models import AuditEntry, ImportRecord

from .conftest import Doc
from .world import V1

CSV = f"户编号,行政村代码,户类型\nH9,{V1},一般农户\nH10,abc,一般农户\n".encode()


def test_upload_imports_valid_rows_and_quarantines_the_rest(web):
    r = web.post(
        "xiang",
        "/imports",
        {"dataset": "household", "period": "2025-03"},
        files=[("files", ("农户信息.csv", CSV, "text/csv"))],
    )
    assert r.status_code == 200, r.text[:500]
    d = Doc(r.text)
    row = d.body_rows("results")[0]
    assert row[:7] == ["农户信息.csv", "已导入", "household", "2025-03", "2", "1", "1"]
    with web.app.state.jz.store.session() as s:
        rec = s.scalars(select(ImportRecord).where(ImportRecord.period == "2025-03")).one()
    assert rec.imported_by == "xiang" and rec.rows_quarantined == 1
    page = web.doc("xiang", f"/imports/{rec.id}")
    assert any("H10" in cell for r in page.body_rows("rejects") for cell in r)
    x = web.login("xiang").get(f"/imports/{rec.id}/rejects.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert "错误原因" in [c.value for c in ws[1]] and ws.max_row == 2
    assert f"/imports/{rec.id}/rejects.xlsx" in web.doc("xiang", "/").links  # home lists imports with rejects
    # a department may not read another feed's rejects, a province viewer may not upload
    assert web.login("yibao").get(f"/imports/{rec.id}").status_code == 403
    denied = web.post("sheng", "/imports", {}, files=[("files", ("x.csv", CSV, "text/csv"))])
    assert denied.status_code == 403


def test_run_is_started_in_a_worker_and_its_failure_is_shown(web):
    bad = web.post("xiang", "/runs", {"period": "2025-13"})
    assert bad.status_code == 303 and "err=" in bad.headers["location"]
    r = web.post("xiang", "/runs", {"period": "2024-12"})
    assert r.status_code == 303
    target = unquote(r.headers["location"])
    assert target.startswith("/runs/watch?period=2024-12")
    watch = web.doc("xiang", target)
    poll = watch.ids["progress"]["hx-get"]
    workers = web.app.state.web.workers
    assert len(workers) == 1 and workers[0].pid != 0
    deadline = time.time() + 120
    while True:
        frag = web.login("xiang").get(poll).text
        if 'data-finished="yes"' in frag or time.time() > deadline:
            break
        assert 'hx-trigger="every 1s"' in frag  # still polling
        time.sleep(0.5)
    assert 'data-finished="yes"' in frag and "hx-trigger" not in frag
    # nothing was imported for 2024-12 or before: the pipeline refuses, the page says so
    assert "运行失败" in frag and re.search(r"no registry", frag)
    with web.app.state.jz.store.session() as s:
        started = s.scalars(select(AuditEntry).where(AuditEntry.action == "start_run")).all()
    assert [(a.actor, a.object_id) for a in started] == [("xiang", "2024-12")]
    assert web.post("sheng", "/runs", {"period": "2024-12"}).status_code == 403
