"""`jingzhun template DATASET --out FILE.xlsx`: an empty template with the Chinese headers."""

from __future__ import annotations

from pathlib import Path

import typer

from jingzhun.catalog import DATASETS
from jingzhun.catalog.templates import write_template


def register(app: typer.Typer) -> None:
    @app.command("template")
    def template_cmd(
        dataset: str = typer.Argument(..., help=f"One of: {', '.join(DATASETS)}, or 'all'."),
        out: Path = typer.Option(..., "--out", help="An .xlsx file, or a folder when DATASET is 'all'."),
    ) -> None:
        """Write an empty xlsx template with the Chinese headers departments must use."""
        names = list(DATASETS) if dataset == "all" else [dataset]
        for name in names:
            target = out / f"{DATASETS[name].zh}_{name}.xlsx" if dataset == "all" else out
            write_template(name, target)
            typer.echo(str(target))
