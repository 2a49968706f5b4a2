"""Resolve and type-check a rule's expressions against the catalogue, its parameters and the other rules.

Fills ``node.type`` on every node and ``Name.ref`` (``("field", table, name)``, ``("param", name)``,
``("rule", id)``, ``("period", what)``); expands ``let`` names and ``def.NAME`` definitions; infers the
source of each aggregation; and collects what the evidence shows. Errors point at file, line and column.

>>> from jingzhun.errors import PolicyError
>>> from jingzhun.policy.loader import load_text
>>> ps = load_text('''
... rules:
...   - id: t.x
...     kind: tag
...     entity: household
...     when: any(member.helth == '大病')
... ''', "x.yaml")
>>> try:
...     check_rule(ps, ps.rules["t.x"])
... except PolicyError as e:
...     print(e.location.line, e.location.column, e.message)
6 22 unknown field 'helth' of member; did you mean 'health'?
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from jingzhun.catalog import ENUMS
from jingzhun.policy import schema
from jingzhun.policy.model import PolicySet, Rule
from jingzhun.policy.nodes import (
    Agg,
    Between,
    Binary,
    Call,
    IsNull,
    ListLit,
    Literal,
    Name,
    Node,
    Unary,
    walk_outer,
)
from jingzhun.policy.parser import parse
from jingzhun.policy.source import Text

FUNCTIONS = ("coalesce", "abs", "round", "least", "greatest", "year", "month", "if", "months_ago")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclass
class Scope:
    """Where an expression is evaluated: the kind of row and the tables whose fields it may use."""

    row: str  # person | household | village | member | <feed> | household (inside a village rule)
    tables: tuple[str, ...]
    in_agg: bool = False


@dataclass
class Part:
    """A piece of an explanation template: text, or an expression to show."""

    text: str = ""
    node: Node | None = None


@dataclass
class CheckedRule:
    rule: Rule
    when: Node
    applies: Node | None
    lets: list[tuple[str, Node]]
    explain_zh: list[Part]
    explain_en: list[Part]
    deps: set[str] = field(default_factory=set)
    params: list[str] = field(default_factory=list)  # names used, in order of first use
    fields: list[Name] = field(default_factory=list)  # top-level fields shown in the evidence
    records: list[tuple[str, Agg]] = field(default_factory=list)  # top-level aggregations with record ids


def top_scope(entity: str) -> Scope:
    return {
        "household": Scope("household", ("household",)),
        "person": Scope("person", ("member", "household")),
        "village": Scope("village", ("village",)),
    }[entity]


class _Checker:
    def __init__(self, ps: PolicySet, rule: Rule):
        self.ps = ps
        self.rule = rule
        self.lets: dict[str, Node] = {}
        self.out_deps: set[str] = set()
        self.params: list[str] = []
        self.expanding: list[str] = []

    # -- entry
    def expr(self, text: Text, scope: Scope, want: str | None = None) -> Node:
        node = parse(text)
        node = self.check(node, text, scope)
        if want and node.type not in (want, "null"):
            raise text.error(f"this must be a {_TYPE_WORDS[want]}, but it is a {_word(node.type)}", node.pos)
        return node

    # -- nodes
    def check(self, node: Node, text: Text, scope: Scope) -> Node:
        if isinstance(node, Literal):
            v = node.value
            node.type = (
                "null"
                if v is None
                else "bool"
                if isinstance(v, bool)
                else ("string" if isinstance(v, str) else "number")
            )
            return node
        if isinstance(node, ListLit):
            for i, item in enumerate(node.items):
                node.items[i] = self.check(item, text, scope)
            kinds = {it.type for it in node.items if it.type != "null"}
            if len(kinds) > 1:
                raise text.error("a list must hold values of one kind", node.pos)
            node.type = "list:" + str(kinds.pop() if kinds else "string")
            return node
        if isinstance(node, Name):
            return self.name(node, text, scope)
        if isinstance(node, Unary):
            node.operand = self.check(node.operand, text, scope)  # type: ignore[arg-type]
            want = "bool" if node.op == "not" else "number"
            self.need(node.operand, want, text, f"'{node.op}'")
            node.type = want
            return node
        if isinstance(node, IsNull):
            node.operand = self.check(node.operand, text, scope)  # type: ignore[arg-type]
            node.type = "bool"
            return node
        if isinstance(node, Between):
            node.operand = self.check(node.operand, text, scope)  # type: ignore[arg-type]
            node.low = self.check(node.low, text, scope)  # type: ignore[arg-type]
            node.high = self.check(node.high, text, scope)  # type: ignore[arg-type]
            for side in (node.low, node.high):
                self.comparable(node.operand, side, text)
            node.type = "bool"
            return node
        if isinstance(node, Binary):
            return self.binary(node, text, scope)
        if isinstance(node, Call):
            return self.call(node, text, scope)
        if isinstance(node, Agg):
            return self.agg(node, text, scope)
        raise text.error("unsupported expression", node.pos)  # pragma: no cover

    def need(self, node: Node, want: str, text: Text, what: str) -> None:
        if node.type not in (want, "null"):
            raise text.error(f"{what} needs a {_TYPE_WORDS[want]}, found a {_word(node.type)}", node.pos)

    def binary(self, node: Binary, text: Text, scope: Scope) -> Node:
        node.left = self.check(node.left, text, scope)  # type: ignore[arg-type]
        node.right = self.check(node.right, text, scope)  # type: ignore[arg-type]
        left, right = node.left, node.right
        op = node.op
        if op in ("and", "or"):
            self.need(left, "bool", text, f"'{op}'")
            self.need(right, "bool", text, f"'{op}'")
            node.type = "bool"
        elif op in ("+", "-", "*", "/"):
            self.need(left, "number", text, f"'{op}'")
            self.need(right, "number", text, f"'{op}'")
            node.type = "number"
        elif op in ("in", "not in"):
            if not (right.type or "").startswith("list:"):
                raise text.error(f"'{op}' needs a list on its right, like ['C', 'D']", right.pos)
            elem = (right.type or "")[5:]
            if left.type not in (elem, "null") and not (left.type == "month" and elem == "string"):
                raise text.error(
                    f"cannot look for a {_word(left.type)} in a list of {_word(elem)}s", left.pos
                )
            if isinstance(right, ListLit):
                for item in right.items:
                    self.enum_literal(left, item, text)
            node.type = "bool"
        else:  # comparisons
            self.comparable(left, right, text)
            if op in ("==", "!="):
                self.enum_literal(left, right, text)
                self.enum_literal(right, left, text)
            elif left.type == "bool" or right.type == "bool":
                raise text.error(f"'{op}' cannot order true/false values", node.pos)
            node.type = "bool"
        return node

    def comparable(self, a: Node, b: Node, text: Text) -> None:
        ta, tb = a.type, b.type
        if "null" in (ta, tb) or ta == tb:
            return
        for d, s in ((a, b), (b, a)):
            if d.type == "date" and isinstance(s, Literal) and isinstance(s.value, str):
                if not _DATE.match(s.value):
                    raise text.error(f"{s.value!r} is not a date YYYY-MM-DD", s.pos)
                s.type = "date"
                return
            if d.type == "month" and s.type == "string":
                if isinstance(s, Literal) and not _MONTH.match(s.value):
                    raise text.error(f"{s.value!r} is not a month YYYY-MM", s.pos)
                return
        raise text.error(f"cannot compare a {_word(ta)} with a {_word(tb)}", b.pos)

    def enum_literal(self, column: Node, lit: Node, text: Text) -> None:
        """A text literal compared with an enumerated field must be one of its labels."""
        if not (isinstance(column, Name) and column.ref and column.ref[0] == "field"):
            return
        if not (isinstance(lit, Literal) and isinstance(lit.value, str)):
            return
        ft = schema.field_type(column.ref[1], column.ref[2])
        enum = ft[1] if ft else None
        if enum and lit.value not in ENUMS[enum]:
            close = schema.suggest(lit.value, ENUMS[enum])
            hint = f"did you mean {close!r}?" if close else f"allowed: {', '.join(ENUMS[enum])}"
            raise text.error(f"{lit.value!r} is not a value of {column.dotted}", lit.pos, hint)

    def call(self, node: Call, text: Text, scope: Scope) -> Node:
        if node.func not in FUNCTIONS:
            close = schema.suggest(node.func, FUNCTIONS)
            hint = f"did you mean {close!r}?" if close else f"allowed: {', '.join(FUNCTIONS)}"
            raise text.error(f"unknown function {node.func!r}", node.pos, hint)
        node.args = [self.check(a, text, scope) for a in node.args]
        n, f = len(node.args), node.func
        arity = {
            "abs": (1, 1),
            "round": (1, 2),
            "year": (1, 1),
            "month": (1, 1),
            "if": (3, 3),
            "months_ago": (1, 1),
            "coalesce": (2, 99),
            "least": (2, 99),
            "greatest": (2, 99),
        }[f]
        if not arity[0] <= n <= arity[1]:
            raise text.error(
                f"{f}() takes {arity[0]}"
                + ("" if arity[0] == arity[1] else f" to {arity[1]}")
                + f" arguments, not {n}",
                node.pos,
            )
        if f in ("abs", "round", "least", "greatest"):
            for a in node.args:
                self.need(a, "number", text, f"{f}()")
            node.type = "number"
        elif f in ("year", "month"):
            self.need(node.args[0], "date", text, f"{f}()")
            node.type = "number"
        elif f == "months_ago":
            a = node.args[0]
            if not (isinstance(a, Literal) and isinstance(a.value, int) and not isinstance(a.value, bool)):
                raise text.error("months_ago() takes a whole number, like months_ago(6)", a.pos)
            node.type = "date"
        elif f == "if":
            self.need(node.args[0], "bool", text, "if()")
            self.comparable(node.args[1], node.args[2], text)
            node.type = node.args[1].type if node.args[1].type != "null" else node.args[2].type
        else:  # coalesce
            for a in node.args[1:]:
                self.comparable(node.args[0], a, text)
            node.type = next((a.type for a in node.args if a.type != "null"), "null")
        return node

    def name(self, node: Name, text: Text, scope: Scope) -> Node:
        parts = node.parts
        head = parts[0]
        if len(parts) == 1:
            if head in self.lets:
                if scope.in_agg:
                    raise text.error(f"let value {head!r} cannot be used inside an aggregation", node.pos)
                return self.lets[head]
            if head in schema.TABLES:
                raise text.error(
                    f"{head!r} is a table; name a field, like {head}.{schema.fields_of(head)[0]}", node.pos
                )
            options = [*self.lets, "param", "rule", "def", "period", *scope.tables]
            close = schema.suggest(head, options)
            raise text.error(
                f"unknown name {head!r}", node.pos, f"did you mean {close!r}?" if close else None
            )
        if head == "param":
            return self.param(node, text, scope)
        if head == "rule":
            return self.rule_ref(node, text, scope)
        if head == "def":
            return self.definition(node, text, scope)
        if head == "period":
            what = parts[1] if len(parts) == 2 else ""
            kinds = {"start": "date", "end": "date", "year": "number", "month": "month"}
            if what not in kinds:
                raise text.error(
                    f"unknown period value {node.dotted!r}",
                    node.pos,
                    "use period.start, period.end, period.year or period.month",
                )
            node.ref, node.type = ("period", what), kinds[what]
            return node
        if head not in schema.TABLES:
            close = schema.suggest(head, [*schema.TABLES, "param", "rule", "def", "period"])
            raise text.error(
                f"unknown table {head!r}", node.pos, f"did you mean {close!r}?" if close else None
            )
        if head not in scope.tables:
            raise text.error(
                f"fields of {head} cannot be used directly here"
                + ("" if scope.in_agg else f" (a {scope.row} rule)"),
                node.pos,
                f"aggregate them, like any({head}.… where …)"
                if not scope.in_agg
                else f"inside this aggregation only {', '.join(scope.tables)} fields can be used",
            )
        if len(parts) != 2:
            raise text.error(f"{node.dotted!r}: write table.field", node.pos)
        ft = schema.field_type(head, parts[1])
        if ft is None:
            close = schema.suggest(parts[1], schema.fields_of(head))
            raise text.error(
                f"unknown field {parts[1]!r} of {head}" + (f"; did you mean {close!r}?" if close else ""),
                node.pos + len(head) + 1,
            )
        node.ref, node.type = ("field", head, parts[1]), ft[0]
        return node

    def param(self, node: Name, text: Text, scope: Scope) -> Node:
        if len(node.parts) != 2:
            raise text.error("write param.NAME", node.pos)
        name = node.parts[1]
        p = self.ps.param(self.rule, name)
        if p is None:
            known = [*self.rule.params, *self.ps.params]
            close = schema.suggest(name, known)
            raise text.error(
                f"unknown parameter {name!r}",
                node.pos + 6,
                f"did you mean {close!r}?" if close else "define it under params: or in params.yaml",
            )
        if p.provinces and scope.in_agg and scope.row not in ("member", "household"):
            raise text.error(
                f"parameter {name!r} differs by province; compare it outside the aggregation", node.pos
            )
        kind = p.kind
        if kind == "list":
            first = (p.national.default if p.national.has_default else p.national.dated[0][1]) or [""]
            elem = "number" if not isinstance(first[0], str) else "string"
            kind = "list:" + elem
        node.ref, node.type = ("param", name), kind
        if name not in self.params:
            self.params.append(name)
        return node

    def rule_ref(self, node: Name, text: Text, scope: Scope) -> Node:
        rid = ".".join(node.parts[1:])
        if rid not in self.ps.rules:
            close = schema.suggest(rid, list(self.ps.rules))
            raise text.error(
                f"unknown rule {rid!r}", node.pos + 5, f"did you mean {close!r}?" if close else None
            )
        if rid == self.rule.id:
            raise text.error(f"rule {rid!r} refers to itself", node.pos)
        other = self.ps.rules[rid]
        key = schema.ENTITY_KEY[other.entity]
        if key not in schema.ROW_KEYS.get(scope.row, ()):
            raise text.error(
                f"a {other.entity} rule cannot be used for a {scope.row} row",
                node.pos,
                "aggregate it, like any(member where rule.…)" if other.entity == "person" else None,
            )
        self.out_deps.add(rid)
        node.ref, node.type = ("rule", rid), "bool"
        return node

    def definition(self, node: Name, text: Text, scope: Scope) -> Node:
        name = ".".join(node.parts[1:])
        if name not in self.ps.definitions:
            close = schema.suggest(name, list(self.ps.definitions))
            raise text.error(
                f"unknown definition {name!r}", node.pos + 4, f"did you mean {close!r}?" if close else None
            )
        if name in self.expanding:
            raise text.error(
                f"definition {name!r} refers to itself ({' → '.join([*self.expanding, name])})", node.pos
            )
        self.expanding.append(name)
        try:
            dtext = self.ps.definitions[name]
            return self.check(parse(dtext), dtext, scope)
        finally:
            self.expanding.pop()

    def agg(self, node: Agg, text: Text, scope: Scope) -> Node:
        if node.arg is not None and _is_table(node.arg):
            if node.func not in ("count", "any", "all"):
                raise text.error(f"{node.func}() needs a value, like {node.func}(table.field)", node.arg.pos)
            if node.func != "count" and node.where is None:
                raise text.error(
                    f"{node.func}() needs a condition, like {node.func}(member where …)", node.pos
                )
            node.source = node.arg.parts[0]  # type: ignore[attr-defined]
            node.arg, node.where = (node.where, None) if node.func == "all" else (None, node.where)
        if scope.row not in ("household", "person", "village", "member") or (
            scope.in_agg and scope.row not in ("member", "household")
        ):
            raise text.error(
                f"{node.func}() cannot be nested inside an aggregation over {scope.row}", node.pos
            )
        source = self.infer_source(node, text)
        key = schema.join_key(source, scope.row)
        if key is None:
            raise text.error(f"{source} records cannot be aggregated for a {scope.row} row", node.pos)
        node.source = source
        inner_tables: tuple[str, ...] = (source,)
        if source in schema.PERSON_FEEDS and "member" in self.agg_tables(node):
            node.joins_member = True
            inner_tables = (source, "member")
        inner = Scope(source, inner_tables, in_agg=True)
        self.window(node, source, text)
        if node.arg is not None:
            node.arg = self.check(node.arg, text, inner)
        if node.where is not None:
            node.where = self.check(node.where, text, inner)
            self.need(node.where, "bool", text, "'where'")
        f = node.func
        if f in ("any", "all"):
            if node.arg is None and node.where is None:
                raise text.error(f"{f}() needs a condition", node.pos)
            if node.arg is not None:
                self.need(node.arg, "bool", text, f"{f}()")
            node.type = "bool"
        elif f == "count":
            if node.arg is not None:
                self.need(node.arg, "bool", text, "count()")
            node.type = "number"
        elif f == "latest":
            if node.arg is None:
                raise text.error("latest() needs a value, like latest(housing_safety.grade)", node.pos)
            node.type = node.arg.type
        else:
            if node.arg is None:
                raise text.error(f"{f}() needs a value", node.pos)
            ok = ("number", "date") if f in ("max", "min") else ("number",)
            if node.arg.type not in (*ok, "null"):
                raise text.error(f"{f}() needs a number, found a {_word(node.arg.type)}", node.arg.pos)
            node.type = node.arg.type
        return node

    def window(self, node: Agg, source: str, text: Text) -> None:
        """Check an aggregation's time window (docs/DOMAIN.md "Time"; :class:`Window`)."""
        w = node.window
        dated = schema.date_field(source) is not None
        if node.func == "latest" and not dated:
            raise text.error(f"{source} has no date, so latest() cannot tell which record is the latest",
                             node.pos)
        if w.unit == "all":
            return
        if not dated:
            raise text.error(f"{source} has no date, so '{w}' cannot be used", node.pos)
        if w.unit == "month" and w.n == 1 and w.param is None:
            hint = (
                f"use 'new' (the {source} records received in this period, dated within the grace window)"
                if source not in schema.STATE_FEEDS
                else f"use latest({source}.…) for what the latest record says, or 'new' for records "
                "received in this period"
            )
            raise text.error(
                "'this month' counts records by their own date, so a record delivered late would never "
                "be counted",
                node.pos,
                hint,
            )
        for name in ([schema.GRACE_PARAM] if w.unit == "new" else [w.param] if w.param else []):
            p = self.ps.param(self.rule, name)
            if p is None:
                raise text.error(
                    f"unknown parameter {name!r}", node.pos, "define it under params: or in params.yaml"
                )
            if p.provinces:
                raise text.error(
                    f"parameter {name!r} sets a time window and cannot differ by province", node.pos
                )
            if p.kind != "number":
                raise text.error(f"parameter {name!r} sets a time window: it must be a whole number",
                                 node.pos)
            if name not in self.params:
                self.params.append(name)

    def agg_tables(self, node: Agg) -> list[str]:
        """Tables whose fields an aggregation's value and condition use (definitions expanded)."""
        tables: list[str] = []
        for n in _names_outside_aggs(node):
            if isinstance(n, Name) and n.parts[0] in schema.TABLES and n.parts[0] not in tables:
                tables.append(n.parts[0])
            if isinstance(n, Name) and n.parts[0] == "def" and ".".join(n.parts[1:]) in self.ps.definitions:
                for t in _tables_in(parse(self.ps.definitions[".".join(n.parts[1:])])):
                    if t not in tables:
                        tables.append(t)
        return tables

    def infer_source(self, node: Agg, text: Text) -> str:
        if node.source:
            return node.source
        tables = self.agg_tables(node)
        feeds = [t for t in tables if t in schema.FEEDS]
        if len(feeds) == 1 and set(tables) <= {feeds[0], "member"}:
            if "member" in tables and feeds[0] not in schema.PERSON_FEEDS:
                raise text.error(
                    f"{feeds[0]} is per village; it cannot be combined with member fields", node.pos
                )
            return feeds[0]
        if len(tables) == 1:
            return tables[0]
        if not tables:
            raise text.error(
                f"{node.func}() must name the records it counts, like count(member where …)", node.pos
            )
        raise text.error(
            f"{node.func}() mixes records of {', '.join(tables)}; aggregate each separately", node.pos
        )


