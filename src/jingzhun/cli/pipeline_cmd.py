"""`jingzhun run`, `jingzhun runs list|show|handoff`, `jingzhun export`, `jingzhun whatif` (explain: `jingzhun policy
explain`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from jingzhun import vocab

DATA = typer.Option(Path("jingzhun-data"), "--data", help="The data folder.")
STATUS_ZH = {"new": "新增", "persisting": "持续", "cleared": "已解除"}


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def rule_words(rule_id: str) -> str:
    """A rule as people read it in a terminal: its Chinese and English titles."""
    return f"{vocab.rule_title(rule_id)} {vocab.rule_title(rule_id, 'en')}"


def print_run_summary(console: Console, outcome: Any) -> None:
    summary = outcome.summary
    alerts = summary.get("alerts", {})
    console.print(
        f"[bold]{outcome.period}[/] 运行 run [cyan]{outcome.run_id}[/] "
        f"({vocab.run_status(outcome.status)} {vocab.run_status(outcome.status, 'en').lower()}): "
        f"{summary.get('households', 0):,} 户 households, 预警 alerts 新增 new [red]{alerts.get('new', 0)}[/] · "
        f"持续 persisting {alerts.get('persisting', 0)} · 已解除 cleared [green]{alerts.get('cleared', 0)}[/] · "
        f"数据冲突 conflicts {summary.get('conflicts', 0)} · 待人工确认 review {summary.get('review', 0)}"
    )


HANDOFF_ZH = {"done": "已推送", "pending": "待推送", "failed": "推送失败", "skipped": "未推送",
              "superseded": "已被替代"}


def print_handoffs(console: Console, handoffs: list[Any]) -> bool:
    """Print what the alert handoffs did; False when one failed."""
    ok = True
    for h in handoffs:
        if h.status == "failed":
            ok = False
            console.print(f"[red]预警推送失败 handoff failed[/] {h.run_id}: {h.error}")
        elif h.status == "done":
            c = h.counts
            console.print(
                f"预警推送 handoff {h.run_id}: 新立线索案件 cases opened [bold]{c.get('cases_opened', 0)}[/] · "
                f"在办案件新增预警 noted on open cases {c.get('new_noted', 0)} · "
                f"预警解除记录 cleared noted {c.get('cleared_noted', 0)} · "
                f"此前已推送 handed before {c.get('already_handed', 0)}"
            )
        elif h.status == "superseded":
            console.print(f"预警推送 handoff {h.run_id}: 已被同期新运行替代 superseded by {h.counts.get('superseded_by')}")
    return ok


def _handoff_json(handoffs: list[Any]) -> list[dict[str, Any]]:
    return [{"run_id": h.run_id, "status": h.status, "counts": h.counts, "error": h.error} for h in handoffs]


def _engine_options(engine: str, spark_master: str | None) -> dict[str, Any]:
    if spark_master and engine != "spark":
        raise typer.BadParameter("--spark-master goes with --engine spark", param_hint="--spark-master")
    return {"master": spark_master} if spark_master else {}


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        period: str = typer.Option(..., "--period", help="YYYY-MM"),
        data: Path = DATA,
        policy_set: Path = typer.Option(None, "--policy-set", help="Policy folder (default: policies/)."),
        link_config: Path = typer.Option(None, "--link-config", help="Linkage config folder "
                                         "(default: config/linkage/)."),
        engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded, default) or spark (PySpark; "
                                   "see docs/SPARK.md)."),
        spark_master: str = typer.Option(None, "--spark-master", help="With --engine spark: the master, e.g. "
                                         "local[4] or yarn (default JINGZHUN_SPARK_MASTER, else what "
                                         "spark-submit set, else local[*])."),
        force: bool = typer.Option(False, "--force", help="Run again even if inputs and policies are unchanged."),
        user: str = typer.Option("cli", "--user"),
        as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
        no_handoff: bool = typer.Option(False, "--no-handoff", help="Do not turn new alerts into cases now "
                                        "(later: jingzhun runs handoff RUN)."),
        threads: int = typer.Option(None, "--threads", help="Engine threads (default JINGZHUN_THREADS, else "
                                    "every core)."),
        memory_limit: str = typer.Option(None, "--memory-limit", help="Engine memory limit, e.g. 12GiB (default "
                                         "JINGZHUN_MEMORY_LIMIT); beyond it the run spills to disk."),
    ) -> None:
        """The monthly run: snapshot, link, evaluate, conflicts, diff against last month, write results, and
        hand new alerts to the case workflow (部门筛查预警: a clue case per household, assigned to its village).

        Exits with status 3 when the run is done but handing its alerts over failed (retried by the next
        run or `jingzhun runs handoff RUN`)."""
        from jingzhun.pipeline import STAGES, run_period

        console = Console(stderr=as_json)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
                      TimeElapsedColumn(), console=console, transient=as_json) as bar:
            task = bar.add_task(f"{period} 监测运行", total=len(STAGES))

            def progress(stage: str, fraction: float, message: str) -> None:
                bar.update(task, completed=fraction * len(STAGES),
                           description=f"{period} {stage} {message}".strip())

            outcome = run_period(data, period, policy_dir=policy_set, link_config_dir=link_config,
                                 engine_name=engine, user=user, force=force, progress=progress,
                                 handoff=not no_handoff, threads=threads, memory_limit=memory_limit,
                                 engine_options=_engine_options(engine, spark_master))
        if as_json:
            typer.echo(json.dumps({"run_id": outcome.run_id, "period": outcome.period, "status": outcome.status,
                                   "result_hash": outcome.result_hash, "stages": outcome.stages,
                                   "summary": outcome.summary, "handoffs": _handoff_json(outcome.handoffs)},
                                  ensure_ascii=False, indent=2, default=str))
            ok = all(h.status != "failed" for h in outcome.handoffs)
        else:
            print_run_summary(console, outcome)
            ok = print_handoffs(console, outcome.handoffs)
        if not ok:
            raise typer.Exit(3)

    runs = typer.Typer(help="The run ledger.", no_args_is_help=True)
    app.add_typer(runs, name="runs")

    @runs.command("list")
    def runs_list(data: Path = DATA, as_json: bool = typer.Option(False, "--json")) -> None:
        """Every run: period, status, engine, alerts, result hash."""
        from jingzhun.ops import open_store
        from jingzhun.pipeline import list_runs
        from jingzhun.store import DataFolder

        records = list_runs(open_store(DataFolder(data).ops_url))
        if as_json:
            typer.echo(json.dumps([{"run_id": r.id, "period": r.period, "status": r.status, "engine": r.engine,
                                    "started_at": r.started_at.isoformat(), "result_hash": r.result_hash,
                                    "alerts": (r.summary or {}).get("alerts"), "handoff_status": r.handoff_status,
                                    "handoff": r.handoff} for r in records],
                                  ensure_ascii=False, indent=2))
            return
        table = Table("运行 run", "期别 period", "状态 status", "引擎 engine", "开始 started", "新增预警 new",
                      "预警推送 handoff", "结果哈希 result hash")
        for r in records:
            alerts = (r.summary or {}).get("alerts", {})
            handoff = HANDOFF_ZH.get(r.handoff_status or "", "—")
            if r.handoff_status == "done":
                handoff += f" {(r.handoff or {}).get('cases_opened', 0)}"
            table.add_row(r.id, r.period, r.status, r.engine, r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                          str(alerts.get("new", "")), handoff, (r.result_hash or "")[:16])
        Console().print(table)

    @runs.command("show")
    def runs_show(run_id: str = typer.Argument(...), data: Path = DATA) -> None:
        """One run: inputs, policy version, stages with seconds and counts, summary."""
        from jingzhun.ops import open_store
        from jingzhun.pipeline import get_run
        from jingzhun.store import DataFolder

        r = get_run(open_store(DataFolder(data).ops_url), run_id)
        typer.echo(json.dumps({
            "run_id": r.id, "period": r.period, "status": r.status, "engine": r.engine,
            "policy_set_hash": r.policy_set_hash, "result_hash": r.result_hash, "error": r.error,
            "started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "stages": r.stages, "summary": r.summary, "inputs": r.input_hashes,
            "handoff_status": r.handoff_status, "handoff": r.handoff,
        }, ensure_ascii=False, indent=2, default=str))

    @runs.command("handoff")
    def runs_handoff(
        run_id: str = typer.Argument(None, help="Run id; default: every run whose handoff is pending or failed."),
        data: Path = DATA,
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Hand a run's new alerts to the case workflow (部门筛查预警), or finish the handoffs left pending or
        failed. Idempotent: alerts handed over before are not handed over again."""
        from jingzhun.ops import open_store
        from jingzhun.pipeline.handoff import hand_off_pending, hand_off_run
        from jingzhun.store import DataFolder

        store = open_store(DataFolder(data).ops_url)
        handoffs = [hand_off_run(data, run_id, store)] if run_id else hand_off_pending(data, store)
        if as_json:
            typer.echo(json.dumps(_handoff_json(handoffs), ensure_ascii=False, indent=2, default=str))
            ok = all(h.status != "failed" for h in handoffs)
        else:
            console = Console()
            if not handoffs:
                console.print("没有待推送的运行 / no handoff is pending")
            ok = print_handoffs(console, handoffs)
        if not ok:
            raise typer.Exit(3)

    @app.command("export")
    def export_cmd(
        run: str = typer.Option(..., "--run", help="Run id (see `jingzhun runs list`)."),
        what: str = typer.Option(..., "--what", help="alerts, flags, tags, conflicts or links."),
        fmt: str = typer.Option("xlsx", "--format", help="xlsx, csv or parquet."),
        out: Path = typer.Option(..., "--out"),
        data: Path = DATA,
        unmask: bool = typer.Option(False, "--unmask", help="Full ID numbers (recorded in the audit log)."),
        user: str = typer.Option(None, "--user"),
    ) -> None:
        """Export a run's results with Chinese headers; ID numbers masked unless --unmask."""
        from jingzhun.pipeline.export import export_run

        rows = export_run(data, run, what, fmt, out, unmask=unmask, user=user)
        typer.echo(f"{rows} rows -> {out}")

    @app.command("whatif")
    def whatif_cmd(
        period: str = typer.Option(..., "--period", help="YYYY-MM (its latest run's data is used)."),
        sets: list[str] = typer.Option(..., "--set", help="NAME=VALUE, e.g. monitoring_line=7500."),
        data: Path = DATA,
        policy_set: Path = typer.Option(None, "--policy-set"),
        as_json: bool = typer.Option(False, "--json"),
        limit: int = typer.Option(20, "--limit", help="Households listed in the table."),
    ) -> None:
        """Evaluate changed parameters beside the current ones on the same data; report the difference."""
        from jingzhun.pipeline.whatif import whatif_period

        overrides = {}
        for item in sets:
            if "=" not in item:
                raise typer.BadParameter(f"--set {item!r}: write NAME=VALUE")
            name, value = item.split("=", 1)
            overrides[name.strip()] = _parse_value(value.strip())
        report = whatif_period(data, period, overrides, policy_dir=policy_set)
        if as_json:
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
            return
        console = Console()
        console.print(f"[bold]{period}[/] what-if {overrides}: 监测户 monitored households "
                      f"{report['monitored_before']} → {report['monitored_after']} "
                      f"({report['monitored_after'] - report['monitored_before']:+d})")
        t = Table("规则 rule", "现行 current", "调整后 changed", "变化 delta")
        for row in report["by_rule"]:
            if row["delta"]:
                t.add_row(rule_words(row["rule_id"]), str(row["base"]), str(row["changed"]), f"{row['delta']:+d}")
        console.print(t)
        t = Table("层级 level", "区划 region", "名称 name", "现行 current", "调整后 changed", "变化 delta")
        for row in report["by_region"]:
            if row["delta"]:
                t.add_row(row["level"], row["code"], row.get("name") or "", str(row["base_monitored"]),
                          str(row["changed_monitored"]), f"{row['delta']:+d}")
        console.print(t)
        t = Table("户编号 household", "行政村 village", "规则 rule", "变化 change")
        for row in report["households"][:limit]:
            t.add_row(row["household_id"], row["village_code"], rule_words(row["rule_id"]), row["change"])
        console.print(t)
