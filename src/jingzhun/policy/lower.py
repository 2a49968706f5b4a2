"""Lower checked rules to sqlglot trees: one SELECT per rule over its entity, one aggregated subquery per
(source, key) joined to it, parameters resolved for the period (CASE by province where they differ).

>>> from jingzhun.policy.loader import load_text
>>> from jingzhun.policy.checker import check_rule
>>> ps = load_text('''
... rules:
...   - id: trigger.oop
...     kind: trigger
...     entity: household
...     let:
...       value: >-
...         sum(medical_claim.out_of_pocket where medical_claim.visit_type == '住院', last 12 months)
...     when: value >= param.limit
...     params: {limit: {default: 5000, provinces: {"52": 6000}}}
... ''')
>>> tree = lower_rule(check_rule(ps, ps.rules["trigger.oop"]), ps, "2025-06").tree
>>> sql = tree.sql("duckdb")
>>> ("SUM(s2.out_of_pocket) FILTER(WHERE s2.claim_date >= CAST('2024-07-01' AS DATE)"
...  " AND (s2.visit_type = '住院'))") in sql
True
>>> "CASE WHEN h.province_code = '52' THEN 6000 ELSE 5000 END" in sql
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlglot import exp

from jingzhun.errors import PolicyError
from jingzhun.policy import schema
from jingzhun.policy.checker import CheckedRule, period_dates
from jingzhun.policy.model import PolicySet
from jingzhun.policy.nodes import Agg, Between, Binary, Call, IsNull, ListLit, Literal, Name, Node, Unary


def rule_table(rule_id: str) -> str:
    """Name of the table holding one rule's rows.

    >>> rule_table("trigger.medical_oop")
    'jz_r_trigger__medical_oop'
    """
    return "jz_r_" + rule_id.replace(".", "__")


@dataclass
class _Level:
    """One SELECT being built: table aliases, the row's keys, joins and aggregation groups."""

    aliases: dict[str, str]
    keys: dict[str, exp.Expr]
    province: exp.Expr | None
    joins: list[tuple[exp.Expr, str, exp.Expr]] = field(default_factory=list)
    groups: dict[tuple[str, str], _Group] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    semi: tuple[str, dict[str, str]] | None = None  # (rule table, key -> column): only its fired rows


@dataclass
class _Group:
    alias: str
    source: str
    key: str
    inner: _Level
    src_alias: str
    columns: list[exp.Expr] = field(default_factory=list)
    cache: dict[tuple[int, str], str] = field(default_factory=dict)
    member_alias: str | None = None
    semi: tuple[str, str] | None = None  # (rule table, column): aggregate only keys of its fired rows


@dataclass
class Column:
    """A column of a rule table shown in evidence or explanations."""

    name: str
    label: str
    type: str


@dataclass
class LoweredRule:
    checked: CheckedRule
    table: str
    tree: exp.Expr
    values: list[Column]
    params: list[Column]
    records: list[Column]
    explain: list[Column]
    record_columns: list[exp.Expr] = field(default_factory=list)
    record_joins: list[exp.Join] = field(default_factory=list)


def _p(e: exp.Expr) -> exp.Expr:
    if isinstance(e, exp.Binary | exp.Connector | exp.Not | exp.Between | exp.In | exp.Is | exp.Neg):
        return exp.Paren(this=e)
    return e


def literal(v: Any) -> exp.Expr:
    """A Python value as a SQL literal.

    >>> literal(5000).sql(), literal("脱贫户").sql(), literal(True).sql(), literal(["C", "D"]).sql("duckdb")
    ('5000', "'脱贫户'", 'TRUE', "['C', 'D']")
    """
    if v is None:
        return exp.Null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, int | float) or type(v).__name__ == "Decimal":
        return exp.Literal.number(str(v))
    if isinstance(v, date):
        return exp.cast(exp.Literal.string(v.isoformat()), "DATE")
    if isinstance(v, list):
        return exp.Array(expressions=[literal(x) for x in v])
    return exp.Literal.string(str(v))


_OPS: dict[str, type[exp.Expr]] = {
    "and": exp.And,
    "or": exp.Or,
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "+": exp.Add,
    "-": exp.Sub,
    "*": exp.Mul,
    "/": exp.Div,
}