def _is_table(n: Node) -> bool:
    return isinstance(n, Name) and len(n.parts) == 1 and n.parts[0] in schema.TABLES


def _names_outside_aggs(agg: Node) -> list[Node]:
    out: list[Node] = []
    for c in agg.children():
        out.extend(walk_outer(c))
    return out


def _tables_in(node: Node) -> list[str]:
    return [n.parts[0] for n in walk_outer(node) if isinstance(n, Name) and n.parts[0] in schema.TABLES]


_TYPE_WORDS = {
    "bool": "condition (true/false)",
    "number": "number",
    "string": "text",
    "date": "date",
    "month": "month",
}


def _word(t: str | None) -> str:
    if t and t.startswith("list:"):
        return "list"
    return {"bool": "condition", "string": "text", "null": "null"}.get(t or "", t or "value")


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def _template(ch: _Checker, text: Text | None, scope: Scope) -> list[Part]:
    if text is None:
        return []
    parts: list[Part] = []
    s = text.value
    last = 0
    for m in _PLACEHOLDER.finditer(s):
        parts.append(Part(s[last : m.start()]))
        last = m.end()
        if m.group(0) in ("{{", "}}"):
            parts.append(Part(m.group(0)[0]))
            continue
        pad = re.sub(r"[^\n]", " ", s[: m.start(1)])
        sub = Text(pad + m.group(1), text.file, text.line, text.column, text.style, text.indent)
        node = ch.check(parse(sub), sub, scope)
        if (node.type or "").startswith("list:"):
            raise sub.error("a list cannot be shown in an explanation", node.pos)
        parts.append(Part(node=node))
    parts.append(Part(s[last:]))
    return [p for p in parts if p.node is not None or p.text]


