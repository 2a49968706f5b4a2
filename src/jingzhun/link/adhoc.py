"""Ad-hoc linkage of two files (``jingzhun link --config FILE --left A --right B --out OUT``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from jingzhun.link import sql as q
from jingzhun.link.anylink import AnyLinkResult
from jingzhun.link.api import LinkResult, link_feed_result
from jingzhun.link.config import LinkConfig, Side
from jingzhun.link.fields import FieldsConfig
from jingzhun.link.io import read_table, write_table
from jingzhun.link.sql import quote, tree


def link_files(
    config: LinkConfig,
    left: str | Path,
    right: str | Path,
    *,
    decisions: Any = None,
    key: bytes | None = None,
    unmask: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[LinkResult, pa.Table]:
    """Link the rows of ``right`` to those of ``left``; returns the result and the table to export (links
    with both sides' name and ID number, masked unless ``unmask``)."""
    say = progress or (lambda _m: None)
    say("read")
    left_table, right_table = read_table(left), read_table(right)
    check_columns(left_table, config.left, str(left))
    check_columns(right_table, config.right, str(right))
    from jingzhun.engines.factory import make_engine

    engine = make_engine("duckdb")
    try:
        return _link_on(engine, config, left_table, right_table, decisions, key, unmask, progress)
    finally:
        engine.close()


def check_columns(table: pa.Table, side: Side, label: str) -> None:
    """Every column a side's mapping names exists in the file; errors name the file and list its columns
    (the linkage itself only knows the tables it registered)."""
    from jingzhun.errors import FileLevelError, Location

    available = table.column_names
    wanted = [("id", side.id), *side.columns.items()]
    for role, column in wanted:
        if column not in available:
            raise FileLevelError(f"column {column!r} (role {role}) not found; the file's columns: "
                                 f"{', '.join(available)}", Location(file=label, field=column))


def _link_on(engine: Any, config: LinkConfig, left_table: pa.Table, right_table: pa.Table, decisions: Any,
             key: bytes | None, unmask: bool, progress: Callable[[str], None] | None,
             ) -> tuple[LinkResult, pa.Table]:
    engine.register_table("jz_left", left_table)
    engine.register_table("jz_right", right_table)
    result = link_feed_result(
        engine, "jz_left", "jz_right", config, decisions, key=key, unmask_review=unmask, progress=progress
    )
    engine.register_table("jz_links", result.links)
    m = (lambda e: e) if unmask else (lambda e: q.mask(q.id_normalise(e)))
    rn, ln = config.right.columns.get("name", ""), config.left.columns.get("name", "")
    rid, lid = config.right.columns.get("id_number", ""), config.left.columns.get("id_number", "")
    rcols, lcols = set(right_table.column_names), set(left_table.column_names)
    extra_r = [f"r.{quote(rn)} AS right_name"] if rn in rcols else []
    extra_r += [f"{m('r.' + quote(rid))} AS right_id_number"] if rid in rcols else []
    extra_l = [f"l.{quote(ln)} AS left_name"] if ln in lcols else []
    extra_l += [f"{m('l.' + quote(lid))} AS left_id_number"] if lid in lcols else []
    select = ", ".join(
        [
            "k.record_id",
            "k.person_id AS left_id",
            "k.household_id",
            "k.method",
            "k.score",
            "k.band",
            "k.candidate_person_id AS candidate_left_id",
            *extra_r,
            *extra_l,
        ]
    )

    def dedup(table: str, key: str) -> str:
        by = f"CAST({quote(key)} AS VARCHAR)"
        return (f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {by} ORDER BY {by}) AS jz_n "
                f"FROM {table}) WHERE jz_n = 1")

    dedup_right, dedup_left = dedup("jz_right", config.right.id), dedup("jz_left", config.left.id)
    export = engine.fetch_arrow(tree(f"""
        SELECT {select}
        FROM jz_links k
        LEFT JOIN ({dedup_right}) r ON CAST(r.{quote(config.right.id)} AS VARCHAR) = k.record_id
        LEFT JOIN ({dedup_left}) l
               ON CAST(l.{quote(config.left.id)} AS VARCHAR) = coalesce(k.person_id, k.candidate_person_id)
        ORDER BY k.record_id
    """))
    return result, export


def review_path(out: str | Path) -> Path:
    """Where the review queue of a link output is written.

    >>> review_path("links.xlsx").name
    'links.review.parquet'
    """
    out = Path(out)
    return out.with_name(out.stem + ".review.parquet")


def write_outputs(export: pa.Table, review: pa.Table, out: str | Path) -> tuple[Path, Path]:
    """Write the links to ``out`` and the review queue beside it: ``.review.parquet`` (what `jingzhun link
    review` reads) and the same rows as ``.review.xlsx`` for people (Excel does not open Parquet)."""
    write_table(review, review_path(out).with_suffix(".xlsx"))
    return write_table(export, out), write_table(review, review_path(out))


def link_fields_files(config: FieldsConfig, left: str | Path | pa.Table, right: str | Path | None,
                      out: str | Path, *, decisions: Any = None, unmask: bool = False,
                      left_label: str | None = None) -> tuple[AnyLinkResult, dict[str, Path]]:
    """Link two files (or de-duplicate one) on typed fields and write what a clerk reads: an xlsx
    output is one workbook (review queue with a decision column, links, model, notes); a CSV or Parquet
    output holds the links and the workbook is written beside it (``<name>.review.xlsx``); the
    match-weight chart is ``<name>.chart.html``. Nothing is written when the linkage fails (the
    duplicate guard included). ``left`` may be a table already read (``left_label`` names it)."""
    from jingzhun.link.anylink import link_tables
    from jingzhun.link.explain import write_chart, write_workbook

    out = Path(out)
    left_table = left if isinstance(left, pa.Table) else read_table(left)
    label = left_label or str(left if not isinstance(left, pa.Table) else "left")
    right_table = read_table(right) if right is not None and not config.dedupe else None
    result = link_tables(config, left_table, right_table, decisions=decisions, left_label=label,
                         right_label=str(right or label), unmask=unmask)
    written: dict[str, Path] = {}
    if out.suffix.lower() == ".xlsx":
        workbook = out
    else:
        written["links"] = write_table(result.links, out)
        workbook = out.with_name(out.stem + ".review.xlsx")
    written["workbook"] = write_workbook(workbook, result.links, result.review, result.model, result.summary,
                                         result.warnings, {f.name: f.title for f in config.fields})
    written["chart"] = write_chart(out.with_name(out.stem + ".chart.html"), result.model,
                                   f"{config.name}: 匹配权重 match weights", result.review)
    return result, written
