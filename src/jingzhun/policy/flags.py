"""The result table: one row per fired result, with its evidence (JSON) and explanations (zh, en).

Evidence is ``{"values": {...}, "params": {...}, "records": {...}, "received": {...}}``: the values
compared (``let`` values and fields used), the thresholds (parameters as in effect for the row's
province), the ids of the records counted by each aggregation and, for feed records, the same records as
``record_id|date|received|import_id`` (their own date, the period that brought them and the import, whose
ledger row names the file).

>>> " ".join(f.name for f in FLAG_SCHEMA)
'rule_id kind entity entity_id household_id village_code evidence explain_zh explain_en'
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlglot import exp

from jingzhun.policy.checker import Part
from jingzhun.policy.lower import Column, LoweredRule

FLAG_SCHEMA = pa.schema(
    [
        pa.field("rule_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("entity_id", pa.string()),
        pa.field("household_id", pa.string()),
        pa.field("village_code", pa.string()),
        pa.field("evidence", pa.string()),
        pa.field("explain_zh", pa.string()),
        pa.field("explain_en", pa.string()),
    ]
)


def _struct(cols: list[Column], only: exp.Expr | None = None) -> exp.Expr:
    """``{label: value, …}``; with ``only``, each value is NULL where ``only`` is false."""

    def value(c: Column) -> exp.Expr:
        ref = c.ref("e")
        return ref if only is None else exp.Case().when(only.copy(), ref)

    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(c.label, quoted=True), expression=value(c)) for c in cols
        ]
    )


def fmt(col: exp.Expr, typ: str, lang: str) -> exp.Expr:
    """A value as display text: whole numbers without decimals, others to 2 places; yes/no; dates ISO.

    >>> fmt(exp.column("x"), "number", "zh").sql("duckdb")  # doctest: +ELLIPSIS
    "CASE WHEN x IS NULL THEN '—' WHEN x = ROUND(x, 0) THEN CAST(CAST(x AS BIGINT) AS TEXT) ELSE ..."
    """
    null = exp.Literal.string("—")
    text = exp.DataType.build("VARCHAR")
    case = exp.Case().when(exp.Is(this=col.copy(), expression=exp.Null()), null)
    if typ == "number":
        whole = exp.EQ(this=col.copy(), expression=exp.Round(this=col.copy(), decimals=exp.Literal.number(0)))
        case = case.when(whole, exp.cast(exp.cast(col.copy(), "BIGINT"), text))
        return case.else_(exp.cast(exp.Round(this=col.copy(), decimals=exp.Literal.number(2)), text))
    if typ == "bool":
        yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
        return case.when(col.copy(), exp.Literal.string(yes)).else_(exp.Literal.string(no))
    return case.else_(exp.cast(col.copy(), text))


def _explain(lr: LoweredRule, parts: list[Part], title: str, lang: str) -> exp.Expr:
    if not parts:
        return exp.Literal.string(title or lr.checked.rule.id)
    by_node = {c.label: c for c in lr.explain}
    pieces: list[exp.Expr] = []
    for p in parts:
        if p.node is None:
            pieces.append(exp.Literal.string(p.text))
        else:
            c = by_node[str(id(p.node))]
            pieces.append(fmt(c.ref("e"), c.type, lang))
    return pieces[0] if len(pieces) == 1 else exp.Concat(expressions=pieces)


def rule_flags(lr: LoweredRule, only_fired: bool = True) -> exp.Select:
    """SELECT of one rule's result rows in the flag schema (plus ``fired`` when ``only_fired`` is False)."""
    rule = lr.checked.rule
    fired = exp.column(lr.fired, table="e")
    # Record lists are aggregated for the keys where some rule of the stage fired: show them only where
    # this one did (explaining a household lists every rule, fired or not).
    only = {"records": None if only_fired else fired, "received": None if only_fired else fired}
    sections = [
        (name, cols)
        for name, cols in (
            ("values", lr.values), ("params", lr.params), ("records", lr.records), ("received", lr.received)
        )
        if cols
    ]
    evidence: exp.Expr = (
        exp.Struct(
            expressions=[
                exp.PropertyEQ(
                    this=exp.to_identifier(name, quoted=True), expression=_struct(cols, only.get(name))
                )
                for name, cols in sections
            ]
        )
        if sections
        else exp.Struct(
            expressions=[exp.PropertyEQ(this=exp.to_identifier("values", quoted=True), expression=exp.Null())]
        )
    )
    cols = [
        exp.alias_(exp.Literal.string(rule.id), "rule_id"),
        exp.alias_(exp.Literal.string(rule.kind), "kind"),
        exp.alias_(exp.Literal.string(rule.entity), "entity"),
        exp.alias_(exp.cast(exp.column("entity_id", table="e"), "VARCHAR"), "entity_id"),
        exp.alias_(exp.cast(exp.column("household_id", table="e"), "VARCHAR"), "household_id"),
        exp.alias_(exp.cast(exp.column("village_code", table="e"), "VARCHAR"), "village_code"),
        exp.alias_(exp.cast(exp.func("TO_JSON", evidence), "VARCHAR"), "evidence"),
        exp.alias_(_explain(lr, lr.checked.explain_zh, rule.title_zh, "zh"), "explain_zh"),
        exp.alias_(_explain(lr, lr.checked.explain_en, rule.title_en, "en"), "explain_en"),
    ]
    q = exp.select(*cols, copy=False).from_(exp.alias_(exp.to_table(lr.table), "e", table=True), copy=False)
    for j in lr.record_joins:
        q = q.join(j.copy(), copy=False)
    if only_fired:
        return q.where(fired, copy=False)
    q = q.select(exp.alias_(fired, "fired"), copy=False)
    return q.where(exp.column(lr.applies or lr.fired, table="e"), copy=False)


def flags_tree(rules: list[LoweredRule]) -> exp.Expr | None:
    """Every rule's fired rows, sorted by rule id then entity id (None when there are no rules)."""
    selects = [rule_flags(lr) for lr in sorted(rules, key=lambda r: r.checked.rule.id)]
    if not selects:
        return None
    union: exp.Expr = selects[0]
    for s in selects[1:]:
        union = exp.Union(this=union, expression=s, distinct=False)
    return (
        exp.select("*")
        .from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("f"))), copy=False)
        .order_by("rule_id", "entity_id", copy=False)
    )


def received_lines(evidence: dict[str, Any], files: dict[str, str] | None = None, lang: str = "zh") -> list[str]:
    """The feed records of an evidence, one line each, in words: the record, its own date, the period
    that brought it and the file (``files``: import id → file name, from the import ledger).

    >>> received_lines({"received": {"certs": ["D1|2025-02-22|2025-03|i1"]}}, {"i1": "残联2025-03.xlsx"})
    ['D1：日期 2025-02-22，2025-03 报送（残联2025-03.xlsx）']
    >>> received_lines({"received": {"certs": ["D1|2025-02-22|2025-03|"]}}, lang="en")
    ['D1: dated 2025-02-22, received in 2025-03']
    """
    out: list[str] = []
    for items in (evidence.get("received") or {}).values():
        for item in items or []:
            record, when, arrived, import_id = [*str(item).split("|"), "", "", ""][:4]
            name = (files or {}).get(import_id)
            if lang == "zh":
                line = f"{record}：日期 {when}，{arrived} 报送" + (f"（{name}）" if name else "")
            else:
                line = f"{record}: dated {when}, received in {arrived}" + (f" ({name})" if name else "")
            if line not in out:
                out.append(line)
    return out
