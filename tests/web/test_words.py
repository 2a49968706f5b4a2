"""People read words, not identifiers: every page a region user opens, in Chinese and in English, and
the exports, show rule titles, dataset names, statuses and values as labels (jingzhun.vocab), never a
rule id, a dataset name, a status key, a Python dict or untranslated Chinese."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from jingzhun import vocab
from jingzhun.catalog.datasets import ENUMS

from .words import CJK, RULE_ID, SNAKE, WORD, ZH_ALLOWED, Visible, identifiers

PAGES = {
    "xian": [
        "/",
        "/alerts",
        "/alerts?status=new&sort=rule",
        "/cases",
        "/dashboard",
        "/reports",
        "/households?q=张",
        "/households/H1",
        "/households/H3",
        "/runs",
        "/imports",
        "/review",
    ],
    "xiang": ["/", "/alerts", "/cases"],
    "cun": ["/", "/alerts", "/households/H1"],
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_show_words_not_identifiers(shared_web, lang):
    seen = 0
    for user, paths in PAGES.items():
        c = shared_web.login(user)
        cases = re.findall(r'href="(/cases/\d+)"', c.get("/cases").text)
        for path in [*paths, *cases[:2]]:
            r = c.get(path, params={"lang": lang})
            assert r.status_code == 200, (path, r.status_code)
            page = Visible(r.text)
            assert identifiers(page.text) == [], (user, path, lang, identifiers(page.text))
            if lang == "zh":
                words = set(WORD.findall(page.text)) - ZH_ALLOWED
                assert not words, (user, path, sorted(words))
            else:
                untranslated = [t.strip() for t in page.plain if CJK.search(t)]
                assert untranslated == [], (user, path, untranslated[:10])
            seen += 1
    assert seen > 15


def test_the_check_catches_what_the_issue_saw():
    dump = Visible(
        "<td>medical_claim</td><td>record_id=R1; visit_type=住院;</td><p>trigger.serious_illness</p>"
    )
    assert set(identifiers(dump.text)) >= {"trigger.serious_illness", "medical_claim", "record_id=R1;"}
    assert identifiers(Visible("<p>rows={'household': 5639}</p>").text)
    en = Visible('<p>Alerts <span lang="zh-CN">张三</span></p><td data-label="户主">x</td>')
    assert [t for t in en.plain if CJK.search(t)] == ["户主"] and en.marked == ["张三"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_exports_show_words_not_identifiers(shared_web, lang):
    c = shared_web.login("xian")
    for path in ("/alerts.xlsx", "/cases.xlsx", "/reports.xlsx", "/households.xlsx"):
        body = c.get(path, params={"lang": lang}).content
        book = openpyxl.load_workbook(io.BytesIO(body))
        for ws in book.worksheets:
            for row in ws.iter_rows(values_only=True):
                for cell in row:
                    if isinstance(cell, str):
                        assert not RULE_ID.search(cell) and not SNAKE.search(cell), (path, cell)
                        assert cell not in ("new", "persisting", "cleared"), (path, cell)


def test_every_value_of_the_catalogue_has_english():
    missing = [
        v
        for name, values in ENUMS.items()
        if name not in ("ethnicity", "region_level", "house_grade")
        for v in values
        if vocab.value(v, "en") == v
    ]
    assert missing == []
    assert all(not CJK.search(vocab.rule_title(r, "en")) for r in vocab.rule_titles())
    assert all(not RULE_ID.search(vocab.rule_title(r, "zh")) for r in vocab.rule_titles())
