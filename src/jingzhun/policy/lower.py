"""Lower checked rules to sqlglot trees, fused by stage and entity, with aggregations shared by the plan.

* A rule's *stage* is 0 when it uses no other rule, else one more than the highest stage of the rules it
  uses. All rules of one stage and one entity are computed by ONE SELECT over that entity
  (``jz_s<N>_<entity>``), so the household, member and village rows are read once per stage rather than
  once per rule. It has one boolean column per rule (``f<i>``: applies and fired) and the values the
  evidence and explanations show, each distinct expression stored once; constants (parameters,
  literals) are not stored at all. When evaluating everything it keeps only rows where a rule fired.
* Aggregations that use no rule are shared by the whole plan: one table per (source, key)
  (``jz_agg_<source>_<key>``) holds every aggregate any rule computes over those records, each one
  ``agg(…) FILTER (WHERE window AND condition)``, identical aggregates once. Aggregations that use rules
  (``any(member where rule.…)``) are computed inside the stage that needs them.
* Record-id lists (evidence) are aggregated after a stage, only for the keys of its fired rows, in one
  table per (stage, source, key) (``jz_rec_s<N>_<entity>_<source>_<key>``).

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
>>> lowered = lower_rules({"trigger.oop": check_rule(ps, ps.rules["trigger.oop"])}, ["trigger.oop"], ps,
...                       "2025-06")
>>> [name for name, _ in lowered.steps]
['jz_agg_medical_claim_household_id', 'jz_s0_household', 'jz_rec_s0_household_medical_claim_household_id']
>>> agg = lowered.steps[0][1].sql("duckdb")
>>> ("SUM(s2.out_of_pocket) FILTER(WHERE s2.claim_date >= CAST('2024-07-01' AS DATE)"
...  " AND (s2.visit_type = '住院'))") in agg
True
>>> "CASE WHEN h.province_code = '52' THEN 6000 ELSE 5000 END" in lowered.steps[1][1].sql("duckdb")
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
from jingzhun.policy.model import PolicySet, Rule
from jingzhun.policy.nodes import Agg, Between, Binary, Call, IsNull, ListLit, Literal, Name, Node, Unary


def stage_table(stage: int, entity: str) -> str:
    """Name of the table holding the rows of one stage's rules over one entity.

    >>> stage_table(0, "household")
    'jz_s0_household'
    """
    return f"jz_s{stage}_{entity}"


@dataclass
class _Level:
    """One SELECT being built: table aliases, the row's keys, joins and aggregation groups."""

    aliases: dict[str, str]
    keys: dict[str, exp.Expr]
    province: exp.Expr | None
    joins: list[tuple[exp.Expr, str, exp.Expr]] = field(default_factory=list)
    groups: dict[tuple[str, str], _Group] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)  # stage table -> alias
    shared: bool = False  # aggregations without rule references go to the plan's shared tables
    store: str | None = None  # groups are stored as tables named store + source + key (record lists)
    semi: tuple[str, dict[str, str]] | None = None  # (stage table, key -> column): only its fired rows
    tables: dict[str, str] = field(default_factory=dict)  # shared group table -> alias in this level


@dataclass
class _Group:
    alias: str
    source: str
    key: str
    inner: _Level
    src_alias: str
    columns: list[exp.Expr] = field(default_factory=list)
    cache: dict[str, str] = field(default_factory=dict)  # aggregate SQL -> column
    member_alias: str | None = None
    table: str | None = None  # stored as this table (shared aggregates, record lists)
    semi: tuple[str, str] | None = None  # (stage table, key column): aggregate only keys of fired rows
    semi_fired: list[str] = field(default_factory=list)  # ... where one of these columns is true


@dataclass
class Column:
    """A value shown in evidence or explanations: a column of the stage table, or a constant."""

    name: str
    label: str
    type: str
    expr: exp.Expr | None = None  # the constant itself (not stored)

    def ref(self, table: str | None = None) -> exp.Expr:
        return self.expr.copy() if self.expr is not None else exp.column(self.name, table=table)


