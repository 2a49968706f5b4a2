"""`jingzhun db upgrade`, `jingzhun users add|list|disable|demo`, `jingzhun serve`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from jingzhun.settings import Settings

DATA_OPT = typer.Option(None, "--data", help="Data folder (default ./jingzhun-data or JINGZHUN_DATA).")
URL_OPT = typer.Option(None, "--url", help="Database URL, overriding the data folder (or JINGZHUN_DB_URL).")


def _settings(data: Path | None, url: str | None) -> Settings:
    overrides: dict[str, object] = {}
    if data is not None:
        overrides["data"] = data
    if url:
        overrides["db_url"] = url
    return Settings(**overrides)  # type: ignore[arg-type]


def _store(data: Path | None, url: str | None):  # type: ignore[no-untyped-def]
    from jingzhun.ops import open_store

    return open_store(_settings(data, url).database_url)


def _safe_url(url: str) -> str:
    """The URL without its password, for messages.

    >>> _safe_url("postgresql://jz:secret@db/jz")
    'postgresql://jz:***@db/jz'
    """
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}@{host}"
    return url


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The operational store (数据库).", no_args_is_help=True)
    users = typer.Typer(help="User accounts (用户).", no_args_is_help=True)
    app.add_typer(db, name="db")
    app.add_typer(users, name="users")

    @db.command("upgrade")
    def upgrade_cmd(data: Path | None = DATA_OPT, url: str | None = URL_OPT) -> None:
        """Create or migrate the operational store to the latest schema."""
        settings = _settings(data, url)
        store = _store(data, url)
        store.dispose()
        typer.echo(f"数据库已是最新结构 / database is up to date: {_safe_url(settings.database_url)}")

    @users.command("add")
    def add_cmd(
        username: str = typer.Argument(..., help="login name"),
        role: str = typer.Option(
            ..., "--role", help="village, township, county, department, province, admin"
        ),
        region: str = typer.Option(
            "*", "--region", help="Region code of the role's level; a department's feed name; '*' for admin."
        ),
        password: str | None = typer.Option(None, "--password", help="Prompted (hidden) when left out."),
        name: str | None = typer.Option(None, "--name", help="Display name."),
        data: Path | None = DATA_OPT,
        url: str | None = URL_OPT,
    ) -> None:
        """Create a user."""
        from jingzhun.auth import create_user

        if password is None:
            password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)
        store = _store(data, url)
        with store.session() as session:
            user = create_user(session, username, password, role, region, display_name=name)
            typer.echo(f"已创建用户 / created user {user.username} ({user.role}, {user.scope})")
        store.dispose()

    @users.command("list")
    def list_cmd(data: Path | None = DATA_OPT, url: str | None = URL_OPT) -> None:
        """List users with role, scope and state."""
        from jingzhun.auth import list_users

        store = _store(data, url)
        table = Table("用户 user", "角色 role", "范围 scope", "状态 state", "最近登录 last login")
        with store.session() as session:
            for u in list_users(session):
                state = "启用 active" if u.active else "停用 disabled"
                if u.locked_until is not None:
                    state += f", 锁定至 locked until {u.locked_until:%Y-%m-%d %H:%M}"
                table.add_row(
                    u.username,
                    u.role,
                    u.scope,
                    state,
                    f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "",
                )
        store.dispose()
        Console().print(table)

    @users.command("disable")
    def disable_cmd(username: str, data: Path | None = DATA_OPT, url: str | None = URL_OPT) -> None:
        """Disable a user and revoke their tokens (the account is kept for the audit log)."""
        from jingzhun.auth import disable_user

        store = _store(data, url)
        with store.session() as session:
            disable_user(session, username)
        store.dispose()
        typer.echo(f"已停用 / disabled {username}")

    @users.command("demo")
    def demo_cmd(
        county: str = typer.Option(..., "--county"),
        township: str = typer.Option(..., "--township"),
        village: str = typer.Option(..., "--village"),
        data: Path | None = DATA_OPT,
        url: str | None = URL_OPT,
    ) -> None:
        """Create demo users county/township/village, password 'demo' (demo mode only: JINGZHUN_DEMO=1)."""
        from jingzhun.auth import create_demo_users

        settings = _settings(data, url)
        store = _store(data, url)
        created = create_demo_users(store, county, township, village, settings=settings)
        store.dispose()
        typer.echo(f"演示用户 / demo users created: {', '.join(created) or '(none, all exist)'}")

    @app.command("serve")
    def serve_cmd(
        data: Path | None = DATA_OPT,
        url: str | None = URL_OPT,
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8000, "--port"),
        workers: int | None = typer.Option(
            None, "--workers", min=1, help="Worker processes (default: one per core)."
        ),
        log_level: str = typer.Option(
            "info", "--log-level", help="uvicorn's: warning leaves out the access log."
        ),
    ) -> None:
        """Serve the web application and the API (/api/v1, docs at /api/v1/docs).

        The store is migrated and the web index built before the workers start."""
        from jingzhun.web.serve import default_workers, serve

        settings = _settings(data, url)
        n = workers or default_workers()
        typer.echo(
            f"Jingzhun on http://{host}:{port}/api/v1/docs ({_safe_url(settings.database_url)}, {n} workers)"
        )
        serve(settings, host, port, n, log_level=log_level)
