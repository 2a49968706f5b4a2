"""What a person reads on a page, and the internal identifiers it must not contain (shared by the page
tests and the browser walk)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import ClassVar

RULE_ID = re.compile(r"\b(?:trigger|monitor|exit|tag|conflict)\.[a-z_]+")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # medical_claim, record_id, home_visited
DICT_DUMP = re.compile(r"\{'|'\s*:\s|\w+=\S+;")  # {'household': 5639}, record_id=R1;
WORD = re.compile(r"\b[a-z]{3,}\b")  # a lowercase English word on a Chinese page
CJK = re.compile(r"[\u4e00-\u9fff]")
#: attributes a person reads (on a phone, data-label is the label of a card's line)
READ_ATTRS = ("title", "aria-label", "placeholder", "data-label", "alt")
#: lowercase ASCII a Chinese page may show: units and file formats
ZH_ALLOWED = {"xlsx", "csv"}


class Visible(HTMLParser):
    """The text a person reads (text nodes and READ_ATTRS, not scripts, styles or hidden inputs), split
    into what is marked as a name or as Chinese (``lang="zh..."``: names, places, what someone typed;
    ``translate="no"``: user names, codes) and the rest."""

    VOID: ClassVar[set[str]] = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.plain: list[str] = []
        self.marked: list[str] = []
        self._stack: list[tuple[str, bool]] = []
        self.feed(html)

    def _zh(self) -> bool:
        return any(z for _, z in self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            return
        zh = (a.get("lang") or "").startswith("zh") or a.get("translate") == "no"
        for name in READ_ATTRS:
            if a.get(name):
                (self.marked if zh or self._zh() else self.plain).append(a[name])
        if tag not in self.VOID:
            self._stack.append((tag, zh))

    def handle_endtag(self, tag):
        while self._stack:
            top, _ = self._stack.pop()
            if top == tag:
                break

    def handle_data(self, data):
        if any(t in ("script", "style", "title") for t, _ in self._stack) or not data.strip():
            return
        (self.marked if self._zh() else self.plain).append(data)

    @property
    def text(self) -> str:
        return " ".join(self.plain)


def identifiers(text: str) -> list[str]:
    return RULE_ID.findall(text) + SNAKE.findall(text) + DICT_DUMP.findall(text)


def problems(html: str, lang: str) -> list[str]:
    """Identifiers on a page, lowercase English words on a Chinese page, Chinese outside names on an
    English page."""
    page = Visible(html)
    found = identifiers(page.text)
    if lang == "zh":
        found += sorted(set(WORD.findall(page.text)) - ZH_ALLOWED)
    else:
        found += [t.strip() for t in page.plain if CJK.search(t)]
    return found