@dataclass
class LoweredRule:
    checked: CheckedRule
    table: str  # the stage table holding the rule's rows
    tree: exp.Expr  # the SELECT computing that table (with the stage's other rules)
    fired: str  # boolean column of the stage table: the rule applies and fired
    applies: str | None  # explaining one household: boolean column, the rule applies (rows shown)
    values: list[Column]
    params: list[Column]
    records: list[Column]
    explain: list[Column]
    stage: int = 0
    record_joins: list[exp.Join] = field(default_factory=list)
    record_tables: list[str] = field(default_factory=list)
    # for feed records: "record_id|date|received|import_id" of the same records (docs/DOMAIN.md "Time":
    # an explanation says which records, with their dates and the file they arrived in)
    received: list[Column] = field(default_factory=list)


@dataclass
class Lowered:
    """Steps to build in order (shared aggregates, then each stage and its record lists) and the rules."""

    steps: list[tuple[str, exp.Expr]]
    rules: dict[str, LoweredRule]


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


# Derived fields that are whole numbers (catalogue fields say so by their type).
_INT_DERIVED = {
    ("member", "age"),
    ("member", "id_number_households"),
    ("household", "member_count"),
    ("household", "income_year"),
    ("village", "household_count"),
}


def integral(node: Node) -> bool:
    """Whether an expression's value is always a whole number in SQL (shown without the rounding test).

    >>> from jingzhun.policy.nodes import Agg, Binary, Literal
    >>> integral(Agg(0, func="count")), integral(Binary(0, op="+", left=Literal(0, 1), right=Literal(0, 2)))
    (True, True)
    >>> integral(Binary(0, op="/", left=Literal(0, 1), right=Literal(0, 2))), integral(Literal(0, 0.5))
    (False, False)
    """
    if isinstance(node, Literal):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    if isinstance(node, Agg):
        if node.func == "count":
            return True
        return node.func in ("sum", "max", "min") and node.arg is not None and integral(node.arg)
    if isinstance(node, Name):
        if not node.ref or node.ref[0] != "field":
            return False
        table, name = node.ref[1], node.ref[2]
        if (table, name) in _INT_DERIVED:
            return True
        from jingzhun.catalog import DATASETS

        ds = DATASETS.get(table)
        return ds is not None and ds.has(name) and ds.field(name).type == "int"
    if isinstance(node, Unary):
        return node.op == "-" and node.operand is not None and integral(node.operand)
    if isinstance(node, Binary):
        return node.op in ("+", "-", "*") and all(integral(c) for c in node.children())
    if isinstance(node, Call):
        if node.func in ("year", "month"):
            return True
        if node.func in ("coalesce", "least", "greatest", "abs"):
            return all(integral(a) for a in node.args)
        if node.func == "if":
            return all(integral(a) for a in node.args[1:])
    return False


def _uses_rules(node: Node) -> bool:
    return any(isinstance(n, Name) and n.ref and n.ref[0] == "rule" for n in node.walk())


