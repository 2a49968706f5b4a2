"""The review page of lists linked with `jingzhun link` (typed fields): upload the workbook, see both
records and every comparison's level and weight, decide; decisions are stored and audited."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from sqlalchemy import select

from jingzhun.link.explain import write_workbook
from jingzhun.ops.models import LinkDecision


def _workbook(path: Path) -> Path:
    pair = {"list": "survey", "right_id": "R1", "left_id": "P7", "band": "review", "method": "probabilistic",
            "probability": 0.8, "match_weight": 2.0, "prior_weight": -10.0, "second_weight": None,
            "right 姓名": "张叁", "left 姓名": "张三", "姓名__level": "same pinyin or same words in another order",
            "姓名__weight": 9.5, "right 证件号码": "520121198903062516", "left 证件号码": None,
            "证件号码__level": "null", "证件号码__weight": 0.0, "right dob": "1989-03-07", "left dob": "1989-03-06",
            "dob__level": "one digit or swap", "dob__weight": 2.5, "fingerprint": "f" * 64}
    table = pa.Table.from_pylist([pair])
    model = pa.table({"field": ["(prior)"], "type": [""], "level": ["x"], "m_probability": [None],
                      "u_probability": [None], "probability": [0.001], "match_weight": [-10.0]})
    return write_workbook(path, table, table, model, {"name": "survey"}, [])


def test_uploaded_workbook_shows_weights_and_decisions_are_stored(web, tmp_path):
    client = web.login("xiang")
    assert "upload-workbook" in web.doc("xiang", "/review/lists").ids
    book = _workbook(tmp_path / "survey.xlsx")
    token = client.cookies.get("jz_csrf")
    r = client.post("/review/lists", data={"csrf_token": token},
                    files={"workbook": ("survey.xlsx", book.read_bytes())})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    d = web.doc("xiang", url)
    rows = d.tables["table0"]
    assert rows[0] == ["比较项", "记录", "候选", "比较级别", "权重"]
    assert rows[1] == ["姓名", "张叁", "张三", "拼音相同或词序不同 / same pinyin or same words in another order", "+9.50"]
    assert rows[2][1] == "5201**********2516"  # ID numbers masked on the page
    import json
    import re

    option = json.loads(re.search(r"data-option='([^']+)'", web.login("xiang").get(url).text).group(1)
                        .replace("&#34;", '"').replace("&quot;", '"'))
    assert option["series"][1]["data"][-1] == 2.0  # the running total ends at the pair's match weight
    form = next(f for f in d.forms if f["action"].endswith("/decide"))
    r = web.post("xiang", form["action"], {**form["fields"], "decision": "reject", "note": "不同人"})
    assert r.status_code == 303 and "msg=" in r.headers["location"]
    with web.app.state.jz.store.session() as s:
        rows = [(x.feed, x.record_fingerprint, x.person_id, x.decision) for x in s.scalars(select(LinkDecision))]
    assert rows == [("survey", "f" * 64, "P7", "reject")]
    assert "empty-queue" in web.doc("xiang", url).ids
    again = web.post("xiang", form["action"], {**form["fields"], "decision": "accept"})
    assert "err=" in again.headers["location"]


def test_a_file_that_is_not_a_linkage_workbook_is_refused(web):
    client = web.login("xiang")
    token = client.cookies.get("jz_csrf")
    r = client.post("/review/lists", data={"csrf_token": token}, files={"workbook": ("x.xlsx", b"not a workbook")})
    assert r.status_code == 303 and "err=" in r.headers["location"]
