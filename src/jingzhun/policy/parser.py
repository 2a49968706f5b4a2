"""Tokenizer and recursive-descent parser for policy expressions (grammar in docs/POLICY_LANGUAGE.md).

>>> parse("sum(medical_claim.out_of_pocket where medical_claim.visit_type == '住院', last 12 months) >= 5")
... # doctest: +ELLIPSIS
Binary(pos=0, op='>=', left=Agg(pos=0, func='sum', arg=Name(pos=4, ...
>>> type(parse("member.age between 6 and 15")).__name__
'Between'
>>> parse("a ==")
Traceback (most recent call last):
...
jingzhun.errors.PolicyError: expected a value, found the end of the expression
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

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
    Window,
)
from jingzhun.policy.source import Text

AGGREGATES = ("count", "sum", "max", "min", "avg", "any", "all", "latest")
KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "where", "between", "last", "this"}

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<num>\d+(?:\.\d+)?)
      | (?P<str>'[^'\n]*'|"[^"\n]*"|‘[^’\n]*’|“[^”\n]*”)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<>|<=|>=|<|>|=|\+|-|\*|/|\(|\)|\[|\]|,|\.)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # num str name op end
    text: str
    pos: int


def tokenize(text: Text) -> list[Token]:
    """Split an expression into tokens; an unknown character is an error at its column.

    >>> [t.text for t in tokenize(Text("a.b >= 1.5"))]
    ['a', '.', 'b', '>=', '1.5', '']
    """
    s = text.value
    out: list[Token] = []
    i = 0
    while i < len(s):
        m = _TOKEN.match(s, i)
        if not m:
            ch = s[i]
            hint = "use ASCII quotes ' or \" around text" if ch in "'\"‘’“”" else None
            if ch in "'\"":
                raise text.error("text not closed: missing quote", i)
            raise text.error(f"unexpected character {ch!r}", i, hint)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, m.group(), i))
        i = m.end()
    out.append(Token("end", "", len(s)))
    return out


class _Parser:
    def __init__(self, text: Text):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, *words: str) -> bool:
        t = self.tok
        if t.kind == "name":
            return t.text.lower() in words
        return t.kind == "op" and t.text in words

    def take(self) -> Token:
        t = self.tok
        self.i += 1
        return t

    def expect(self, word: str, what: str | None = None) -> Token:
        if not self.at(word):
            raise self.text.error(
                f"expected {what or repr(word)}, found {self.describe(self.tok)}", self.tok.pos
            )
        return self.take()

    @staticmethod
    def describe(t: Token) -> str:
        return "the end of the expression" if t.kind == "end" else repr(t.text)

    # -- grammar
    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind != "end":
            raise self.text.error(
                f"unexpected {self.describe(self.tok)} after a complete expression", self.tok.pos
            )
        return node

    def expr(self) -> Node:
        return self.or_()

    def or_(self) -> Node:
        left = self.and_()
        while self.at("or"):
            self.take()
            left = Binary(left.pos, "or", left, self.and_())
        return left

    def and_(self) -> Node:
        left = self.not_()
        while self.at("and"):
            self.take()
            left = Binary(left.pos, "and", left, self.not_())
        return left

    def not_(self) -> Node:
        if self.at("not"):
            t = self.take()
            return Unary(t.pos, "not", self.not_())
        return self.cmp()

    def cmp(self) -> Node:
        left = self.add()
        t = self.tok
        if t.kind == "op" and t.text in ("==", "=", "!=", "<>", "<", "<=", ">", ">="):
            self.take()
            op = {"=": "==", "<>": "!="}.get(t.text, t.text)
            return Binary(left.pos, op, left, self.add())
        if self.at("in"):
            self.take()
            return Binary(left.pos, "in", left, self.add())
        if self.at("not") and self.peek().kind == "name" and self.peek().text.lower() == "in":
            self.take()
            self.take()
            return Binary(left.pos, "not in", left, self.add())
        if self.at("is"):
            self.take()
            negated = False
            if self.at("not"):
                self.take()
                negated = True
            self.expect("null", "'null' after 'is'")
            return IsNull(left.pos, left, negated)
        if self.at("between"):
            self.take()
            low = self.add()
            self.expect("and", "'and' in 'between … and …'")
            return Between(left.pos, left, low, self.add())
        return left

    def add(self) -> Node:
        left = self.mul()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.take().text
            left = Binary(left.pos, op, left, self.mul())
        return left

    def mul(self) -> Node:
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.take().text
            left = Binary(left.pos, op, left, self.unary())
        return left

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text == "-":
            t = self.take()
            return Unary(t.pos, "-", self.unary())
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.take()
            return Literal(t.pos, Decimal(t.text) if "." in t.text else int(t.text))
        if t.kind == "str":
            self.take()
            return Literal(t.pos, t.text[1:-1])
        if t.kind == "op" and t.text == "(":
            self.take()
            node = self.expr()
            self.expect(")", "')'")
            return node
        if t.kind == "op" and t.text == "[":
            self.take()
            items: list[Node] = []
            while not self.at("]"):
                items.append(self.expr())
                if not self.at(","):
                    break
                self.take()
            self.expect("]", "']' to close the list")
            return ListLit(t.pos, items)
        if t.kind == "name":
            low = t.text.lower()
            if low in ("true", "false"):
                self.take()
                return Literal(t.pos, low == "true")
            if low == "null":
                self.take()
                return Literal(t.pos, None)
            if low in KEYWORDS:
                raise self.text.error(f"expected a value, found keyword {t.text!r}", t.pos)
            if self.peek().kind == "op" and self.peek().text == "(":
                return self.call()
            return self.name()
        if t.kind == "end":
            raise self.text.error("expected a value, found the end of the expression", t.pos)
        raise self.text.error(f"expected a value, found {t.text!r}", t.pos)

    def name(self) -> Name:
        first = self.take()
        parts = [first.text]
        while self.at(".") and self.peek().kind == "name":
            self.take()
            parts.append(self.take().text)
        if self.at("."):
            raise self.text.error("expected a name after '.'", self.peek().pos)
        return Name(first.pos, tuple(parts))

    def call(self) -> Node:
        t = self.take()
        func = t.text.lower()
        self.expect("(")
        if func in AGGREGATES:
            return self.aggregate(t.pos, func)
        args: list[Node] = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(","):
                break
            self.take()
        self.expect(")", "')' to close the call")
        return Call(t.pos, func, args)

    def aggregate(self, pos: int, func: str) -> Agg:
        arg: Node | None = None
        where: Node | None = None
        window = Window("all")
        if not self.at("where", ")", ","):
            arg = self.expr()
        if self.at("where"):
            self.take()
            where = self.expr()
        if self.at(","):
            self.take()
            window = self.window()
        self.expect(")", f"')' to close {func}(…)")
        if arg is None and where is None:
            raise self.text.error(f"{func}() needs a value or a condition", pos)
        return Agg(pos, func, arg, where, window)

    def window(self) -> Window:
        t = self.tok
        if self.at("new"):
            self.take()
            return Window("new")
        if self.at("this"):
            self.take()
            unit = self.tok
            if unit.kind == "name" and unit.text.lower() in ("month", "year"):
                self.take()
                return Window("month", 1) if unit.text.lower() == "month" else Window("year")
            raise self.text.error("expected 'this month' or 'this year'", unit.pos)
        if self.at("last"):
            self.take()
            n = self.tok
            param: str | None = None
            if n.kind == "name" and n.text == "param" and self.peek().text == ".":
                self.take()
                self.take()
                if self.tok.kind != "name":
                    raise self.text.error("expected a parameter name after 'param.'", self.tok.pos)
                param = self.tok.text
            elif n.kind != "num" or "." in n.text or int(n.text) < 1:
                raise self.text.error(
                    "expected a whole number of months (or param.NAME) after 'last'", n.pos
                )
            self.take()
            unit = self.tok
            if unit.kind == "name" and unit.text.lower() in ("month", "months"):
                self.take()
                return Window("month", 0, param) if param else Window("month", int(n.text))
            if unit.kind == "name" and unit.text.lower() in ("year", "years") and param is None:
                self.take()
                return Window("month", 12 * int(n.text))
            raise self.text.error("expected 'months' or 'years'", unit.pos)
        raise self.text.error(
            "expected a time window: 'new', 'last N months', 'last param.NAME months', 'this year'", t.pos
        )


def parse(text: Text | str) -> Node:
    """Parse one expression into a syntax tree (positions are offsets into ``text``)."""
    return _Parser(text if isinstance(text, Text) else Text(text)).parse()
