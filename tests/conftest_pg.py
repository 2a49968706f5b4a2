"""PostgreSQL for store tests: the server on 127.0.0.1:5432 when one answers (trust auth, user postgres),
else (or with JINGZHUN_TEST_PG_THROWAWAY=1) a throwaway server of our own: ``initdb`` into a temporary
folder and ``pg_ctl start`` on a free port, found under /usr/lib/postgresql (Debian's ``postgresql``
package) or on PATH. PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user (``runuser``).

Each test session gets its own database (dropped at the end) and each test its own schema inside it.
Import the fixtures into an area's conftest: ``from conftest_pg import ops_url, ...``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher

from jingzhun.auth import passwords

__all__ = ["fast_argon2", "ops_url", "ops_url_module", "pg_base_url", "throwaway_postgres"]

LOCAL = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


def find_pg_bin() -> Path | None:
    """The folder holding the newest ``pg_ctl`` and ``initdb``."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    ctl = found[-1] if found else shutil.which("pg_ctl")
    return Path(ctl).parent if ctl else None


def local_server_up() -> bool:
    try:
        with psycopg.connect(**LOCAL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[dict[str, object]]:
    """Start a private PostgreSQL server (trust auth, user ``postgres``) and stop it afterwards; yields
    psycopg connection arguments for its ``postgres`` database."""
    bindir = find_pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432 and no pg_ctl/initdb to start one")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="jz-pg-"))
    if os.geteuid() == 0:  # initdb and postgres refuse root
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        try:
            yield {"host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "postgres"}
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """URL of a fresh database for this test session."""
    with contextlib.ExitStack() as stack:
        if local_server_up() and not os.environ.get("JINGZHUN_TEST_PG_THROWAWAY"):
            admin: dict[str, object] = dict(LOCAL)
        else:
            admin = stack.enter_context(throwaway_postgres())
        name = f"jz_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(**admin, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql://{admin['user']}@{admin['host']}:{admin['port']}/{name}"
        finally:
            with psycopg.connect(**admin, autocommit=True) as conn:  # type: ignore[arg-type]
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
