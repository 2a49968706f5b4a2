"""`jingzhun link ...`: ad-hoc linkage of two files, the clerk review queue, and `jingzhun hash-ids`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from jingzhun.errors import JingzhunError, NotFound

_STAGES = {
    "read": ("读取文件", "reading files"),
    "prepare": ("规范化姓名、证件号码", "normalising names and ID numbers"),
    "exact": ("按证件号码精确比对", "exact linkage on ID numbers"),
    "probabilistic": ("概率比对（训练并打分）", "probabilistic linkage (training and scoring)"),
    "combine": ("汇总结果", "combining results"),
}
_SUMMARY = {
    "linked_exact": ("证件号码精确比中", "linked exactly"),
    "linked_probabilistic": ("概率比中（含人工确认）", "linked probabilistically (incl. clerk-accepted)"),
    "in_review": ("待人工复核", "in review"),
    "unlinked": ("未比中", "unlinked"),
}


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _store(db: str | None, data: Path | None):  # type: ignore[no-untyped-def]
    from jingzhun.ops import open_store
    from jingzhun.store import DataFolder

    if db:
        return open_store(db)
    return open_store(DataFolder(data or Path("jingzhun-data")).ops_url)


def _latest_review(data: Path) -> Path:
    """The review queue of the most recent run (``runs/<run_id>/review.parquet``)."""
    runs = data / "runs"
    found = [*runs.glob("*/review.parquet"), *runs.glob("*/link_review*.parquet")]
    if not found:
        raise NotFound(f"no review queue under {runs} (runs/<run_id>/review.parquet); give --review FILE")
    return max(found, key=lambda p: p.stat().st_mtime)


def _review_table(review: Path | None, data: Path | None):  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    path = review or _latest_review(data or Path("jingzhun-data"))
    if not path.exists():
        raise NotFound(f"review file not found: {path}")
    return pq.read_table(path), path


def _fields_config(path: Path):  # type: ignore[no-untyped-def]
    """The any-columns configuration in ``path`` (it has ``fields``), or None for a register-feed one."""
    import yaml

    from jingzhun.link.fields import is_fields_config, load_fields_config

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # the register loader reports the file's problem
    return load_fields_config(path) if is_fields_config(data) else None


def _link_fields(config: Path, left: Path | Any, right: Path | None, out: Path, db: str | None,
                 data: Path | None, unmask: bool, as_json: bool, lang: str, label: str | None = None) -> None:
    from jingzhun.link.adhoc import link_fields_files

    cfg = _fields_config(config)
    assert cfg is not None
    decisions = _store(db, data) if (db or data) else None
    started = time.perf_counter()
    with Console(stderr=True).status(_t(_STAGES["probabilistic"], lang)):
        result, written = link_fields_files(cfg, left, right, out, decisions=decisions, unmask=unmask,
                                            left_label=label)
    summary = {**result.summary, "warnings": result.warnings,
               "files": {k: str(v) for k, v in written.items()},
               "seconds": round(time.perf_counter() - started, 3)}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
        return
    console = Console()
    for warning in result.warnings:
        console.print(f"[yellow]{'警告' if lang == 'zh' else 'warning'}:[/yellow] {warning}", highlight=False)
    table = Table(title=("比对结果 " if lang == "zh" else "Linkage ") + cfg.name)
    table.add_column("类别" if lang == "zh" else "band")
    table.add_column("数量" if lang == "zh" else "rows", justify="right")
    from jingzhun.link.explain import BAND_LABELS

    for band, n in summary["by_band"].items():
        table.add_row(BAND_LABELS.get(band, band), str(n))
    console.print(table)
    for path in written.values():
        console.print(str(path), highlight=False)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="数据比对 Linkage of department records to registered people (exact + Splink).")
    app.add_typer(group, name="link")

    @group.callback(invoke_without_command=True)
    def link_main(
        ctx: typer.Context,
        config: Path | None = typer.Option(None, "--config", help="Linkage configuration (YAML)."),
        left: Path | None = typer.Option(
            None, "--left", help="Reference table (e.g. registry): xlsx/csv/parquet."
        ),
        right: Path | None = typer.Option(
            None, "--right", help="Records to link (e.g. a feed): xlsx/csv/parquet."
        ),
        out: Path | None = typer.Option(None, "--out", help="Output links: .xlsx, .csv or .parquet."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
        unmask: bool = typer.Option(False, "--unmask", help="Write ID numbers in full (masked by default)."),
        key_file: Path | None = typer.Option(
            None, "--key-file", help="Shared key: the right file is hashed."
        ),
        db: str | None = typer.Option(None, "--db", help="Ops store URL with review decisions to apply."),
        data: Path | None = typer.Option(None, "--data", help="Data folder whose ops store holds decisions."),
        lang: str = typer.Option("zh", "--lang", help="zh or en."),
    ) -> None:
        """Link the rows of --right to the rows of --left and write links with method, score and band."""
        if ctx.invoked_subcommand is not None:
            return
        if not (config and left and right and out):
            typer.echo(ctx.get_help())
            raise typer.Exit(2)
        from jingzhun.link.adhoc import link_files, write_outputs
        from jingzhun.link.config import load_config
        from jingzhun.link.hashing import read_key_file

        if _fields_config(config) is not None:
            if key_file is not None:
                raise JingzhunError(f"{config}: keyed hashes (--key-file) work with register configurations "
                                    "(roles), not with 'fields'; hash an ID column yourself and map it as "
                                    "type categorical to compare digests exactly")
            _link_fields(config, left, right, out, db, data, unmask, as_json, lang)
            return
        cfg = load_config(config)
        key = read_key_file(key_file) if key_file else None
        if key is not None and not cfg.hashed:
            from dataclasses import replace

            cfg = replace(cfg, hashed=True)
        decisions = _store(db, data) if (db or data) else None
        console = Console(stderr=True)
        started = time.perf_counter()
        with console.status(_t(_STAGES["read"], lang)) as status:
            result, export = link_files(
                cfg,
                left,
                right,
                decisions=decisions,
                key=key,
                unmask=unmask,
                progress=lambda stage: status.update(_t(_STAGES.get(stage, (stage, stage)), lang)),
            )
            links_path, review_file = write_outputs(export, result.review, out)
        summary = {
            **result.summary,
            "out": str(links_path),
            "review_file": str(review_file),
            "seconds": round(time.perf_counter() - started, 3),
        }
        if as_json:
            typer.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
            return
        model_info = summary.get("model") or {}
        for kind, items in (("comparison", model_info.get("dropped_comparisons")),
                            ("blocking rule", model_info.get("dropped_blocking"))):
            for item in items or []:
                Console(stderr=True).print(
                    f"[yellow]{'警告' if lang == 'zh' else 'warning'}:[/yellow] {kind} '{item}' not used: its "
                    "column(s) are empty in one of the files (map them, or use a 'fields' configuration)",
                    highlight=False)
        table = Table(title=("比对结果 " if lang == "zh" else "Linkage ") + cfg.name)
        table.add_column("类别" if lang == "zh" else "outcome")
        table.add_column("记录数" if lang == "zh" else "records", justify="right")
        for k, label in _SUMMARY.items():
            table.add_row(_t(label, lang), str(summary[k]))
        table.add_row("合计" if lang == "zh" else "total", str(summary["records"]))
        Console().print(table)
        Console().print(f"{links_path}  ({review_file})  {summary['seconds']} s")

    @group.command("dedupe")
    def dedupe_cmd(
        config: Path = typer.Option(..., "--config", help="Configuration with mode: dedupe and typed fields."),
        file: Path | None = typer.Option(None, "--file", help="The list to search for duplicates: "
                                                             "xlsx/csv/parquet (default: the register of --data)."),
        out: Path = typer.Option(..., "--out", help="Output: .xlsx (workbook), .csv or .parquet."),
        db: str | None = typer.Option(None, "--db", help="Ops store URL with review decisions to apply."),
        data: Path | None = typer.Option(None, "--data", help="Data folder: its register is searched when no "
                                                             "--file is given; its ops store holds decisions."),
        period: str | None = typer.Option(None, "--period", help="With --data: the register as of YYYY-MM."),
        unmask: bool = typer.Option(False, "--unmask", help="Write ID numbers in full (masked by default)."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
        lang: str = typer.Option("zh", "--lang", help="zh or en."),
    ) -> None:
        """查重 Find the same person recorded twice in one list (e.g. the register), every pair explained;
        stops when an implausible share of records would be flagged (guard.max_duplicate_share)."""
        cfg = _fields_config(config)
        if cfg is None or not cfg.dedupe:
            raise JingzhunError(f"{config}: a de-duplication needs a configuration with 'fields' and "
                                "'mode: dedupe' (see config/linkage/register_dedupe.yaml)")
        if file is None:
            if data is None:
                raise JingzhunError("give --file LIST, or --data DIR to search the register of a data folder")
            from jingzhun.link.register import register_members

            members = register_members(data, period)
            _link_fields(config, members, None, out, db, data, unmask, as_json, lang,
                         label=f"{data} (register{' ' + period if period else ''})")
            return
        _link_fields(config, file, None, out, db, data, unmask, as_json, lang)

    @group.command("models")
    def models(
        data: Path = typer.Option(Path("jingzhun-data"), "--data", help="Data folder of the monthly runs."),
        forget: bool = typer.Option(False, "--forget", help="Delete the stored models: the next run trains."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List the linkage models stored for the monthly runs, or forget them to train again."""
        from jingzhun.link.cache import LinkCache
        from jingzhun.link.model import Model
        from jingzhun.store import DataFolder

        cache = LinkCache(DataFolder(data).root / "linkage")
        rows = []
        for path in cache.models():
            model = Model.load(path)
            rows.append({"file": path.name, "digest": model.digest()[:16], "prior": model.prior,
                         "registry": model.info.get("registry"),
                         "records_sampled": model.info.get("records_sampled")})
        if forget:
            n = cache.forget_models()
            typer.echo(f"已删除 {n} 个模型，下次运行重新训练 / {n} model(s) deleted; the next run trains again")
            return
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows or [{"file": "(无 none)"}]:
            typer.echo("  ".join(f"{k}={v}" for k, v in row.items()))

    review = typer.Typer(help="人工复核 Clerk review of candidate pairs.", no_args_is_help=True)
    group.add_typer(review, name="review")

    @review.command("import")
    def review_import(
        workbook: Path = typer.Argument(..., help="A workbook written by `jingzhun link` with decisions typed "
                                                  "into its 待复核 review sheet."),
        user: str = typer.Option(..., "--user", help="Who decided."),
        data: Path | None = typer.Option(None, "--data", help="Data folder whose ops store keeps decisions."),
        db: str | None = typer.Option(None, "--db", help="Ops store URL (default: the data folder's)."),
    ) -> None:
        """Store the decisions typed into a review workbook (接受/否决, accept/reject): the next run of the
        same configuration applies them."""
        from jingzhun.link.explain import read_decisions
        from jingzhun.link.review import decide

        rows = read_decisions(workbook)
        store = _store(db, data)
        for row in rows:
            decide(store, row["list"], row["fingerprint"], row["left_id"], row["decision"], user, row["note"],
                   row["probability"])
        accepted = sum(1 for r in rows if r["decision"] == "accept")
        typer.echo(f"已导入 {len(rows)} 条决定（接受 {accepted}，否决 {len(rows) - accepted}） / "
                   f"{len(rows)} decision(s) imported ({accepted} accepted, {len(rows) - accepted} rejected)")

    @review.command("list")
    def review_list(
        review_file: Path | None = typer.Option(
            None, "--review", help="A .review.parquet from `jingzhun link`."
        ),
        data: Path | None = typer.Option(None, "--data", help="Data folder (latest runs/*/review.parquet)."),
        db: str | None = typer.Option(None, "--db", help="Ops store URL (default: the data folder's)."),
        feed: str | None = typer.Option(None, "--feed", help="Only this feed."),
        as_json: bool = typer.Option(False, "--json"),
        limit: int = typer.Option(50, "--limit"),
    ) -> None:
        """List pairs waiting for a decision, both records side by side (already decided pairs hidden)."""
        from jingzhun.link.review import load_decisions

        table, _path = _review_table(review_file, data)
        rows = [r for r in table.to_pylist() if feed is None or r["feed"] == feed]
        if db or data or review_file is None:
            store = _store(db, data)
            decided: set[tuple[str, str, str]] = set()
            for f in {r["feed"] for r in rows}:
                decided |= {
                    (f, d["record_fingerprint"], d["person_id"]) for d in load_decisions(store, f).to_pylist()
                }
            rows = [r for r in rows if (r["feed"], r["fingerprint"], r["person_id"]) not in decided]
        rows = rows[:limit]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            return
        out = Table(title=f"待复核 review queue ({len(rows)})")
        for col in ("#", "指纹 fingerprint", "得分 score", "记录 record", "候选人 candidate"):
            out.add_column(col)
        for i, r in enumerate(rows, 1):
            rec = (
                f"{r['record_id']} {r['record_name']} {r['record_sex'] or ''}"
                f" {r['record_birth_date'] or ''}\n"
                f"{r['record_region'] or ''} {r['record_id_number'] or ''}"
            )
            per = (
                f"{r['person_id']} {r['person_name']} {r['person_sex'] or ''}"
                f" {r['person_birth_date'] or ''}\n"
                f"{r['person_region'] or ''} {r['person_id_number'] or ''}"
            )
            out.add_row(
                str(i), r["fingerprint"][:12], f"{r['score']:.3f}" if r["score"] is not None else "", rec, per
            )
        Console().print(out)

    def _decide(
        decision: str,
        fingerprint: str,
        person_id: str,
        feed: str | None,
        user: str,
        note: str | None,
        review_file: Path | None,
        data: Path | None,
        db: str | None,
    ) -> None:
        from jingzhun.link.review import decide

        score = None
        if review_file is not None or (len(fingerprint) < 64 and data is not None):
            table, path = _review_table(review_file, data)
            hits = [
                r
                for r in table.to_pylist()
                if r["fingerprint"].startswith(fingerprint)
                and r["person_id"] == person_id
                and (feed is None or r["feed"] == feed)
            ]
            if len(hits) != 1:
                raise NotFound(
                    f"{len(hits)} review pairs match fingerprint {fingerprint!r} and person {person_id!r} "
                    f"in {path}"
                )
            fingerprint, feed, score = hits[0]["fingerprint"], hits[0]["feed"], hits[0]["score"]
        if feed is None:
            raise JingzhunError("--feed is required when no --review file is given")
        if len(fingerprint) != 64:
            raise JingzhunError(
                "give the full 64-character fingerprint, or a prefix together with --review FILE"
            )
        decide(_store(db, data), feed, fingerprint, person_id, decision, user, note, score)
        typer.echo(
            f"{'已确认' if decision == 'accept' else '已否决'} {decision}: "
            f"{feed} {fingerprint[:12]} → {person_id}"
        )

    for _decision in ("accept", "reject"):

        def _make(decision: str = _decision):  # type: ignore[no-untyped-def]
            def command(
                fingerprint: str = typer.Argument(
                    ..., help="Record fingerprint (or a prefix with --review)."
                ),
                person_id: str = typer.Argument(..., help="Candidate person_id."),
                user: str = typer.Option(..., "--user", help="Who decides."),
                note: str | None = typer.Option(None, "--note"),
                feed: str | None = typer.Option(None, "--feed"),
                review_file: Path | None = typer.Option(None, "--review"),
                data: Path | None = typer.Option(None, "--data"),
                db: str | None = typer.Option(None, "--db"),
            ) -> None:
                _decide(decision, fingerprint, person_id, feed, user, note, review_file, data, db)

            command.__doc__ = (
                "Accept the pair: it becomes a link now and in later months."
                if decision == "accept"
                else "Reject the pair: it is never proposed again."
            )
            return command

        review.command(_decision)(_make())

    @app.command("hash-ids")
    def hash_ids_cmd(
        source: Path | None = typer.Argument(None, help="Input file (xlsx/csv/parquet)."),
        target: Path | None = typer.Argument(None, help="Output file (xlsx/csv/parquet)."),
        key_file: Path | None = typer.Option(None, "--key-file", help="The shared key file."),
        new_key: Path | None = typer.Option(
            None, "--new-key", help="Generate a new key file (0600) and exit."
        ),
        column: list[str] | None = typer.Option(None, "--column", help="ID column(s); default: detected."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """数据可用不可见: replace ID numbers by HMAC-SHA256 digests before a file leaves the department."""
        from jingzhun.link.hashing import hash_table, new_key_file, read_key_file
        from jingzhun.link.io import read_table, write_table

        if new_key is not None:
            path = new_key_file(new_key)
            typer.echo(f"新密钥已生成 new key written: {path} (0600)")
            return
        if not (key_file and source and target):
            raise JingzhunError(
                "usage: jingzhun hash-ids --key-file KEY IN OUT  |  jingzhun hash-ids --new-key KEY"
            )
        key = read_key_file(key_file)
        started = time.perf_counter()
        with Console(stderr=True).status("哈希处理证件号码 hashing ID numbers"):
            table = read_table(source)
            hashed, stats = hash_table(table, key, list(column) if column else None)
            write_table(hashed, target)
        seconds = time.perf_counter() - started
        info = {
            **stats,
            "seconds": round(seconds, 3),
            "rows_per_s": round(stats["rows"] / seconds) if seconds else None,
            "out": str(target),
        }
        if as_json:
            typer.echo(json.dumps(info, ensure_ascii=False))
        else:
            typer.echo(
                f"{info['rows']} 行 rows, {info['distinct_hashed']} 个不同号码 distinct numbers → {target} "
                f"({info['seconds']} s, {info['rows_per_s']} rows/s)"
            )
