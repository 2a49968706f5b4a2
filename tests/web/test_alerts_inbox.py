"""The alerts inbox narrowed as a county office works: by status, region at any level, rule, period and
case state, with the count of each choice, place names, sortable columns, the pager keeping the filters,
the export of what is filtered, and the home card opening the filtered list."""

from __future__ import annotations

import io
import re

import openpyxl

from .world import T1, V2


def households(doc) -> list[str]:
    return [re.search(r"~(H\d)~", a).group(1) for a in re.findall(r'data-alert="([^"]+)"', doc)]


def test_filters_counts_places_and_order(shared_web):
    c = shared_web.login("xian")
    every = c.get("/alerts").text
    assert sorted(households(every)) == ["H1", "H3", "H5"]
    assert "梅铺乡 鹿溪村" in every and ">520121201201<" not in every  # places by name, not by code
    # each choice shows its count under the other filters
    assert re.search(r'<option value="new"[^>]*>新增 \(2\)</option>', every)
    assert re.search(r'<option value="persisting"[^>]*>持续 \(1\)</option>', every)
    assert re.search(r'<option value="trigger.serious_illness"[^>]*>新发重大疾病 \(2\)</option>', every)
    assert re.search(rf'<option value="{T1}"[^>]*>梅铺乡 \(2\)</option>', every)

    assert households(c.get("/alerts?status=new").text) == ["H3", "H5"]
    assert households(c.get(f"/alerts?region={T1}").text) == ["H3", "H1"]  # new first
    assert households(c.get(f"/alerts?region={V2}").text) == ["H3"]
    assert households(c.get("/alerts?rule=trigger.disaster_loss").text) == ["H5"]
    assert households(c.get("/alerts?status=new&rule=trigger.serious_illness").text) == ["H3"]
    assert households(c.get("/alerts?period=2025-01").text) == ["H1", "H4"]
    assert households(c.get("/alerts?sort=village").text) == ["H1", "H3", "H5"]
    assert households(c.get("/alerts?sort=village&desc=1").text) == ["H5", "H3", "H1"]
    narrowed = c.get("/alerts?status=new&rule=trigger.serious_illness").text
    assert re.search(
        r'<option value="persisting"[^>]*>持续 \(1\)</option>', narrowed
    )  # what choosing it gives
    assert "/alerts.xlsx?status=new&amp;rule=trigger.serious_illness" in narrowed
    # a village sees only its own
    assert households(shared_web.login("cun").get("/alerts").text) == ["H1"]


def test_case_state_filter_and_export_of_the_filtered_list(web):
    c = web.login("xiang")
    opened = web.post("xiang", "/alerts/2025-02-bbbb0002~H3~trigger.serious_illness/case", {})
    assert opened.status_code == 303
    assert households(c.get("/alerts?case=clue").text) == ["H3"]
    assert households(c.get("/alerts?case=open").text) == ["H3"]
    assert "H3" not in households(c.get("/alerts?case=none").text)
    body = c.get("/alerts.xlsx?case=none").content
    rows = list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == households(c.get("/alerts?case=none").text)


def test_home_card_opens_the_filtered_list_with_the_same_count(shared_web):
    home = shared_web.login("xian").get("/").text
    card = re.search(
        r'<a class="card[^"]*" href="([^"]+)" id="todo-new-alerts"><div class="n">(\d+)</div>', home
    )
    assert card.group(1) == "/alerts?status=new"
    listed = shared_web.login("xian").get(card.group(1)).text
    assert re.search(r'id="alert-count">共 (\d+) 条', listed).group(1) == card.group(2) == "2"


def test_a_province_user_narrows_by_county_then_township(shared_web):
    c = shared_web.login("sheng")
    top = c.get("/alerts").text
    assert re.search(r'<option value="520121000000"[^>]*>红冲县 \(3\)</option>', top)
    assert f'value="{T1}"' not in top  # townships once a county is chosen
    county = c.get("/alerts?region=520121000000").text
    assert re.search(rf'<option value="{T1}"[^>]*>梅铺乡 \(2\)</option>', county)
    assert households(c.get(f"/alerts?region={V2}").text) == ["H3"]