def check_rule(ps: PolicySet, rule: Rule) -> CheckedRule:
    """Check one rule; raises :class:`~jingzhun.errors.PolicyError` at the first mistake."""
    ch = _Checker(ps, rule)
    scope = top_scope(rule.entity)
    applies = ch.expr(rule.applies_to, scope, "bool") if rule.applies_to is not None else None
    lets: list[tuple[str, Node]] = []
    for name, text in rule.let:
        if name in ch.lets or name in ("param", "rule", "def", "period", *schema.TABLES):
            raise text.error(f"let name {name!r} is already used")
        node = ch.expr(text, scope)
        ch.lets[name] = node
        lets.append((name, node))
    when = ch.expr(rule.when, scope, "bool")
    zh = _template(ch, rule.explain_zh, scope)
    en = _template(ch, rule.explain_en, scope) if rule.explain_en is not rule.explain_zh else zh
    out = CheckedRule(rule, when, applies, lets, zh, en, ch.out_deps, ch.params)
    roots = [n for _, n in lets] + [when] + ([applies] if applies is not None else [])
    roots += [p.node for p in (*zh, *en) if p.node is not None]
    seen: set[int] = set()
    for root in roots:
        for n in walk_outer(root):
            if id(n) in seen:
                continue
            seen.add(id(n))
            if (
                isinstance(n, Name)
                and n.ref
                and n.ref[0] == "field"
                and all(f.dotted != n.dotted for f in out.fields)
            ):
                out.fields.append(n)
    out.records = collect_records(lets, when)
    return out


