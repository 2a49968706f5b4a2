"""PostgreSQL for store tests: the server on 127.0.0.1:5432 when one answers (trust auth, user postgres),
else (or with JINGZHUN_TEST_PG_THROWAWAY=1) a throwaway server started by pytest-postgresql (needs pg_ctl,
found under /usr/lib/postgresql; PostgreSQL refuses to start as root).

Each test session gets its own database (dropped at the end) and each test its own schema inside it.
Import the fixtures into an area's conftest: ``from conftest_pg import ops_url, ...``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import shutil
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from argon2 import PasswordHasher
from pytest_postgresql import factories

from jingzhun.auth import passwords

__all__ = ["fast_argon2", "jz_postgresql_proc", "ops_url", "ops_url_module", "pg_base_url"]

LOCAL = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def find_pg_ctl() -> str | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return found[-1] if found else shutil.which("pg_ctl")


def local_server_up() -> bool:
    try:
        with psycopg.connect(**LOCAL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


jz_postgresql_proc = factories.postgresql_proc(executable=find_pg_ctl() or "pg_ctl", port=None)


@pytest.fixture(scope="session")
def pg_base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh database for this test session."""
    if local_server_up() and not os.environ.get("JINGZHUN_TEST_PG_THROWAWAY"):
        admin = dict(LOCAL)
    else:
        if find_pg_ctl() is None:
            pytest.skip("no PostgreSQL server on 127.0.0.1:5432 and no pg_ctl to start one")
        try:
            proc = request.getfixturevalue("jz_postgresql_proc")
        except Exception as exc:  # e.g. pg_ctl refuses to run as root
            pytest.skip(f"cannot start a throwaway PostgreSQL with {find_pg_ctl()}: {exc}")
        admin = {"host": proc.host, "port": proc.port, "user": proc.user, "dbname": "postgres"}
        if proc.password:
            admin["password"] = proc.password
    name = f"jz_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    password = f":{admin['password']}" if admin.get("password") else ""
    try:
        yield f"postgresql://{admin['user']}{password}@{admin['host']}:{admin['port']}/{name}"
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_schema(base_url: str) -> Iterator[str]:
    """A new schema in the session database; the URL puts it first on the search path."""
    schema = f"s_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _url(kind: str, request: pytest.FixtureRequest, folder) -> contextlib.AbstractContextManager[str]:  # type: ignore[no-untyped-def]
    if kind == "sqlite":
        return contextlib.nullcontext(f"sqlite:///{folder / 'ops.sqlite'}")
    return fresh_schema(request.getfixturevalue("pg_base_url"))


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def ops_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The URL of an empty operational store: SQLite, then PostgreSQL."""
    with _url(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def ops_url_module(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Like ``ops_url`` but shared by the tests of one module."""
    with _url(request.param, request, tmp_path_factory.mktemp("ops")) as url:
        yield url


# --- helpers shared by the store tests ------------------------------------------------------------

START = dt.datetime(2026, 3, 2, 8, 0)


@pytest.fixture(autouse=True, scope="session")
def fast_argon2():
    """Argon2 with small costs: the algorithm is the same, the tests are quicker."""
    saved = passwords._HASHER, passwords._DUMMY
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._DUMMY = passwords._HASHER.hash("dummy")
    yield
    passwords._HASHER, passwords._DUMMY = saved


class Clock:
    """A clock for tests: ``clock()`` returns the current fake time, ``advance(days=...)`` moves it."""

    def __init__(self, now: dt.datetime = START):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


class FakeRiskChecks:
    """The pipeline's port, under the test's control: households listed in ``passing`` pass."""

    def __init__(self) -> None:
        self.passing: set[str] = set()
        self.calls: list[str] = []

    def __call__(self, household_id: str) -> tuple[bool, dict]:
        self.calls.append(household_id)
        ok = household_id in self.passing
        return ok, {"household_id": household_id, "income_above_line": ok, "three_guarantees": ok}