class _Lowerer:
    """Lowers expressions of every rule of a plan; aliases are unique in the whole plan."""

    def __init__(self, ps: PolicySet, period: str, household_id: str | None):
        self.ps = ps
        self.rule: Rule | None = None
        self.period = period
        self.start, self.end = period_dates(period)
        self.household_id = household_id
        self.n = 0
        self.used: set[str] = set()
        self.shared: dict[tuple[str, str], _Group] = {}
        self.rule_cols: dict[str, tuple[str, str]] = {}  # rule id -> (stage table, fired column)
        self.fired: str = ""  # fired column of the rule being lowered (record lists)

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
        raise PolicyError("expected a list", self.rule.location if self.rule else None)  # pragma: no cover

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
            column = schema.ARRIVED if ref[2] == schema.RECEIVED and ref[1] in schema.FEEDS else ref[2]
            return exp.column(column, table=lv.aliases[ref[1]])
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
            table, fired = self.rule_cols[rid]
            alias = lv.rules.get(table)
            if alias is None:
                alias = lv.rules[table] = self.fresh("r")
                other = self.ps.rules[rid]
                on = exp.EQ(
                    this=exp.column("entity_id", table=alias),
                    expression=lv.keys[schema.ENTITY_KEY[other.entity]].copy(),
                )
                lv.joins.append((exp.to_table(table), alias, on))
            return exp.Coalesce(this=exp.column(fired, table=alias), expressions=[exp.false()])
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
    def _new_group(self, source: str, key: str) -> _Group:
        alias, src = self.fresh("a"), self.fresh("s")
        if source in ("member", "household"):
            keys: dict[str, exp.Expr] = {k: exp.column(k, table=src) for k in schema.ROW_KEYS[source]}
            inner = _Level({source: src, "_row": source}, keys, exp.column("province_code", table=src))
        elif source in schema.PERSON_FEEDS:
            keys = {k: exp.column(k, table=src) for k in ("person_id", "household_id")}
            inner = _Level({source: src, "_row": source}, keys, None)
        elif source in schema.PLACE_FEEDS and key == "household_id":
            keys = {k: exp.column(k, table=src) for k in ("household_id", "village_code")}
            inner = _Level({source: src, "_row": source}, keys, None)
        else:
            keys = {"village_code": exp.column("village_code", table=src)}
            province = exp.Substring(
                this=exp.column("village_code", table=src),
                start=exp.Literal.number(1),
                length=exp.Literal.number(2),
            )
            inner = _Level({source: src, "_row": source}, keys, province)
        return _Group(alias, source, key, inner, src)

    def group(self, node: Agg, lv: _Level) -> tuple[_Group, str]:
        """The group aggregating ``node``'s records for rows of ``lv``, and its alias in ``lv``."""
        source = node.source or ""
        key = schema.join_key(source, _row_kind(lv))
        assert key is not None, (source, lv.keys)
        on = lv.keys[key]
        if lv.shared and not _uses_rules(node):
            g = self.shared.get((source, key))
            if g is None:
                g = self.shared[(source, key)] = self._new_group(source, key)
                g.table = f"jz_agg_{source}_{key}"
            table = g.table or ""
            alias = lv.tables.get(table)
            if alias is None:
                alias = lv.tables[table] = self.fresh("a")
                on_k = exp.EQ(this=exp.column("k", table=alias), expression=on.copy())
                lv.joins.append((exp.to_table(table), alias, on_k))
            return g, alias
        found = lv.groups.get((source, key))
        if found is None:
            g = lv.groups[(source, key)] = self._new_group(source, key)
            target: exp.Expr = exp.Placeholder(this=g.alias)  # replaced by the subquery when finished
            if lv.store is not None:
                g.table = f"{lv.store}_{source}_{key}"
                target = exp.to_table(g.table)
            if lv.semi is not None:
                g.semi = (lv.semi[0], lv.semi[1][key])
            lv.joins.append(
                (target, g.alias, exp.EQ(this=exp.column("k", table=g.alias), expression=on.copy()))
            )
            found = g
        if lv.semi is not None and self.fired not in found.semi_fired:
            found.semi_fired.append(self.fired)
        return found, found.alias

    def window_param(self, name: str) -> int:
        p = self.ps.param(self.rule, name)
        assert p is not None
        return int(p.for_period(self.period)[0])

    def window_cond(self, source: str, node: Agg, alias: str) -> exp.Expr | None:
        """The records of ``source`` (aliased ``alias``) inside the aggregation's window (:class:`Window`);
        the upper bound (dated up to the period's end) applies to every aggregation (:meth:`subquery`)."""
        w = node.window
        if w.unit == "all":
            return None
        df = schema.date_field(source)
        assert df is not None
        if w.unit == "new":
            months = self.window_param(schema.GRACE_PARAM) + 1
        elif w.unit == "year":
            months = self.end.month
        else:
            months = self.window_param(w.param) if w.param else w.n
        y, m = self.end.year, self.end.month - months + 1
        while m < 1:
            y, m = y - 1, m + 12
        start = date(y, m, 1)
        col = exp.column(df[0], table=alias)
        bound = literal(f"{start.year:04d}-{start.month:02d}") if df[1] == "month" else literal(start)
        cond: exp.Expr = exp.GTE(this=col, expression=bound)
        if w.unit == "new":
            received = exp.EQ(this=exp.column(schema.ARRIVED, table=alias), expression=literal(self.period))
            cond = exp.and_(received, cond)
        return cond

    def agg(self, node: Agg, lv: _Level, with_records: bool | str = False) -> exp.Expr:
        g, alias = self.group(node, lv)
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
        if f == "latest":  # the latest record that has a value (engines differ on a NULL argument)
            conds.append(exp.Not(this=exp.Is(this=_p(self.lower(node.arg, g.inner)), expression=exp.Null())))  # type: ignore[arg-type]
        cond = exp.and_(*conds) if conds else None

        def add(agg_expr: exp.Expr, sort: bool = False) -> exp.Expr:
            if cond is not None:
                agg_expr = exp.Filter(this=agg_expr, expression=exp.Where(this=cond.copy()))
            if sort:
                agg_expr = exp.ArraySort(this=agg_expr)
            text = agg_expr.sql()
            col = g.cache.get(text)
            if col is None:
                col = g.cache[text] = f"c{len(g.columns)}"
                g.columns.append(exp.alias_(agg_expr, col))
            return exp.column(col, table=alias)

        if with_records == "received":
            return add(exp.ArrayAgg(this=received_text(g.source, g.src_alias)), sort=True)
        if with_records:
            rid = {"member": "person_id", "household": "household_id"}.get(g.source, "record_id")
            return add(exp.ArrayAgg(this=exp.column(rid, table=g.src_alias)), sort=True)
        if f in ("count", "any", "all"):
            c = exp.Coalesce(this=add(exp.Count(this=exp.Star())), expressions=[exp.Literal.number(0)])
            out: exp.Expr = c
            if f == "any":
                out = exp.GT(this=c, expression=exp.Literal.number(0))
            elif f == "all":
                out = exp.EQ(this=c, expression=exp.Literal.number(0))
        elif f == "latest":
            arg = self.lower(node.arg, g.inner)  # type: ignore[arg-type]
            out = add(exp.ArgMax(this=arg, expression=latest_order(g.source, g.src_alias)))
        else:
            arg = self.lower(node.arg, g.inner)  # type: ignore[arg-type]
            fn = {"sum": exp.Sum, "max": exp.Max, "min": exp.Min, "avg": exp.Avg}[f]
            col = add(fn(this=arg))
            out = exp.Coalesce(this=col, expressions=[exp.Literal.number(0)]) if f == "sum" else col
        return out

    def join(self, target: exp.Expr, alias: str, on: exp.Expr, lv: _Level) -> exp.Join:
        if isinstance(target, exp.Placeholder):
            g = next(gr for gr in lv.groups.values() if gr.alias == alias)
            target = exp.Subquery(this=self.subquery(g))
        else:
            target = target.copy()
        return exp.Join(this=exp.alias_(target, alias, table=True), side="LEFT", on=on.copy())

    def finish(self, lv: _Level) -> list[exp.Join]:
        """The level's joins as JOIN nodes (building each inline aggregation's subquery)."""
        return [self.join(target, alias, on, lv) for target, alias, on in lv.joins]

    def subquery(self, g: _Group) -> exp.Select:
        src_table = schema.source_table(g.source, g.key)
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
            fired = fired.where(exp.or_(*(exp.column(c) for c in g.semi_fired)), copy=False)
            conds.append(exp.In(this=key_col.copy(), query=exp.Subquery(this=fired)))
        df = schema.date_field(g.source)
        if df is not None:
            bound = literal(self.period) if df[1] == "month" else literal(self.end)
            conds.append(exp.LTE(this=exp.column(df[0], table=g.src_alias), expression=bound))
        if self.household_id is not None and g.source != "household" and (
            g.source not in schema.VILLAGE_FEEDS or g.key == "household_id"
        ):
            conds.append(
                exp.EQ(
                    this=exp.column("household_id", table=g.src_alias),
                    expression=exp.Literal.string(self.household_id),
                )
            )
        return q.where(exp.and_(*conds), copy=False).group_by(key_col.copy(), copy=False)


