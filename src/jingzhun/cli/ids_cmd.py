"""`jingzhun id check ID...`: validate ID numbers and say why each one fails."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from jingzhun import ids


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="ID numbers (GB 11643-1999).", no_args_is_help=True)
    app.add_typer(group, name="id")

    @group.command("check")
    def check_cmd(
        numbers: list[str] = typer.Argument(..., help="ID numbers to check (18 or 15 characters)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        unmask: bool = typer.Option(False, "--unmask", help="Show the numbers in full (masked by default)."),
        lang: str = typer.Option("zh", "--lang", help="zh or en."),
    ) -> None:
        """Print valid/invalid and the reason for each number; exits 1 if any is invalid."""
        results = [ids.check(n) for n in numbers]
        show = (lambda s: s) if unmask else ids.mask
        if as_json:
            rows = [
                {
                    "input": show(ids.normalise(r.raw)),
                    "valid": r.valid,
                    "normalised": show(r.normalised) if r.normalised else None,
                    "upgraded_from_15": r.upgraded,
                    "reason": r.reason,
                    "message": r.message_zh if lang == "zh" else r.message_en,
                    "sex": ids.sex_of(r.normalised) if r.normalised else None,
                    "birth_date": ids.birth_date_of(r.normalised).isoformat() if r.normalised else None,
                }
                for r in results
            ]
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            table = Table("证件号码" if lang == "zh" else "ID number", "结果" if lang == "zh" else "result",
                          "说明" if lang == "zh" else "detail")
            for r in results:
                if r.valid and r.normalised:
                    detail = f"{ids.sex_of(r.normalised)} {ids.birth_date_of(r.normalised).isoformat()}"
                    if r.upgraded:
                        detail += (" 由15位升级为 " if lang == "zh" else " upgraded from 15 digits to ") + show(
                            r.normalised
                        )
                    verdict = "[green]有效[/]" if lang == "zh" else "[green]valid[/]"
                else:
                    detail = r.message_zh if lang == "zh" else r.message_en
                    verdict = "[red]无效[/]" if lang == "zh" else "[red]invalid[/]"
                table.add_row(show(ids.normalise(r.raw)), verdict, detail)
            Console().print(table)
        if not all(r.valid for r in results):
            raise typer.Exit(1)
