"""The case page a reviewer can decide on (evidence, visit findings, authorisation, notice dates, days
left, risk type), cases opened from 农户自主申报 / 基层干部排查, and destructive steps styled apart."""

from __future__ import annotations

import re

from .words import problems


def test_a_case_from_the_households_own_application_and_its_page(web):
    form = web.doc("cun", "/households/H2")
    assert "/cases/new?household=H2" in form.links
    empty = web.post("cun", "/cases/new", {"household": "H2"})
    assert empty.status_code == 422
    assert re.findall(r'id="err-(\w+)"', empty.text) == ["channel", "risk_type", "reason"]
    r = web.post(
        "cun",
        "/cases/new",
        {
            "household": "H2",
            "channel": "self_report",
            "risk_type": "因病",
            "reason": "户主住院，申请纳入监测",
        },
    )
    assert r.status_code == 303, r.text[:300]
    url = r.headers["location"].split("?")[0]
    page = web.doc("cun", url)
    fields = {row[i]: row[i + 1] for row in page.tables["case-fields"] for i in range(0, len(row) - 1, 2)}
    assert fields["渠道"] == "农户自主申报" and fields["风险类型"] == "因病"
    assert re.search(r"剩 1[45] 天", page.text)  # the time limit as days left
    assert "/cases/new?household=H2" not in web.doc("cun", "/households/H2").links  # one case in progress
    # the reviewer's evidence appears as the case moves: findings, authorisation number, notice dates
    version = page.forms[[f["action"] for f in page.forms].index(url + "/edit")]["fields"]["version"]
    edited = web.post("cun", url + "/edit", {"version": version, "risk_type": "因残"})
    assert edited.status_code == 303 and "err=" not in edited.headers["location"]
    page = web.doc("cun", url)
    visit = next(f for f in page.forms if f["fields"].get("action") == "record_visit")
    web.post(
        "cun",
        url + "/transition",
        {
            "action": "record_visit",
            "version": visit["fields"]["version"],
            "findings": "住院自付较高，收入下降",
            "authorisation_ref": "SQ-2025-017",
        },
    )
    page = web.doc("cun", url)
    assert "住院自付较高，收入下降" in page.text and "SQ-2025-017" in page.text and "因残" in page.text
    en = web.login("cun").get(url + "?lang=en").text
    assert "Home-visit findings" in en and "Case #" in en and "Cases #" not in en
    assert problems(en, "en") == []
    assert problems(web.login("cun").get(url + "?lang=zh").text, "zh") == []


def test_steps_that_end_a_case_are_styled_apart_and_confirmed(web):
    r = web.post(
        "cun",
        "/cases/new",
        {"household": "H2", "channel": "cadre_screening", "risk_type": "因灾", "reason": "房屋受损"},
    )
    text = web.login("cun").get(r.headers["location"].split("?")[0]).text
    close = re.search(r'<form[^>]*data-action="close"[^>]*>', text).group(0)
    assert "destructive" in close and "data-confirm=" in close
    assert re.search(r'data-action="close".*?<button type="submit" class="danger">', text, re.S)
    visit = re.search(r'<form[^>]*data-action="record_visit"[^>]*>', text).group(0)
    assert "data-confirm" not in visit