def latest_order(source: str, alias: str) -> exp.Expr:
    """The order in which records of ``source`` follow each other for ``latest()``: by their own date,
    then by arrival, then by record id (so that ties resolve the same on every engine), as one text.

    >>> latest_order("housing_safety", "s").sql("duckdb")
    "CAST(s.assess_date AS TEXT) || '|' || COALESCE(s._arrived, '') || '|' || s.record_id"
    """
    return _joined([_date_text(source, alias), _text(schema.ARRIVED, alias), exp.column("record_id", table=alias)])


def received_text(source: str, alias: str) -> exp.Expr:
    """``record_id|date|received|import_id`` of a feed record, for the evidence's ``received`` lists.

    >>> received_text("disability_cert", "s").sql("duckdb")  # doctest: +NORMALIZE_WHITESPACE
    "s.record_id || '|' || CAST(s.issue_date AS TEXT) || '|' || COALESCE(s._arrived, '')
     || '|' || COALESCE(s._import_id, '')"
    """
    return _joined([
        exp.column("record_id", table=alias), _date_text(source, alias), _text(schema.ARRIVED, alias),
        _text("_import_id", alias),
    ])


def _date_text(source: str, alias: str) -> exp.Expr:
    """A feed record's own date as text (``YYYY-MM-DD``, or the month ``YYYY-MM`` as it is)."""
    df = schema.date_field(source)
    assert df is not None
    when: exp.Expr = exp.column(df[0], table=alias)
    return when if df[1] == "month" else exp.cast(when, "VARCHAR")


