"""`jingzhun db upgrade`, `jingzhun users ...` on SQLite (--data) and PostgreSQL (--url)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from jingzhun.auth.users import authenticate
from jingzhun.cli.main import app
from jingzhun.errors import AuthenticationFailed, ConfigError
from jingzhun.ops import OpsStore
from jingzhun.settings import Settings


def run(*args: str, input: str | None = None):
    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=True)
    return result


def test_db_upgrade_and_users(ops_url, tmp_path, monkeypatch):
    monkeypatch.delenv("JINGZHUN_DEMO", raising=False)
    where = ["--url", ops_url]
    result = run("db", "upgrade", *where)
    assert result.exit_code == 0, result.output
    store = OpsStore(ops_url)
    assert {"monitoring_case", "audit_log", "app_user"} <= set(inspect(store.engine).get_table_names())
    assert (
        run(
            "users", "add", "li", "--role", "township", "--region", "520102001", "--password", "pw1", *where
        ).exit_code
        == 0
    )
    result = run(
        "users", "add", "wang", "--role", "village", "--region", "520102001001", *where, input="pw2\npw2\n"
    )
    assert result.exit_code == 0, result.output
    result = run(
        "users", "add", "bad", "--role", "village", "--region", "520102001000", "--password", "x", *where
    )
    assert result.exit_code != 0 and "village code" in str(result.exception)
    listing = run("users", "list", *where).output
    assert "li" in listing and "520102001000" in listing and "wang" in listing
    settings = Settings(data=tmp_path)
    assert authenticate(store, "wang", "pw2", settings).scope == "520102001001"
    assert run("users", "disable", "wang", *where).exit_code == 0
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "wang", "pw2", settings)
    demo = run(
        "users", "demo", "--county", "520102", "--township", "520102001", "--village", "520102001001", *where
    )
    assert isinstance(demo.exception, ConfigError)
    store.dispose()


def test_db_upgrade_in_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("JINGZHUN_DB_URL", raising=False)
    result = run("db", "upgrade", "--data", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "ops.sqlite").exists()


def test_serve_is_registered():
    assert "--port" in run("serve", "--help").output
