"""`jingzhun policy check|list|test|sql|docs|explain`: policies as code from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from jingzhun.errors import JingzhunError, PolicyError

DEFAULT_DIR = Path("policies")


def _engine() -> object:
    from jingzhun.engines.duckdb import DuckDBEngine

    return DuckDBEngine()


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Policies as code (政策规则): check, list, test, show SQL.", no_args_is_help=True
    )
    app.add_typer(group, name="policy")

    @group.command("check")
    def check_cmd(path: Path = typer.Argument(DEFAULT_DIR, help="Policy folder or file.")) -> None:
        """Validate policy files; prints file:line:column of the first mistake and exits non-zero."""
        from jingzhun.policy import check_set, load
        from jingzhun.policy.timecheck import time_warnings

        ps = load(path)
        checked = check_set(ps)
        for warning in time_warnings(ps):
            typer.echo(f"warning / 提示: {warning}", err=True)
        typer.echo(
            f"OK: {len(checked)} rules, {len(ps.params)} shared parameters, {len(ps.files)} files "
            f"/ 检查通过：{len(checked)} 条规则"
        )

    @group.command("list")
    def list_cmd(
        path: Path = typer.Argument(DEFAULT_DIR, help="Policy folder or file."),
        lang: str = typer.Option("zh", "--lang", help="zh or en."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List the rules: id, kind, entity, title."""
        from jingzhun.policy import load

        ps = load(path)
        rows = [
            {
                "id": r.id,
                "kind": r.kind,
                "entity": r.entity,
                "title": r.title_zh if lang == "zh" else r.title_en,
                "file": r.file,
            }
            for r in ps.rules.values()
        ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table("规则 rule id", "类别 kind", "对象 entity", "名称 title")
        for r in rows:
            table.add_row(r["id"], r["kind"], r["entity"], r["title"])
        Console().print(table)

    @group.command("test")
    def test_cmd(
        path: Path = typer.Argument(DEFAULT_DIR, help="Folder of policies with *.test.yaml beside them."),
        policies: Path | None = typer.Option(None, "--policies", help="Policy folder (default: PATH)."),
    ) -> None:
        """Run the YAML tests beside the policy files; exits 1 when any case fails."""
        from jingzhun.policy import load
        from jingzhun.policy.testing import run_tests

        ps = load(policies or path)
        console = Console()
        results = run_tests(path, ps, _engine)
        failed = [r for r in results if not r.ok]
        for r in results:
            mark = "[green]PASS[/]" if r.ok else "[red]FAIL[/]"
            console.print(f"{mark} {r.case.id}", highlight=False)
            for f in r.failures:
                console.print(f"     {f}", highlight=False)
        console.print(
            f"{len(results) - len(failed)} passed, {len(failed)} failed / 通过 {len(results) - len(failed)}，"
            f"失败 {len(failed)}"
        )
        if failed:
            raise typer.Exit(1)

    @group.command("sql")
    def sql_cmd(
        rule_id: str = typer.Argument(..., help="Rule id."),
        period: str = typer.Option(..., "--period", help="YYYY-MM"),
        dialect: str = typer.Option("duckdb", "--dialect", help="duckdb or spark."),
        path: Path = typer.Option(DEFAULT_DIR, "--policies"),
    ) -> None:
        """Print the SQL one rule compiles to."""
        from jingzhun.policy import compile_set, load

        plan = compile_set(load(path), period)
        if rule_id not in plan.rules:
            raise JingzhunError(f"no rule {rule_id!r}")
        for name, tree in plan.rule_steps(rule_id):
            typer.echo(f"-- {name}\n{tree.sql(dialect=dialect, pretty=True)};\n")

    @group.command("docs")
    def docs_cmd(
        path: Path = typer.Argument(DEFAULT_DIR),
        out: Path = typer.Option(Path("docs/POLICIES.md"), "--out"),
    ) -> None:
        """Regenerate docs/POLICIES.md from the policy files."""
        from jingzhun.policy import load
        from jingzhun.policy.listing import rules_markdown

        out.write_text(rules_markdown(load(path)) + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")

    @group.command("explain")
    def explain_cmd(
        household_id: str = typer.Argument(None, help="户编号 (or use --household)."),
        household: str = typer.Option(None, "--household", help="户编号 household id."),
        data: Path = typer.Option(None, "--data", help="Data folder (with --run)."),
        run: str = typer.Option(None, "--run", help="Explain on exactly the data of this run."),
        period: str = typer.Option(None, "--period", help="YYYY-MM (with --tables)."),
        tables: Path = typer.Option(
            None, "--tables", help="Folder of <dataset>.parquet relations (as evaluated)."
        ),
        path: Path = typer.Option(DEFAULT_DIR, "--policies"),
        lang: str = typer.Option("zh", "--lang"),
        all_rules: bool = typer.Option(False, "--all", help="Show rules that did not fire too."),
    ) -> None:
        """Every rule for one household: fired or not, with values and explanation.

        Either `--data DATA --run RUN --household ID` (the data a monthly run evaluated) or
        `--tables DIR --period P HOUSEHOLD` (a folder of relations)."""
        from jingzhun.policy import explain_household, load

        hid = household or household_id
        if not hid:
            raise PolicyError("name the household: --household ID")
        if run:
            from jingzhun.pipeline.whatif import explain_in_run

            outcomes = explain_in_run(data or Path("jingzhun-data"), run, hid, policy_dir=path)
        else:
            if tables is None or period is None:
                raise PolicyError("give --data and --run, or --tables and --period")
            ps = load(path)
            eng = _engine()
            files = sorted(tables.glob("*.parquet"))
            if not files:
                raise PolicyError(f"no <dataset>.parquet files in {tables}")
            for f in files:
                eng.register_table(f.stem, f)  # type: ignore[attr-defined]
            outcomes = explain_household(eng, ps, period, hid)
        from jingzhun.policy.flags import received_lines

        files = _import_files(data or Path("jingzhun-data")) if run else {}
        table = Table("规则 rule", "对象 entity", "触发 fired", "说明 explanation", "证据 evidence",
                      "部门记录 records")
        for o in outcomes:
            if o.fired or all_rules:
                table.add_row(
                    o.rule_id,
                    o.entity_id,
                    "是" if o.fired else "否",
                    o.explain_zh if lang == "zh" else o.explain_en,
                    json.dumps(o.evidence.get("values", {}), ensure_ascii=False, default=str),
                    "\n".join(received_lines(o.evidence, files, lang)),
                )
        Console().print(table)


def _import_files(data: Path) -> dict[str, str]:
    """Import id → file name, from the import ledger of a data folder."""
    from sqlalchemy import select

    from jingzhun.ops.db import open_store
    from jingzhun.ops.models import ImportRecord
    from jingzhun.store import DataFolder

    store = open_store(DataFolder(data).ops_url)
    with store.session() as session:
        return {i: name for i, name in session.execute(select(ImportRecord.id, ImportRecord.file_name))}