def _text(column: str, alias: str) -> exp.Expr:
    """A bookkeeping column as text, empty when missing (a NULL would blank the whole concatenation)."""
    return exp.Coalesce(this=exp.column(column, table=alias), expressions=[exp.Literal.string("")])


def _joined(parts: list[exp.Expr]) -> exp.Expr:
    """``a || '|' || b || …``."""
    items: list[exp.Expr] = []
    for part in parts:
        items += [exp.Literal.string("|"), part] if items else [part]
    return exp.Concat(expressions=items)


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
            shared=True,
        )
        return lv, exp.alias_(exp.to_table(schema.CTX["household"]), "h", table=True), []
    if entity == "person":
        lv = _Level(
            {"member": "m", "household": "h", "_row": "person"},
            {
                "person_id": exp.column("person_id", table="m"),
                "household_id": exp.column("household_id", table="m"),
                "village_code": exp.column("village_code", table="h"),
            },
            exp.column("province_code", table="h"),
            shared=True,
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
        shared=True,
    )
    return lv, exp.alias_(exp.to_table(schema.CTX["village"]), "v", table=True), []


# Columns of a stage table that identify its row, by entity: policy key -> column.
_KEY_COLUMNS = {
    "person": {"person_id": "entity_id", "household_id": "household_id", "village_code": "village_code"},
    "household": {"household_id": "entity_id", "village_code": "village_code"},
    "village": {"village_code": "entity_id"},
}