class _Lowerer:
    def __init__(self, ps: PolicySet, checked: CheckedRule, period: str, household_id: str | None):
        self.ps = ps
        self.checked = checked
        self.rule = checked.rule
        self.period = period
        self.start, self.end = period_dates(period)
        self.household_id = household_id
        self.n = 0
        self.used: set[str] = set()

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    # -- expressions
    def lower(self, node: Node, lv: _Level) -> exp.Expr:
        if isinstance(node, Literal):
            if node.type == "date":
                return exp.cast(exp.Literal.string(node.value), "DATE")
            return literal(node.value)
        if isinstance(node, ListLit):
            return exp.Tuple(expressions=[self.lower(i, lv) for i in node.items])
        if isinstance(node, Name):
            return self.name(node, lv)
        if isinstance(node, Unary):
            inner = self.lower(node.operand, lv)  # type: ignore[arg-type]
            return exp.Not(this=_p(inner)) if node.op == "not" else exp.Neg(this=_p(inner))
        if isinstance(node, IsNull):
            is_null = exp.Is(this=_p(self.lower(node.operand, lv)), expression=exp.Null())  # type: ignore[arg-type]
            return exp.Not(this=is_null) if node.negated else is_null
        if isinstance(node, Between):
            assert node.operand is not None and node.low is not None and node.high is not None
            return exp.Between(
                this=_p(self.lower(node.operand, lv)),
                low=_p(self.lower(node.low, lv)),
                high=_p(self.lower(node.high, lv)),
            )
        if isinstance(node, Binary):
            left = _p(self.lower(node.left, lv))  # type: ignore[arg-type]
            if node.op in ("in", "not in"):
                items = self.list_items(node.right, lv)  # type: ignore[arg-type]
                e: exp.Expr = exp.In(this=left, expressions=items)
                return exp.Not(this=e) if node.op == "not in" else e
            right = _p(self.lower(node.right, lv))  # type: ignore[arg-type]
            if node.op == "/":
                return exp.Div(this=left, expression=right, typed=False, safe=False)
            return _OPS[node.op](this=left, expression=right)
        if isinstance(node, Call):
            return self.call(node, lv)
        if isinstance(node, Agg):
            return self.agg(node, lv)
        raise TypeError(node)  # pragma: no cover

    def list_items(self, node: Node, lv: _Level) -> list[exp.Expr]:
        if isinstance(node, ListLit):
            return [self.lower(i, lv) for i in node.items]
        if isinstance(node, Name) and node.ref and node.ref[0] == "param":
            p = self.ps.param(self.rule, node.ref[1])
            assert p is not None
            national, diff = p.for_period(self.period)
            if diff:
                raise PolicyError(f"list parameter {p.name!r} cannot differ by province", p.location)
            return [literal(x) for x in national]
        raise PolicyError("expected a list", self.rule.location)  # pragma: no cover - checker prevents

    def call(self, node: Call, lv: _Level) -> exp.Expr:
        f = node.func
        if f == "months_ago":
            n = node.args[0].value  # type: ignore[attr-defined]
            y, m = self.end.year, self.end.month - n
            while m < 1:
                y, m = y - 1, m + 12
            day = min(self.end.day, period_dates(f"{y:04d}-{m:02d}")[1].day)
            return literal(date(y, m, day))
        args = [self.lower(a, lv) for a in node.args]
        if f == "coalesce":
            return exp.Coalesce(this=args[0], expressions=args[1:])
        if f in ("least", "greatest"):
            return (exp.Least if f == "least" else exp.Greatest)(this=args[0], expressions=args[1:])
        if f == "abs":
            return exp.Abs(this=args[0])
        if f == "round":
            return exp.Round(this=args[0], decimals=args[1] if len(args) > 1 else exp.Literal.number(0))
        if f == "year":
            return exp.Year(this=args[0])
        if f == "month":
            return exp.Month(this=args[0])
        if f == "if":
            return exp.If(this=args[0], true=args[1], false=args[2])
        raise TypeError(f)  # pragma: no cover

    def name(self, node: Name, lv: _Level) -> exp.Expr:
        ref = node.ref
        if ref[0] == "field":
            self.used.add(lv.aliases[ref[1]])
            return exp.column(ref[2], table=lv.aliases[ref[1]])
        if ref[0] == "param":
            return self.param(ref[1], lv)
        if ref[0] == "period":
            return {
                "start": literal(self.start),
                "end": literal(self.end),
                "year": literal(self.end.year),
                "month": literal(self.period),
            }[ref[1]]
        if ref[0] == "rule":
            rid = ref[1]
            alias = lv.rules.get(rid)
            if alias is None:
                alias = lv.rules[rid] = self.fresh("r")
                other = self.ps.rules[rid]
                on = exp.EQ(
                    this=exp.column("entity_id", table=alias),
                    expression=lv.keys[schema.ENTITY_KEY[other.entity]].copy(),
                )
                lv.joins.append((exp.to_table(rule_table(rid)), alias, on))
            return exp.Coalesce(this=exp.column("fired", table=alias), expressions=[exp.false()])
        raise TypeError(ref)  # pragma: no cover

    def param(self, name: str, lv: _Level) -> exp.Expr:
        p = self.ps.param(self.rule, name)
        assert p is not None
        national, diff = p.for_period(self.period)
        if not diff:
            return literal(national)
        if lv.province is None:
            raise PolicyError(f"parameter {name!r} differs by province and cannot be used here", p.location)
        case = exp.Case()
        for code, v in diff.items():
            case = case.when(exp.EQ(this=lv.province.copy(), expression=exp.Literal.string(code)), literal(v))
        return case.else_(literal(national))

    # -- aggregations
    def group(self, node: Agg, lv: _Level) -> _Group:
        source = node.source or ""
        key = schema.join_key(source, _row_kind(lv))
        assert key is not None, (source, lv.keys)
        g = lv.groups.get((source, key))
        if g is not None:
            return g
        alias, src = self.fresh("a"), self.fresh("s")
        if source in ("member", "household"):
            keys: dict[str, exp.Expr] = {k: exp.column(k, table=src) for k in schema.ROW_KEYS[source]}
            inner = _Level({source: src, "_row": source}, keys, exp.column("province_code", table=src))
        elif source in schema.PERSON_FEEDS:
            keys = {k: exp.column(k, table=src) for k in ("person_id", "household_id")}
            inner = _Level({source: src, "_row": source}, keys, None)
        else:
            keys = {"village_code": exp.column("village_code", table=src)}
            province = exp.Substring(
                this=exp.column("village_code", table=src),
                start=exp.Literal.number(1),
                length=exp.Literal.number(2),
            )
            inner = _Level({source: src, "_row": source}, keys, province)
        g = _Group(alias, source, key, inner, src)
        if lv.semi is not None:
            g.semi = (lv.semi[0], lv.semi[1][key])
        lv.groups[(source, key)] = g
        lv.joins.append(
            (
                exp.Placeholder(this=alias),
                alias,  # replaced by the subquery when finished
                exp.EQ(this=exp.column("k", table=alias), expression=lv.keys[key].copy()),
            )
        )
        return g

    def window_cond(self, source: str, node: Agg, alias: str) -> exp.Expr | None:
        if node.window.unit == "all":
            return None
        df = schema.date_field(source)
        assert df is not None
        if node.window.unit == "year":
            start = date(self.end.year, 1, 1)
        else:
            y, m = self.end.year, self.end.month - node.window.n + 1
            while m < 1:
                y, m = y - 1, m + 12
            start = date(y, m, 1)
        col = exp.column(df[0], table=alias)
        bound = literal(f"{start.year:04d}-{start.month:02d}") if df[1] == "month" else literal(start)
        return exp.GTE(this=col, expression=bound)

    def agg(self, node: Agg, lv: _Level, with_records: bool = False) -> exp.Expr:
        g = self.group(node, lv)
        if node.joins_member and g.member_alias is None:
            g.member_alias = self.fresh("sm")
            g.inner.aliases["member"] = g.member_alias
        conds = [c for c in (self.window_cond(g.source, node, g.src_alias),) if c is not None]
        if node.where is not None:
            conds.append(_p(self.lower(node.where, g.inner)))
        f = node.func
        if f in ("any", "count") and node.arg is not None:
            conds.append(_p(self.lower(node.arg, g.inner)))
        if f == "all":
            arg = self.lower(node.arg, g.inner)  # type: ignore[arg-type]
            conds.append(exp.Not(this=exp.Coalesce(this=arg, expressions=[exp.false()])))
        cond = exp.and_(*conds) if conds else None

        def add(kind: str, agg_expr: exp.Expr, sort: bool = False) -> exp.Expr:
            cache_key = (id(node), kind)
            col = g.cache.get(cache_key)
            if col is None:
                col = g.cache[cache_key] = f"c{len(g.columns)}"
                if cond is not None:
                    agg_expr = exp.Filter(this=agg_expr, expression=exp.Where(this=cond.copy()))
                if sort:
                    agg_expr = exp.ArraySort(this=agg_expr)
                g.columns.append(exp.alias_(agg_expr, col))
            return exp.column(col, table=g.alias)

        if with_records:
            rid = {"member": "person_id", "household": "household_id"}.get(g.source, "record_id")
            return add("r", exp.ArrayAgg(this=exp.column(rid, table=g.src_alias)), sort=True)
        if f in ("count", "any", "all"):
            c = exp.Coalesce(this=add("v", exp.Count(this=exp.Star())), expressions=[exp.Literal.number(0)])
            out: exp.Expr = c
            if f == "any":
                out = exp.GT(this=c, expression=exp.Literal.number(0))
            elif f == "all":
                out = exp.EQ(this=c, expression=exp.Literal.number(0))
        else:
            arg = self.lower(node.arg, g.inner)  # type: ignore[arg-type]
            fn = {"sum": exp.Sum, "max": exp.Max, "min": exp.Min, "avg": exp.Avg}[f]
            col = add("v", fn(this=arg))
            out = exp.Coalesce(this=col, expressions=[exp.Literal.number(0)]) if f == "sum" else col
        return out

    def finish(self, lv: _Level) -> list[exp.Join]:
        """Turn the level's joins into JOIN nodes (building each aggregation's subquery)."""
        joins: list[exp.Join] = []
        for target, alias, on in lv.joins:
            if isinstance(target, exp.Placeholder):
                g = next(gr for gr in lv.groups.values() if gr.alias == alias)
                target = exp.Subquery(this=self.subquery(g))
            elif isinstance(target, exp.Table):
                target = target.copy()
            joins.append(exp.Join(this=exp.alias_(target, alias, table=True), side="LEFT", on=on))
        return joins

    def subquery(self, g: _Group) -> exp.Select:
        src_table = schema.CTX.get(g.source, g.source)
        key_col = exp.column(g.key, table=g.src_alias)
        q = exp.select(exp.alias_(key_col, "k"), *g.columns, copy=False).from_(
            exp.alias_(exp.to_table(src_table), g.src_alias, table=True), copy=False
        )
        if g.member_alias:
            q = q.join(
                exp.alias_(exp.to_table(schema.CTX["member"]), g.member_alias, table=True),
                join_type="LEFT",
                on=exp.EQ(
                    this=exp.column("person_id", table=g.member_alias),
                    expression=exp.column("person_id", table=g.src_alias),
                ),
                copy=False,
            )
        for j in self.finish(g.inner):
            q = q.join(j, copy=False)
        conds: list[exp.Expr] = [exp.Not(this=exp.Is(this=key_col.copy(), expression=exp.Null()))]
        if g.semi is not None:
            fired = exp.select(exp.column(g.semi[1]), copy=False).from_(g.semi[0], copy=False)
            fired = fired.where(exp.column("fired"), copy=False)
            conds.append(exp.In(this=key_col.copy(), query=exp.Subquery(this=fired)))
        df = schema.date_field(g.source)
        if df is not None:
            bound = literal(self.period) if df[1] == "month" else literal(self.end)
            conds.append(exp.LTE(this=exp.column(df[0], table=g.src_alias), expression=bound))
        if self.household_id is not None and g.source != "household" and g.source not in schema.VILLAGE_FEEDS:
            conds.append(
                exp.EQ(
                    this=exp.column("household_id", table=g.src_alias),
                    expression=exp.Literal.string(self.household_id),
                )
            )
        return q.where(exp.and_(*conds), copy=False).group_by(key_col.copy(), copy=False)


