"""One paging dependency for the API and the pages: ``?limit=&offset=`` checked the same way, pagers that
keep the filters, exports that collect every page."""

from __future__ import annotations

import io

import openpyxl

from jingzhun.api.deps import Paging, all_pages


def test_all_pages_collects_every_item_up_to_the_cap():
    data = list(range(1234))
    seen = []

    def fetch(p: Paging) -> dict:
        seen.append((p.limit, p.offset))
        return {"items": data[p.offset : p.offset + p.limit], "total": len(data)}

    assert all_pages(fetch, size=500) == data and seen == [(500, 0), (500, 500), (500, 1000)]
    assert all_pages(fetch, cap=600, size=500) == data[:600]


def test_pages_and_api_page_the_same_way(shared_web):
    c = shared_web.login("xian")
    one = shared_web.doc("xian", "/households?limit=2&offset=2")
    assert [r[0] for r in one.body_rows("results")] == ["H3", "H4"]
    assert {"/households?q=&region=&offset=4&limit=2", "/households?q=&region=&offset=0&limit=2"} <= set(
        one.links
    )
    api = c.get("/api/v1/households?limit=2&offset=2").json()
    assert [i["household_id"] for i in api["items"]] == ["H3", "H4"] and api["total"] == 6
    assert c.get("/api/v1/households?limit=501").status_code == 422
    assert c.get("/api/v1/households?offset=-1").status_code == 422
    alerts = shared_web.doc("xian", "/alerts?limit=1")
    assert len(alerts.body_rows("alerts")) == 1 and "/alerts?offset=1&limit=1" in alerts.links
    narrowed = shared_web.doc("xian", "/alerts?limit=1&rule=trigger.serious_illness&sort=village&desc=1")
    assert "/alerts?rule=trigger.serious_illness&sort=village&desc=1&offset=1&limit=1" in narrowed.links


def test_exports_hold_every_row_not_one_page(shared_web):
    body = shared_web.login("xian").get("/households.xlsx?limit=1").content
    ws = openpyxl.load_workbook(io.BytesIO(body)).active
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == ["H1", "H2", "H3", "H4", "H5", "H6"]