class _Stage:
    """One SELECT computing the rules of one stage over one entity."""

    def __init__(self, lo: _Lowerer, stage: int, entity: str, keep_all: bool):
        self.lo = lo
        self.stage = stage
        self.entity = entity
        self.table = stage_table(stage, entity)
        self.keep_all = keep_all
        self.lv, self.base, self.base_joins = _base(entity)
        lv = self.lv
        self.cols: list[exp.Expr] = [
            exp.alias_(lv.keys[schema.ENTITY_KEY[entity]].copy(), "entity_id"),
            exp.alias_(
                lv.keys["household_id"].copy()
                if "household_id" in lv.keys
                else exp.cast(exp.Null(), "VARCHAR"),
                "household_id",
            ),
            exp.alias_(lv.keys["village_code"].copy(), "village_code"),
        ]
        self.by_sql: dict[str, str] = {}
        self.fired: list[str] = []
        self.used: set[str] = set()
        self.rules: list[LoweredRule] = []

    def value(self, e: exp.Expr, label: str, typ: str) -> Column:
        """A value of the rule's rows: stored once per distinct expression; a constant is not stored."""
        if e.find(exp.Column) is None:
            return Column("", label, typ, e)
        text = e.sql()
        name = self.by_sql.get(text)
        if name is None:
            name = self.by_sql[text] = f"c{len(self.by_sql)}"
            self.cols.append(exp.alias_(e, name))
        return Column(name, label, typ)

    def add(self, checked: CheckedRule) -> LoweredRule:
        lo, lv = self.lo, self.lv
        lo.rule = checked.rule
        lo.used = self.used
        values, params, explain = [], [], []
        for name, node in checked.lets:
            values.append(self.value(lo.lower(node, lv), name, node.type or ""))
        for node in checked.fields:
            values.append(self.value(lo.lower(node, lv), node.dotted, node.type or ""))
        for pname in checked.params:
            params.append(self.value(lo.param(pname, lv), pname, ""))
        parts = [p for p in (*checked.explain_zh, *checked.explain_en) if p.node is not None]
        seen: set[int] = set()
        for part in parts:
            assert part.node is not None
            if id(part.node) in seen:
                continue
            seen.add(id(part.node))
            typ = "int" if part.node.type == "number" and integral(part.node) else part.node.type or ""
            c = self.value(lo.lower(part.node, lv), str(id(part.node)), typ)
            explain.append(c)
        i = len(self.fired)
        when = exp.Coalesce(this=_p(lo.lower(checked.when, lv)), expressions=[exp.false()])
        applies: exp.Expr | None = None
        if checked.applies is not None:
            applies = exp.Coalesce(this=_p(lo.lower(checked.applies, lv)), expressions=[exp.false()])
        fired = f"f{i}"
        self.cols.append(exp.alias_(exp.and_(applies.copy(), when) if applies is not None else when, fired))
        applies_col = None
        if self.keep_all:
            applies_col = f"a{i}"
            self.cols.append(exp.alias_(applies if applies is not None else exp.true(), applies_col))
        self.fired.append(fired)
        records = [Column(f"r{j}", label, "list") for j, (label, _) in enumerate(checked.records)]
        lr = LoweredRule(
            checked, self.table, exp.Null(), fired, applies_col, values, params, records, explain, self.stage
        )
        lr.received = [Column(f"v{j}", label, "list") for j, (label, agg) in enumerate(checked.records)
                       if agg.source in schema.FEEDS]
        self.rules.append(lr)
        return lr

    def tree(self) -> exp.Select:
        lo = self.lo
        q = exp.select(*self.cols, copy=False).from_(self.base.copy(), copy=False)
        for j in self.base_joins:
            # A person's village comes from the household; a member whose household is missing is
            # evaluated only by rules that use no household field (as with a LEFT JOIN).
            q = q.join(j.copy(), join_type="" if "h" in self.used else "LEFT", copy=False)
        for j in lo.finish(self.lv):
            q = q.join(j, copy=False)
        if self.keep_all:
            return q
        # Evaluating everything, the table keeps rows where a rule fired (a rule using it reads absent as
        # false); explaining one household it keeps every row, to show the rules that did not fire.
        s = exp.select(exp.Star(), copy=False).from_(
            exp.Subquery(this=q, alias=exp.TableAlias(this=exp.to_identifier("s"))), copy=False
        )
        return s.where(exp.or_(*(exp.column(f, table="s") for f in self.fired)), copy=False)


