"""Text taken from a policy file together with where it was: turns an offset inside an expression into
the file, line and column of the YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass

from jingzhun.errors import Location, PolicyError


@dataclass(frozen=True)
class Text:
    """A scalar from a YAML file. ``line``/``column`` (1-based) are where the scalar starts; ``style`` is the
    YAML scalar style (``''`` plain, ``'"'``/``"'"`` quoted, ``'|'``/``'>'`` block) and ``indent`` the
    column (1-based) of block content.

    >>> t = Text("a == b", "f.yaml", 3, 7, '"')
    >>> t.location(5)
    Location(file='f.yaml', sheet=None, row=None, field=None, line=3, column=13)
    >>> Text("x\\n  and y", "f.yaml", 3, 7, "|", indent=5).location(8).line
    5
    """

    value: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    style: str = ""
    indent: int = 1
    folded: tuple[str, ...] = ()  # content lines of a folded (>) scalar, to map offsets back to lines

    def location(self, offset: int = 0) -> Location:
        if self.line is None:
            return Location(file=self.file)
        offset = max(0, min(offset, len(self.value)))
        before = self.value[:offset]
        nl = before.count("\n")
        col_in_line = offset - (before.rfind("\n") + 1)
        if self.style == ">" and self.folded:
            rest = offset
            for i, line in enumerate(self.folded):
                if rest <= len(line):
                    return Location(file=self.file, line=self.line + 1 + i, column=self.indent + rest)
                rest -= len(line) + 1
        if self.style in ("|", ">"):
            return Location(file=self.file, line=self.line + 1 + nl, column=self.indent + col_in_line)
        if nl:
            return Location(file=self.file, line=self.line + nl, column=col_in_line + 1)
        quote = 1 if self.style in ('"', "'") else 0
        return Location(file=self.file, line=self.line, column=(self.column or 1) + quote + col_in_line)

    def error(self, message: str, offset: int = 0, hint: str | None = None) -> PolicyError:
        return PolicyError(message, self.location(offset), hint)


def plain(value: str) -> Text:
    """Text that does not come from a file (tests, overrides)."""
    return Text(value)
