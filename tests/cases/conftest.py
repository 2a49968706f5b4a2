"""Fixtures for case, auth and audit tests: a migrated store on SQLite and PostgreSQL, a clock that
tests move, fake risk checks, and fast Argon2 parameters."""

from __future__ import annotations

import pytest

from conftest_pg import *  # noqa: F403 (fixtures: ops_url, ops_url_module, pg_base_url, ...)
from conftest_pg import Clock, FakeRiskChecks
from jingzhun.ops import open_store
from jingzhun.settings import Settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def risk() -> FakeRiskChecks:
    return FakeRiskChecks()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data=tmp_path, time_limits={"default": 15, "52": 20}, notice_days=5, secret_key="test-key"
    )


@pytest.fixture
def store(ops_url):
    store = open_store(ops_url)
    yield store
    store.dispose()
