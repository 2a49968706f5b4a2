"""The alerts inbox shows each alert's case, whether the monthly run opened it (channel dept_alert with
run id and rule ids, no alert id) or a clerk did from the inbox; households without a case in progress
keep the button that opens one."""

from __future__ import annotations

import re

from jingzhun.auth.users import Principal

from .world import RUN1, RUN2, V1, V3


def _open_as_run(web, household_id: str, village: str, head: str, run_id: str, rule: str) -> int:
    """A case opened the way the monthly run opens one: channel dept_alert, run id and rule ids, no alert id."""
    system = Principal(0, "pipeline", "county", "520121000000")
    case = web.app.state.jz.cases.open_case(
        system,
        None,
        household_id=household_id,
        village_code=village,
        head_name=head,
        channel="dept_alert",
        run_id=run_id,
        rule_ids=[rule],
    )
    return case["id"]


def test_inbox_links_cases_from_the_run_and_from_a_click_and_offers_the_rest(web):
    # January's run opened a case for H1's illness alert (persisting in February), February's for H5
    h1 = _open_as_run(web, "H1", V1, "张三", RUN1, "trigger.serious_illness")
    h5 = _open_as_run(web, "H5", V3, "冯一", RUN2, "trigger.disaster_loss")
    text = web.login("xian").get("/alerts").text
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<tr data-alert="[^~]+~(H\d)~[^"]+">(.*?)</tr>', text, re.S)
    }
    assert set(rows) == {"H1", "H3", "H5"}  # H4's alert was cleared
    assert f'href="/cases/{h1}"' in rows["H1"] and "open-button" not in rows["H1"]
    assert f'href="/cases/{h5}"' in rows["H5"] and "线索" in rows["H5"]
    assert "case-link" not in rows["H3"] and "open-button" in rows["H3"]
    # a click opens H3's case; the inbox then links it by its alert id
    r = web.post("xian", f"/alerts/{RUN2}~H3~trigger.serious_illness/case", {})
    h3 = int(re.match(r"/cases/(\d+)", r.headers["location"]).group(1))
    again = web.login("xian").get("/alerts").text
    assert f'data-case="{h3}"' in again and again.count("open-button") == 0


def test_a_closed_case_is_shown_and_a_new_one_can_be_opened(web):
    h1 = _open_as_run(web, "H1", V1, "张三", RUN2, "trigger.serious_illness")
    version = 1
    r = web.post(
        "cun", f"/cases/{h1}/transition", {"action": "close", "version": version, "reason": "不符合条件"}
    )
    assert r.status_code == 303 and "err=" not in r.headers["location"]
    text = web.login("cun").get("/alerts").text
    row = re.search(r'<tr data-alert="[^"]*~H1~[^"]*">(.*?)</tr>', text, re.S).group(1)
    assert f'href="/cases/{h1}"' in row and "已关闭" in row and "open-button" in row
    # province users read the inbox but open nothing
    assert "open-button" not in web.login("sheng").get("/alerts").text


def test_cases_handed_over_by_the_run_are_linked_from_their_alerts(web):
    """The monthly run's handoff (``cases.handoff``) opens cases for new alerts and notes new alerts on
    a household's open case: the inbox links each alert to the case it was handed to."""
    import datetime as dt

    import pyarrow.parquet as pq

    from jingzhun.cases.handoff import hand_off_alerts

    root = web.app.state.jz.settings.data
    # H3 already has a case opened by hand (self report); H5 has none
    system = Principal(0, "pipeline", "county", "520121000000")
    manual = web.app.state.jz.cases.open_case(
        system, None, household_id="H3", village_code="520121201202", head_name="周八", channel="self_report"
    )
    alerts = pq.read_table(root / "runs" / RUN2 / "alerts.parquet").to_pylist()
    with web.app.state.jz.store.session() as s:
        counts = hand_off_alerts(
            s,
            web.app.state.jz.settings,
            run_id=RUN2,
            period="2025-02",
            alerts=[a | {"head_name": a["household_id"]} for a in alerts],
            now=dt.datetime(2025, 3, 2),
        )
    assert (counts.cases_opened, counts.new_noted) == (1, 1)
    text = web.login("xian").get("/alerts").text
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<tr data-alert="[^~]+~(H\d)~[^"]+">(.*?)</tr>', text, re.S)
    }
    h5 = int(re.search(r'data-case="(\d+)"', rows["H5"]).group(1))
    assert h5 != manual["id"] and "open-button" not in rows["H5"]
    assert f'data-case="{manual["id"]}"' in rows["H3"]  # noted on the household's open case
    assert "open-button" in rows["H1"]  # January's alert, never handed over: open one by hand
    history = web.doc("xian", f"/cases/{manual['id']}").body_rows("events")
    assert [e[2] for e in history] == ["立案", "部门筛查新增预警"]
