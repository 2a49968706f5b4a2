"""The world the hardening scripts run against: the web tests' small county (tests/web/world.py: one
county, two townships, three villages, users of every role) with its operational store on PostgreSQL
(127.0.0.1:5432, trust auth, database ``test``, a schema of its own, dropped afterwards), served by
``jingzhun serve`` on loopback; and the writer of this half's sections of docs/RELIABILITY.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[3]
RELIABILITY = ROOT / "docs" / "RELIABILITY.md"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
sys.path.insert(0, str(ROOT / "tests"))

from web import world  # noqa: E402  (tests/web/world.py: the synthetic county of the page tests)

PASSWORD = world.PASSWORD
USERS = world.USERS


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh schema in the ``test`` database; yields a SQLAlchemy URL that puts it first on the path."""
    schema = f"jz_harden_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{PG['dbname']}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(**PG, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def build(root: Path, db_url: str) -> None:
    """The county's data folder under ``root`` and its store at ``db_url`` (users of every role)."""
    saved = os.environ.get("JINGZHUN_DB_URL")
    os.environ["JINGZHUN_DB_URL"] = db_url
    try:
        _, store = world.setup(root)
        store.dispose()
    finally:
        if saved is None:
            os.environ.pop("JINGZHUN_DB_URL", None)
        else:
            os.environ["JINGZHUN_DB_URL"] = saved


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``jingzhun serve --workers W`` on a free loopback port, until :meth:`stop`."""

    def __init__(self, root: Path, db_url: str, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, JINGZHUN_DATA=str(root), JINGZHUN_DB_URL=db_url, JINGZHUN_SECRET_KEY="harden")
        cmd = [str(Path(sys.executable).parent / "jingzhun"), "serve", "--data", str(root), "--url", db_url,
               "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
               "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, env=env)
        deadline = time.time() + 300
        while True:
            try:
                httpx.get(self.base + "/login", timeout=2)
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"server did not start (exit {self.proc.poll()})") from None
                time.sleep(0.2)

    def token(self, user: str) -> str:
        r = httpx.post(self.base + "/api/v1/auth/login", json={"username": user, "password": PASSWORD},
                       timeout=60)
        r.raise_for_status()
        return str(r.json()["token"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


def write_section(title: str, body: str) -> None:
    """Replace (or append) the section ``## title`` of docs/RELIABILITY.md, leaving the others alone."""
    text = RELIABILITY.read_text(encoding="utf-8") if RELIABILITY.exists() else "# Reliability\n"
    section = f"## {title}\n{body.rstrip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    RELIABILITY.write_text(text, encoding="utf-8")


def machine() -> str:
    """Where and when a figure was measured."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, "
            f"load average {load:.1f} (one-minute) at the end")


def shown_args() -> list[str]:
    """The script's arguments as the documented command shows them (without ``--json-out FILE``)."""
    args, out = sys.argv[1:], []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "--json-out":
            skip = True
            continue
        if not a.startswith("--json-out="):
            out.append(a)
    return out