def _records(lo: _Lowerer, st: _Stage) -> list[tuple[str, exp.Expr]]:
    """Record-id lists of the stage's top-level aggregations, for fired rows only (a semi-join on the
    stage table), stored one table per (source, key); each rule gets its columns and joins."""
    cols = _KEY_COLUMNS[st.entity]
    lv = _Level(
        {"_row": st.entity},
        {k: exp.column(c, table="e") for k, c in cols.items()},
        None,
        store=f"jz_rec_s{st.stage}_{st.entity}",
        semi=(st.table, cols),
    )
    for lr in st.rules:
        if not lr.checked.records:
            continue
        lo.rule = lr.checked.rule
        lo.fired = lr.fired
        for col, (_, agg) in zip(lr.records, lr.checked.records, strict=True):
            col.expr = lo.agg(agg, lv, with_records=True)
        feed_aggs = [agg for _, agg in lr.checked.records if agg.source in schema.FEEDS]
        for col, agg in zip(lr.received, feed_aggs, strict=True):
            col.expr = lo.agg(agg, lv, with_records="received")
        aliases = {c.table for col in [*lr.records, *lr.received] if col.expr
                   for c in col.expr.find_all(exp.Column)}
        for target, alias, on in lv.joins:
            if alias in aliases:
                lr.record_joins.append(lo.join(target, alias, on, lv))
                lr.record_tables.append(target.name)
    return [(g.table or "", lo.subquery(g)) for g in lv.groups.values()]


def rule_stages(checked: dict[str, CheckedRule], order: list[str]) -> dict[str, int]:
    """Stage of each rule: 0 without rule references, else one more than its latest dependency.

    >>> from types import SimpleNamespace as NS
    >>> rule_stages({"a": NS(deps=set()), "b": NS(deps={"a"}), "c": NS(deps={"a", "b"})}, ["a", "b", "c"])
    {'a': 0, 'b': 1, 'c': 2}
    """
    stages: dict[str, int] = {}
    for rid in order:
        stages[rid] = max((stages[d] + 1 for d in checked[rid].deps), default=0)
    return stages


def lower_rules(
    checked: dict[str, CheckedRule],
    order: list[str],
    ps: PolicySet,
    period: str,
    household_id: str | None = None,
) -> Lowered:
    """Steps computing every rule in ``order`` (fired or not when ``household_id`` is given)."""
    lo = _Lowerer(ps, period, household_id)
    stages = rule_stages(checked, order)
    built: dict[tuple[int, str], _Stage] = {}
    rules: dict[str, LoweredRule] = {}
    for rid in sorted(order, key=lambda r: (stages[r], order.index(r))):
        entity = checked[rid].rule.entity
        st = built.get((stages[rid], entity))
        if st is None:
            st = built[(stages[rid], entity)] = _Stage(lo, stages[rid], entity, household_id is not None)
        lr = rules[rid] = st.add(checked[rid])
        lo.rule_cols[rid] = (lr.table, lr.fired)
    stage_steps: list[tuple[str, exp.Expr]] = []
    for key in sorted(built, key=lambda k: (k[0], ("person", "household", "village").index(k[1]))):
        st = built[key]
        tree = st.tree()
        for lr in st.rules:
            lr.tree = tree
        stage_steps.append((st.table, tree))
        stage_steps.extend(_records(lo, st))
    shared = [(g.table or "", lo.subquery(g)) for g in lo.shared.values()]
    return Lowered([*shared, *stage_steps], rules)
