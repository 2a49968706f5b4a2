"""`jingzhun demo`: what `make demo` runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        data: Path = typer.Option(Path("jingzhun-data"), "--data", help="The data folder to fill."),
        persons: int = typer.Option(
            20_000, "--persons", help="Registered persons in the synthetic county (a larger county: 200000)."
        ),
        months: int = typer.Option(6, "--months"),
        start: str = typer.Option("2025-01", "--start"),
        seed: int = typer.Option(7, "--seed"),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the web app at the end."),
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8000, "--port"),
    ) -> None:
        """Generate a synthetic county, import and run each month, print the findings, serve the app."""
        from jingzhun import demo

        console = Console()
        result = demo.build(data, persons, seed=seed, start=start, months=months, console=console)
        users = demo.create_users(data, result.synth / "regions.csv")
        console.rule("[bold]3. 演示用户 demo users (password 密码: demo)")
        for user, code in users.items():
            console.print(f"  {user:9s} {code}")
        if not serve:
            return
        import uvicorn

        from jingzhun.settings import Settings
        from jingzhun.web.app import create_app

        settings = Settings(data=data, demo=True)
        console.rule(f"[bold]4. 网页 web app: http://{host}:{port}/  (Ctrl+C 停止 stop)")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