def collect_records(lets: list[tuple[str, Node]], when: Node) -> list[tuple[str, Agg]]:
    """The aggregations whose record ids the evidence lists: a ``let`` that is an aggregation under its
    own name, then the other top-level aggregations under their source's name."""
    records: list[tuple[str, Agg]] = []
    for name, node in lets:
        if isinstance(node, Agg) and node.func != "all" and id(node) not in {id(a) for _, a in records}:
            records.append((name, node))
    for root in [when, *(n for _, n in lets)]:
        for n in walk_outer(root):
            if isinstance(n, Agg) and n.func != "all" and id(n) not in {id(a) for _, a in records}:
                key = n.source or "records"
                used = {k for k, _ in records}
                k, i = key, 2
                while k in used:
                    k, i = f"{key}_{i}", i + 1
                records.append((k, n))
    return records


def period_dates(period: str) -> tuple[date, date]:
    """First and last day of a ``YYYY-MM`` period.

    >>> period_dates("2024-02")
    (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
    """
    from jingzhun.policy.params import period_key

    y, m = map(int, period_key(period).split("-"))
    start = date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return start, date.fromordinal(nxt.toordinal() - 1)


def check_all(ps: PolicySet) -> dict[str, CheckedRule]:
    """Check every rule (in id order)."""
    return {rid: check_rule(ps, r) for rid, r in ps.rules.items()}
