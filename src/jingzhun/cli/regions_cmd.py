"""`jingzhun regions check FILE`: read a statistical division code list and show its shape."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from jingzhun import regions


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Statistical division codes (统计用区划代码).", no_args_is_help=True)
    app.add_typer(group, name="regions")

    @group.command("check")
    def check_cmd(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
        """Validate a code list (columns code/代码, name/名称) and count regions per level."""
        items = regions.load_csv(path)
        counts = Counter(r.level for r in items)
        table = Table("级别 level", "数量 count")
        for level in regions.LEVELS:
            table.add_row(f"{regions.LEVEL_ZH[level]} {level}", str(counts.get(level, 0)))
        Console().print(table)

    @group.command("import")
    def import_cmd(
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV with code,name columns."),
        data: Path = typer.Option(Path("jingzhun-data"), "--data", help="The data folder."),
    ) -> None:
        """Store a region code list in the data folder (used for names in reports and scoping)."""
        items = regions.load_csv(path)
        target = regions.save_reference(items, data)
        typer.echo(f"{len(items)} regions -> {target}")
