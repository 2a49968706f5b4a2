"""Syntax tree of the policy expression language.

Every node keeps ``pos``, the offset of its first character in the expression text, so that errors can
point at the exact line and column of the YAML file. The checker fills ``type`` (and, for names,
``ref``); the lowering pass reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Node:
    pos: int
    type: str | None = field(default=None, init=False, repr=False)

    def children(self) -> list[Node]:
        return []

    def walk(self) -> list[Node]:
        """This node and every node below it, depth first."""
        out: list[Node] = [self]
        for c in self.children():
            out.extend(c.walk())
        return out


@dataclass(eq=False)
class Literal(Node):
    value: Any = None


@dataclass(eq=False)
class ListLit(Node):
    items: list[Node] = field(default_factory=list)

    def children(self) -> list[Node]:
        return list(self.items)


@dataclass(eq=False)
class Name(Node):
    """A dotted name: ``member.health``, ``param.monitoring_line``, ``rule.trigger.x``, ``value``."""

    parts: tuple[str, ...] = ()
    ref: Any = field(default=None, repr=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(eq=False)
class Unary(Node):
    op: str = ""  # "not" | "-"
    operand: Node | None = None

    def children(self) -> list[Node]:
        return [self.operand] if self.operand else []


@dataclass(eq=False)
class Binary(Node):
    op: str = ""  # or and == != < <= > >= + - * / in "not in"
    left: Node | None = None
    right: Node | None = None

    def children(self) -> list[Node]:
        return [n for n in (self.left, self.right) if n is not None]


@dataclass(eq=False)
class IsNull(Node):
    operand: Node | None = None
    negated: bool = False

    def children(self) -> list[Node]:
        return [self.operand] if self.operand else []


@dataclass(eq=False)
class Between(Node):
    operand: Node | None = None
    low: Node | None = None
    high: Node | None = None

    def children(self) -> list[Node]:
        return [n for n in (self.operand, self.low, self.high) if n is not None]


@dataclass(eq=False)
class Call(Node):
    func: str = ""
    args: list[Node] = field(default_factory=list)

    def children(self) -> list[Node]:
        return list(self.args)


@dataclass(frozen=True)
class Window:
    """Which records of a feed an aggregation counts, relative to the period being evaluated.

    * ``new``: records *received* in this period (the first import that brought them is of this period)
      whose own date lies within the grace window (``param.record_grace_months`` before the period's
      start); so each event is counted once, in the first run that receives it, late or not;
    * ``last N months`` / ``last param.NAME months`` / ``this year``: by the records' own dates, over
      everything received so far (a late record raises the sum in the run that receives it);
    * ``this month``: parsed only to be refused with advice (it would lose records delivered late);
    * ``all``: every record received, dated up to the period's end.
    """

    unit: str  # "new" | "month" | "year" | "all"
    n: int = 0
    param: str | None = None  # ``last param.NAME months``

    def __str__(self) -> str:
        if self.unit == "all":
            return "all time"
        if self.unit == "new":
            return "new"
        if self.unit == "year":
            return "this year"
        if self.param is not None:
            return f"last param.{self.param} months"
        return "this month" if self.n == 1 else f"last {self.n} months"


@dataclass(eq=False)
class Agg(Node):
    """``func(arg where cond, window)``; ``source`` is the dataset the rows come from (filled by the
    checker when not written, as in ``sum(medical_claim.out_of_pocket)``)."""

    func: str = ""
    arg: Node | None = None
    where: Node | None = None
    window: Window = Window("all")
    source: str | None = None
    joins_member: bool = field(default=False, repr=False)

    def children(self) -> list[Node]:
        return [n for n in (self.arg, self.where) if n is not None]


def walk_outer(node: Node) -> list[Node]:
    """Nodes of ``node`` that are not inside an aggregation (the aggregation nodes themselves included)."""
    out: list[Node] = [node]
    if isinstance(node, Agg):
        return out
    for c in node.children():
        out.extend(walk_outer(c))
    return out
