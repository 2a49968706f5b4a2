"""`make demo`: a synthetic county, imported and run month by month, then the web app.

Every step is idempotent: the generator output is kept when its manifest matches the arguments,
imports of files already in the ledger are no-ops, and runs whose inputs and policies are unchanged
return the earlier run. So `make demo` twice does the work once.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jingzhun import periods


@dataclass
class DemoResult:
    data: Path
    synth: Path
    months: list[str]
    runs: list[Any] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)


def _synth_is_current(out: Path, persons: int, seed: int, start: str, months: int) -> bool:
    manifest = out / "manifest.json"
    if not manifest.exists():
        return False
    m = json.loads(manifest.read_text(encoding="utf-8"))
    return (m.get("persons"), m.get("seed"), m.get("start"), m.get("months")) == (persons, seed, start, months)


def _demo_regions(regions_csv: Path) -> tuple[str, str, str]:
    """The first county, its first township and that township's first village."""
    with regions_csv.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    by_level: dict[str, list[str]] = {}
    for row in rows:
        by_level.setdefault(row["level"], []).append(row["code"])
    county = sorted(by_level["county"])[0]
    township = sorted(c for c in by_level["township"] if c.startswith(county[:6]))[0]
    village = sorted(c for c in by_level["village"] if c.startswith(township[:9]))[0]
    return county, township, village


def build(data: Path, persons: int, seed: int = 7, start: str = "2025-01", months: int = 6,
          fmt: str = "csv", console: Console | None = None) -> DemoResult:
    """Generate, import and run; returns what was done (no server)."""
    from jingzhun import regions
    from jingzhun.ingest import import_files
    from jingzhun.pipeline import STAGES, run_period
    from jingzhun.synth import generate

    console = console or Console()
    data = Path(data)
    synth = data / "synth"
    month_list = [periods.shift(start, i) for i in range(months)]
    result = DemoResult(data, synth, month_list)

    console.rule(f"[bold]1. 合成数据 synthetic county: {persons:,} 人 persons, {months} 个月 months")
    if _synth_is_current(synth, persons, seed, start, months):
        console.print(f"已存在 already generated: {synth}")
    else:
        generate(synth, persons=persons, seed=seed, start=start, months=months, fmt=fmt)
    regions.save_reference(regions.load_csv(synth / "regions.csv"), data)

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    console.rule("[bold]2. 导入与监测运行 import and monthly run")
    for month in month_list:
        files = sorted((synth / month).iterdir())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"{month} 导入 import", total=len(files))

            def on_file(path: Any, status: str, fraction: float, _task: Any = task, _bar: Any = bar) -> None:
                if status in ("imported", "already_imported", "failed", "done"):
                    _bar.advance(_task)
            imported = import_files(data, files, user="demo", progress=on_file)
        counts = Counter(r.status for r in imported)
        failed = [r for r in imported if r.status == "failed"]
        for r in failed:
            console.print(f"[red]导入失败 import failed[/]: {r.file}: {r.error}")
        quarantined = sum(r.rows_quarantined for r in imported)
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"{month} 运行 run", total=len(STAGES))

            def on_stage(stage: str, fraction: float, message: str, _task: Any = task, _bar: Any = bar,
                         _month: str = month) -> None:
                _bar.update(_task, completed=round(fraction * len(STAGES)), description=f"{_month} {stage}")
            outcome = run_period(data, month, user="demo", progress=on_stage)
        result.runs.append(outcome)
        alerts = outcome.summary.get("alerts", {})
        console.print(
            f"[bold]{month}[/] 导入 {counts.get('imported', 0)} 个文件（已导入 {counts.get('already_imported', 0)}，"
            f"退回 {quarantined} 行）· 预警 新增 [red]{alerts.get('new', 0)}[/] 持续 {alerts.get('persisting', 0)} "
            f"解除 [green]{alerts.get('cleared', 0)}[/] · 数据冲突 {outcome.summary.get('conflicts', 0)} · "
            f"待人工确认 {outcome.summary.get('review', 0)}"
            + (f" · 推送线索案件 {outcome.handoff.counts.get('cases_opened', 0)}" if outcome.handoff else "")
        )
    _print_findings(console, result)
    return result


def _print_findings(console: Console, result: DemoResult) -> None:
    """What the last month found, by rule title (jingzhun.vocab), grouped by kind: risk triggers first."""
    from jingzhun import vocab

    last = result.runs[-1]
    table = Table(title=f"{last.period} 各规则命中户/人次 households and people flagged by rule", show_lines=False)
    table.add_column("类别 kind")
    table.add_column("规则 rule")
    table.add_column("户/人次 count", justify="right")
    order = {kind: i for i, kind in enumerate(vocab.RULE_KINDS)}
    flagged = last.summary.get("flags_by_rule", {})
    for rule_id, count in sorted(flagged.items(), key=lambda kv: (order.get(kv[0].split(".")[0], 9), -kv[1])):
        kind = rule_id.split(".")[0]
        table.add_row(
            f"{vocab.rule_kind(kind)} {vocab.rule_kind(kind, 'en')}",
            f"{vocab.rule_title(rule_id)} · {vocab.rule_title(rule_id, 'en')}",
            f"{count:,}",
        )
    console.print(table)


def create_users(data: Path, regions_csv: Path) -> dict[str, str]:
    """The demo users county/township/village (password ``demo``), only in demo mode."""
    from jingzhun.auth.users import create_demo_users
    from jingzhun.ops import open_store
    from jingzhun.settings import Settings
    from jingzhun.store import DataFolder

    os.environ["JINGZHUN_DEMO"] = "1"
    county, township, village = _demo_regions(regions_csv)
    settings = Settings(data=data, demo=True)
    store = open_store(DataFolder(data).ops_url)
    create_demo_users(store, county, township, village, settings=settings)
    store.dispose()
    return {"county": county, "township": township, "village": village}
