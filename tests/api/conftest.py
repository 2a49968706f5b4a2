"""An API world on SQLite and PostgreSQL: two counties, townships, villages, users of every role,
in-memory households and alerts, a clock the tests move and fake risk checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from conftest_pg import *  # noqa: F403 (fixtures: ops_url, ops_url_module, pg_base_url, ...)
from conftest_pg import Clock, FakeRiskChecks
from jingzhun.auth import create_user
from jingzhun.cases import InMemoryAlerts, InMemoryHouseholds
from jingzhun.ops import open_store
from jingzhun.settings import Settings
from jingzhun.web.app import create_app

from .world import ALERTS, HOUSEHOLDS, PASSWORD, USERS, V1, V2


@dataclass
class World:
    client: TestClient
    app: object
    store: object
    clock: Clock
    risk: FakeRiskChecks
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            r = self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def advance(self, **delta: float) -> None:
        """Move the clock; tokens expire after 12 hours, so sign in again afterwards."""
        self.clock.advance(**delta)
        self.tokens.clear()

    def get(self, user: str, path: str, **kw):
        return self.client.get("/api/v1" + path, headers=self.login(user), **kw)

    def post(self, user: str, path: str, body: dict | None = None, **kw):
        return self.client.post("/api/v1" + path, json=body or {}, headers=self.login(user), **kw)

    def patch(self, user: str, path: str, body: dict, **kw):
        return self.client.patch("/api/v1" + path, json=body, headers=self.login(user), **kw)


def build_world(url: str, tmp_path) -> World:
    store = open_store(url)
    with store.session() as s:
        for name, (role, scope) in USERS.items():
            create_user(s, name, PASSWORD, role, scope)
    settings = Settings(data=tmp_path, time_limits={"default": 15, "52": 20}, notice_days=5, secret_key="k")
    clock, risk = Clock(), FakeRiskChecks()
    app = create_app(
        settings,
        store=store,
        households=InMemoryHouseholds(HOUSEHOLDS),
        alerts=InMemoryAlerts(ALERTS),
        risk_checks=risk,
        region_names={V1: "一村", V2: "二村"}.get,
    )
    app.state.jz.clock = clock
    return World(TestClient(app), app, store, clock, risk)


@pytest.fixture
def world(ops_url, tmp_path) -> World:
    w = build_world(ops_url, tmp_path)
    yield w
    w.client.close()
    w.store.dispose()


@pytest.fixture(scope="module")
def shared_world(ops_url_module, tmp_path_factory) -> World:
    """One world for a whole module (read-mostly tests)."""
    w = build_world(ops_url_module, tmp_path_factory.mktemp("world"))
    yield w
    w.client.close()
    w.store.dispose()
