"""SQL text for literals and identifiers written into generated statements (one place for the quoting).

>>> literal("it's"), literal(3), quote('证件号码'), quote('a"b')
("'it''s'", "'3'", '"证件号码"', '"a""b"')
"""

from __future__ import annotations


def literal(value: object) -> str:
    """A SQL string literal of ``value``'s text."""
    return "'" + str(value).replace("'", "''") + "'"


def quote(identifier: str) -> str:
    """A quoted SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'