def _row_kind(lv: _Level) -> str:
    return str(lv.aliases.get("_row", "household"))


def _base(entity: str) -> tuple[_Level, exp.Expr, list[exp.Join]]:
    if entity == "household":
        lv = _Level(
            {"household": "h", "_row": "household"},
            {
                "household_id": exp.column("household_id", table="h"),
                "village_code": exp.column("village_code", table="h"),
            },
            exp.column("province_code", table="h"),
        )
        return lv, exp.alias_(exp.to_table(schema.CTX["household"]), "h", table=True), []
    if entity == "person":
        lv = _Level(
            {"member": "m", "household": "h", "_row": "person"},
            {
                "person_id": exp.column("person_id", table="m"),
                "household_id": exp.column("household_id", table="m"),
                "village_code": exp.column("village_code", table="m"),
            },
            exp.column("province_code", table="m"),
        )
        join = exp.Join(
            this=exp.alias_(exp.to_table(schema.CTX["household"]), "h", table=True),
            on=exp.EQ(
                this=exp.column("household_id", table="m"), expression=exp.column("household_id", table="h")
            ),
        )
        return lv, exp.alias_(exp.to_table(schema.CTX["member"]), "m", table=True), [join]
    lv = _Level(
        {"village": "v", "_row": "village"},
        {"village_code": exp.column("village_code", table="v")},
        exp.column("province_code", table="v"),
    )
    return lv, exp.alias_(exp.to_table(schema.CTX["village"]), "v", table=True), []


