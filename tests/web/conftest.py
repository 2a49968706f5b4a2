"""Pages over a small Parquet data folder (see world.py); ``pages.login(user)`` gives a signed-in client."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from jingzhun.web.app import create_app

from .world import PASSWORD, setup


class Doc(HTMLParser):
    """A parsed page: elements by id, tables as rows of cell texts, links, forms and their fields."""

    def __init__(self, text: str):
        super().__init__()
        self.ids: dict[str, dict] = {}
        self.links: list[str] = []
        self.forms: list[dict] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.text_parts: list[str] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._stack: list[tuple[str, str | None]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids[a["id"]] = {"tag": tag, **a}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}})
        if tag in ("input", "select", "textarea", "button") and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value"))
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text_parts))

    def body_rows(self, table: str) -> list[list[str]]:
        """Rows after the header row, without the one-cell placeholder row of an empty table."""
        return [r for r in self.tables[table][1:] if len(r) > 1]


class Pages:
    def __init__(self, app):
        self.app = app
        self.clients: dict[str, TestClient] = {}

    def login(self, user: str, lang: str | None = None) -> TestClient:
        if user not in self.clients:
            c = TestClient(self.app, follow_redirects=False)
            if lang:
                c.cookies.set("lang", lang)
            token = csrf_of(c.get("/login").text)
            r = c.post(
                "/login", data={"username": user, "password": PASSWORD, "csrf_token": token, "next": "/"}
            )
            assert r.status_code == 303, r.text
            self.clients[user] = c
        return self.clients[user]

    def doc(self, user: str, path: str) -> Doc:
        r = self.login(user).get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:500])
        return Doc(r.text)

    def post(self, user: str, path: str, data: dict, **kw):
        c = self.login(user)
        token = c.cookies.get("jz_csrf")
        return c.post(path, data={"csrf_token": token, **data}, **kw)


def csrf_of(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


@pytest.fixture
def web(tmp_path):
    settings, store = setup(tmp_path / "data")
    app = create_app(settings, store=store)
    pages = Pages(app)
    yield pages
    for c in pages.clients.values():
        c.close()
    store.dispose()


@pytest.fixture(scope="module")
def shared_web(tmp_path_factory):
    """One read-mostly world for a module."""
    settings, store = setup(tmp_path_factory.mktemp("web") / "data")
    pages = Pages(create_app(settings, store=store))
    yield pages
    for c in pages.clients.values():
        c.close()
    store.dispose()
