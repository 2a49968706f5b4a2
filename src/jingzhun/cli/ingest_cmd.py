"""`jingzhun import PATH...` (import files and folders) and `jingzhun imports list|rejects` (the ledger
and the rejected rows sent back to a department).

Typer cannot have a command and a group both named ``import``, so importing is the ``import`` command
and everything about past imports lives in the ``imports`` group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from jingzhun.catalog import DATASETS
from jingzhun.errors import JingzhunError

DATA_HELP = "The data folder (Parquet datasets and ops.sqlite)."
STATUS_ZH = {
    "imported": "[green]已导入 imported[/]",
    "already_imported": "[yellow]已导入过 already imported[/]",
    "failed": "[red]失败 failed[/]",
}


def _summary(results: list[Any]) -> Table:
    table = Table(
        "文件 file",
        "数据集 dataset",
        "期间 period",
        "行数 in",
        "接收 accepted",
        "隔离 quarantined",
        "状态 status",
        title="导入结果 (import summary)",
    )
    for r in results:
        table.add_row(
            Path(r.file).name,
            r.dataset or "",
            r.period or "",
            str(r.rows_in),
            str(r.rows_accepted),
            str(r.rows_quarantined),
            STATUS_ZH.get(r.status, r.status),
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_cmd(
        paths: list[Path] = typer.Argument(..., help="Files or folders (folders are searched recursively)."),
        data: Path = typer.Option(Path("jingzhun-data"), "--data", envvar="JINGZHUN_DATA", help=DATA_HELP),
        dataset: str | None = typer.Option(
            None,
            "--dataset",
            help=f"One of: {', '.join(DATASETS)}; recognised from the headers when left out.",
        ),
        period: str | None = typer.Option(
            None, "--period", help="YYYY-MM; else from a YYYY-MM folder or the file name."
        ),
        user: str | None = typer.Option(None, "--user", help="Who imports (default: the OS user)."),
        sheet: str | None = typer.Option(
            None,
            "--sheet",
            help="The sheet of a workbook to import (hidden sheets are read only when named); by default "
            "the one visible sheet with a recognised header.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Import department files: validate every row, store accepted rows, quarantine the rest."""
        console = Console(stderr=as_json)
        from jingzhun.ingest import expand_paths, import_files

        files = expand_paths(paths)
        if not files:
            raise JingzhunError("没有可导入的文件 (no importable files found)")
        tasks: dict[Path, TaskID] = {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[stage]}"),
            TimeElapsedColumn(),
            console=console,
            transient=as_json,
        ) as bar:
            overall = bar.add_task("全部 all files", total=len(files), stage="")

            def progress(file: Path, stage: str, fraction: float) -> None:
                if file not in tasks:
                    tasks[file] = bar.add_task(file.name, total=1.0, stage=stage)
                bar.update(tasks[file], completed=fraction, stage=stage)
                if stage in ("done", "failed"):
                    bar.advance(overall)

            results = import_files(
                data, files, dataset=dataset, period=period, user=user, progress=progress, sheet=sheet
            )
            done = {Path(r.file) for r in results if r.status == "already_imported"}
            bar.update(overall, completed=len(files))
            for path in done:
                if path in tasks:
                    bar.update(tasks[path], completed=1.0, stage="already imported")
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        else:
            console.print(_summary(results))
            for r in results:
                if r.error:
                    console.print(f"[red]✗[/] {r.error}", highlight=False, soft_wrap=True)
                if r.warnings:
                    console.print(
                        f"[yellow]![/] {Path(r.file).name}: 证件号码无效但保留记录（按姓名等关联）"
                        f"(invalid ID numbers kept as NULL): {r.warnings}",
                        highlight=False,
                    )
        failed = sum(r.status == "failed" for r in results)
        if failed:
            # a JingzhunError gives a non-zero exit status through cli.main (exit code 2)
            raise JingzhunError(
                f"{failed} 个文件导入失败 ({failed} file(s) failed at file level; nothing of them was stored)"
            )

    imports = typer.Typer(help="The import ledger and quarantined rows.", no_args_is_help=True)
    app.add_typer(imports, name="imports")

    @imports.command("list")
    def list_cmd(
        data: Path = typer.Option(Path("jingzhun-data"), "--data", envvar="JINGZHUN_DATA", help=DATA_HELP),
        dataset: str | None = typer.Option(None, "--dataset"),
        period: str | None = typer.Option(None, "--period"),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List the import ledger (oldest first)."""
        from jingzhun.ingest import list_imports

        rows = list_imports(data, dataset, period)
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        {
                            "id": r.id,
                            "file_name": r.file_name,
                            "content_hash": r.content_hash,
                            "dataset": r.dataset,
                            "period": r.period,
                            "sheet": r.sheet,
                            "rows_in": r.rows_in,
                            "rows_accepted": r.rows_accepted,
                            "rows_quarantined": r.rows_quarantined,
                            "imported_by": r.imported_by,
                            "imported_at": r.imported_at.isoformat(),
                            "status": r.status,
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        table = Table(
            "导入编号 import id",
            "文件 file",
            "数据集 dataset",
            "期间 period",
            "行数 in",
            "接收 accepted",
            "隔离 quarantined",
            "导入人 by",
            "时间 at (UTC)",
            title="导入台账 (import ledger)",
        )
        for r in rows:
            table.add_row(
                r.id,
                r.file_name,
                r.dataset,
                r.period,
                str(r.rows_in),
                str(r.rows_accepted),
                str(r.rows_quarantined),
                r.imported_by,
                r.imported_at.strftime("%Y-%m-%d %H:%M:%S"),
            )
        Console().print(table)

    @imports.command("rejects")
    def rejects_cmd(
        import_id: str = typer.Argument(..., help="The import id (see `jingzhun imports list`)."),
        out: Path = typer.Option(..., "--out", help="The .xlsx file to write."),
        data: Path = typer.Option(Path("jingzhun-data"), "--data", envvar="JINGZHUN_DATA", help=DATA_HELP),
        lang: str = typer.Option("zh", "--lang", help="zh or en (language of the reasons column)."),
    ) -> None:
        """Write the rejected rows of an import, with their original headers and a 错误原因 column, to send
        back to the department."""
        from jingzhun.ingest import export_rejects

        n = export_rejects(data, import_id, out, english=(lang == "en"))
        typer.echo(f"{n} 行已写入 {out} ({n} rejected rows written)")