def lower_rule(
    checked: CheckedRule, ps: PolicySet, period: str, household_id: str | None = None
) -> LoweredRule:
    """The SELECT that computes one rule for every entity it applies to (fired or not)."""
    rule = checked.rule
    lo = _Lowerer(ps, checked, period, household_id)
    lv, base, base_joins = _base(rule.entity)
    key = schema.ENTITY_KEY[rule.entity]
    cols: list[exp.Expr] = [
        exp.alias_(lv.keys[key].copy(), "entity_id"),
        exp.alias_(
            lv.keys["household_id"].copy() if "household_id" in lv.keys else exp.cast(exp.Null(), "VARCHAR"),
            "household_id",
        ),
        exp.alias_(lv.keys["village_code"].copy(), "village_code"),
    ]
    values, params, records, explain = [], [], [], []
    for i, (name, node) in enumerate(checked.lets):
        col = f"v{i}_{name}"
        cols.append(exp.alias_(lo.lower(node, lv), col))
        values.append(Column(col, name, node.type or ""))
    for i, node in enumerate(checked.fields):
        col = f"f{i}"
        cols.append(exp.alias_(lo.lower(node, lv), col))
        values.append(Column(col, node.dotted, node.type or ""))
    for i, pname in enumerate(checked.params):
        col = f"p{i}_{pname}"
        cols.append(exp.alias_(lo.param(pname, lv), col))
        params.append(Column(col, pname, ""))
    for i, (label, _) in enumerate(checked.records):
        records.append(Column(f"r{i}", label, "list"))
    parts = [p for p in (*checked.explain_zh, *checked.explain_en) if p.node is not None]
    seen: dict[int, str] = {}
    for part in parts:
        if id(part.node) in seen:
            continue
        col = seen[id(part.node)] = f"x{len(seen)}"
        cols.append(exp.alias_(lo.lower(part.node, lv), col))  # type: ignore[arg-type]
        explain.append(Column(col, str(id(part.node)), part.node.type or ""))  # type: ignore[union-attr]
    # Evaluating everything, a rule's table keeps fired rows only (a rule using it reads absent as false);
    # explaining one household keeps every row, to show the rules that did not fire.
    keep_all = household_id is not None
    when = exp.Coalesce(this=_p(lo.lower(checked.when, lv)), expressions=[exp.false()])
    conds = [when.copy()] if not keep_all else []
    if checked.applies is not None:
        conds.insert(0, exp.Coalesce(this=_p(lo.lower(checked.applies, lv)), expressions=[exp.false()]))
    cols.append(exp.alias_(when if keep_all else exp.true(), "fired"))
    q = exp.select(*cols, copy=False).from_(base, copy=False)
    for j in base_joins:
        if rule.entity != "person" or "h" in lo.used:
            q = q.join(j, copy=False)
    for j in lo.finish(lv):
        q = q.join(j, copy=False)
    if conds:
        q = q.where(exp.and_(*conds), copy=False)
    rec_cols, rec_joins = _records(checked, ps, period, household_id, lo.n)
    return LoweredRule(checked, rule_table(rule.id), q, values, params, records, explain, rec_cols, rec_joins)


def _records(
    checked: CheckedRule, ps: PolicySet, period: str, household_id: str | None, start: int
) -> tuple[list[exp.Expr], list[exp.Join]]:
    """Record-id lists of the rule's aggregations, computed for fired rows only (a semi-join on the rule
    table), as columns and joins over the rule table."""
    if not checked.records:
        return [], []
    entity = checked.rule.entity
    table = rule_table(checked.rule.id)
    cols = {
        "person": {"person_id": "entity_id", "household_id": "household_id", "village_code": "village_code"},
        "household": {"household_id": "entity_id", "village_code": "village_code"},
        "village": {"village_code": "entity_id"},
    }[entity]
    lo = _Lowerer(ps, checked, period, household_id)
    lo.n = start + 100
    lv = _Level({"_row": entity}, {k: exp.column(c) for k, c in cols.items()}, None, semi=(table, cols))
    out = [
        exp.alias_(lo.agg(agg, lv, with_records=True), f"r{i}") for i, (_, agg) in enumerate(checked.records)
    ]
    return out, lo.finish(lv)
