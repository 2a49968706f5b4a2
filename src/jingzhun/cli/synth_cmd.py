"""`jingzhun synth --out DIR`: generate a synthetic province with registry, monthly feeds and truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from jingzhun.catalog import DATASETS


def summary_table(manifest: Any) -> Table:
    from jingzhun.synth import FEEDS, REGISTRY

    """Rows per dataset (rows) and month (columns)."""
    table = Table(
        title=f"{manifest.province['name']} · {manifest.counts['persons']:,} 人 · "
        f"{manifest.counts['households']:,} 户 · {manifest.counts['villages']:,} 个行政村"
    )
    table.add_column("数据集 dataset")
    for period in manifest.periods:
        table.add_column(period, justify="right")
    for name in (*REGISTRY, *FEEDS):
        cells = []
        for period in manifest.periods:
            entries = [f for f in manifest.files if f.dataset == name and f.period == period]
            cells.append(f"{entries[0].rows:,}" if entries else "")
        table.add_row(f"{DATASETS[name].zh} {name}", *cells)
    for f in manifest.files:
        if f.kind == "truth":
            table.add_row(f"truth {f.dataset}", f"{f.rows:,}", *[""] * (len(manifest.periods) - 1))
    return table


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth_cmd(
        out: Path = typer.Option(
            ..., "--out", help="Output folder (created; an earlier synth output is replaced)."
        ),
        persons: int = typer.Option(20000, "--persons", help="Registered persons to generate."),
        seed: int = typer.Option(1, "--seed", help="Random seed; same arguments give identical files."),
        start: str = typer.Option("2025-01", "--start", help="First month, YYYY-MM."),
        months: int = typer.Option(6, "--months", help="Number of months of feeds."),
        fmt: str = typer.Option("csv", "--format", help="csv, parquet or xlsx."),
        workers: int = typer.Option(1, "--workers", min=1, help="Processes drawing counties in parallel."),
    ) -> None:
        """生成合成数据：一个虚构省份的建档立卡台账、逐月部门数据（含噪声）和真值文件。
        Generate a synthetic province: registry, monthly department feeds with noise, and truth files."""
        console = Console()
        columns = (
            TextColumn("[bold]生成 generating[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("", total=persons)

            def advance(done: int, total: int, stage: str) -> None:
                bar.update(task, completed=done, total=total, description=stage)

            from jingzhun.synth import generate

            manifest = generate(
                out,
                persons=persons,
                seed=seed,
                start=start,
                months=months,
                fmt=fmt,
                progress=advance,
                workers=workers,
            )
        console.print(summary_table(manifest))
        console.print(
            f"已写入 written: {out}  (manifest.json, regions.csv, {len(manifest.periods)} 个月, truth/)"
        )
