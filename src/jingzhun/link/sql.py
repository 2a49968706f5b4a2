"""Engine-neutral SQL for linkage: expressions written as DuckDB-dialect text, parsed into sqlglot trees
(:func:`tree`) that each engine writes in its own dialect (``jingzhun.engines``). No macros, session
variables, parameters or engine-specific statements, so the same linkage runs wherever an
:class:`~jingzhun.engines.base.Engine` runs.

The expression builders take SQL text for a column (or any expression) and return SQL text; a caller that
needs a value several times computes it once in an inner SELECT and refers to the column.

>>> import duckdb
>>> exprs = [name_norm("' 張 小明 '"), digits("'５２-03 22'"), date_norm("'1980年3月5日'"), sex_norm("'F'"),
...          mask("'11010519491231002X'")]
>>> duckdb.sql("SELECT " + ", ".join(exprs)).fetchall()
[('张小明', '520322', datetime.date(1980, 3, 5), '女', '1101**********002X')]
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from jingzhun.ids.sql import check_char_sql
from jingzhun.link.normalise import STRIP_CHARS, TRANSLATE_FROM, TRANSLATE_TO
from jingzhun.sqltext import literal, quote

_FULL_DIGITS, _HALF_DIGITS = "０１２３４５６７８９", "0123456789"
#: An 18-character number as stored by ingest (digits and a final digit or X).
WELL_FORMED = "^[0-9]{17}[0-9X]$"


@functools.lru_cache(maxsize=128)  # one session's statements (~70); a big one holds ~1 MB
def tree(sql: str) -> exp.Expr:
    """Parse DuckDB-dialect SQL into a tree for :meth:`Engine.materialize` / :meth:`Engine.fetch_arrow`.

    Parsing is the costly part of a small query (sqlglot is pure Python; an ID check alone is 4 kB of
    SQL), and a :class:`~jingzhun.link.api.LinkSession` sends the same statements for every feed (its
    relation names do not depend on the feed), so trees are cached by their text and **shared**: never
    modify one (engines copy a tree before rewriting it; sqlglot's generator copies too).

    >>> tree("SELECT 1 AS x") is tree("SELECT 1 AS x")
    True
    """
    return sqlglot.parse_one(sql, read="duckdb")


def cast_to_schema(select_sql: str, schema: pa.Schema) -> str:
    """``select_sql`` with its columns cast to the SQL types of ``schema`` (floating point → DOUBLE, the
    rest text), for results kept in an engine: the same types on every engine, an all-NULL column
    included.

    >>> cast_to_schema("SELECT 1 AS a", pa.schema([("a", pa.float64()), ("b", pa.string())]))
    'SELECT CAST("a" AS DOUBLE) AS "a", CAST("b" AS VARCHAR) AS "b" FROM (SELECT 1 AS a) AS t'
    """
    cols = ", ".join(f"CAST({quote(f.name)} AS {'DOUBLE' if pa.types.is_floating(f.type) else 'VARCHAR'}) "
                     f"AS {quote(f.name)}" for f in schema)
    return f"SELECT {cols} FROM ({select_sql}) AS t"


def columns_of(engine: Any, relation: str) -> list[str]:
    """Column names of a relation registered on ``engine``."""
    return list(engine.fetch_arrow(tree(f"SELECT * FROM {relation} LIMIT 0")).schema.names)


def scalar(engine: Any, sql: str) -> Any:
    """The single value of a one-row, one-column query."""
    table = engine.fetch_arrow(tree(sql))
    return table.column(0)[0].as_py() if table.num_rows else None


def text(x: str) -> str:
    return f"CAST({x} AS VARCHAR)"


# --- ID numbers ---------------------------------------------------------------------------------------


def id_normalise(x: str) -> str:
    """Spaces and quotes removed, full-width digits to ASCII, ``x`` to ``X`` (as ``jingzhun.ids``)."""
    return (
        f"upper(regexp_replace(translate({text(x)}, '０１２３４５６７８９ｘＸ', '0123456789XX'), "
        "'[\\s\\x{3000}\\x{200b}\\x{feff}''\"‘’“”]+', '', 'g'))"
    )


def id_normalised_or_self(x: str) -> str:
    """``x`` itself when already a well-formed 18-character number (nearly every stored value), else its
    normalised text: one cheap pattern test on the common path."""
    return f"CASE WHEN regexp_matches({text(x)}, '{WELL_FORMED}') THEN {text(x)} ELSE {id_normalise(x)} END"


def id_upgrade_normalised(n: str) -> str:
    """The 18-character form of normalised text ``n`` (a column): itself when well formed, 15-digit numbers
    upgraded with their check character, else NULL."""
    up17 = f"(substr({n}, 1, 6) || '19' || substr({n}, 7, 9))"
    check = check_char_sql(f"CAST({up17} AS BIGINT)")
    return (
        f"CASE WHEN regexp_matches({n}, '{WELL_FORMED}') THEN {n} "
        f"WHEN regexp_matches({n}, '^[0-9]{{15}}$') THEN {up17} || {check} END"
    )


def birth_from_id(u: str) -> str:
    """Birth date inside an upgraded 18-character number ``u`` (NULL for digests and bad dates)."""
    return (
        f"CASE WHEN length({u}) = 18 AND regexp_matches({u}, '^[0-9]{{17}}') THEN TRY_CAST("
        f"substr({u}, 7, 4) || '-' || substr({u}, 11, 2) || '-' || substr({u}, 13, 2) AS DATE) END"
    )


def sex_from_id(u: str) -> str:
    """Sex from the 17th character of an upgraded 18-character number ``u`` (odd: 男)."""
    return (
        f"CASE WHEN length({u}) = 18 AND regexp_matches({u}, '^[0-9]{{17}}') THEN "
        f"CASE WHEN CAST(substr({u}, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END END"
    )


# --- names, places, dates, sex, phones ------------------------------------------------------------------


def name_norm(x: str) -> str:
    """Same result as :func:`jingzhun.link.normalise.normalise_name` (NULL for empty), with a fast path
    (one pattern test) for names that need no change."""
    needs_work = literal("[a-z" + TRANSLATE_FROM + STRIP_CHARS + "]")
    slow = (
        f"upper(regexp_replace(translate({text(x)}, {literal(TRANSLATE_FROM)}, {literal(TRANSLATE_TO)}), "
        f"{literal('[' + STRIP_CHARS + ']+')}, '', 'g'))"
    )
    return f"nullif(CASE WHEN regexp_matches({text(x)}, {needs_work}) THEN {slow} ELSE {text(x)} END, '')"


def digits(x: str) -> str:
    """Digits only (full-width digits converted), NULL when none."""
    return (
        f"nullif(CASE WHEN regexp_matches({text(x)}, '^[0-9]*$') THEN {text(x)} "
        f"ELSE regexp_replace(translate({text(x)}, {literal(_FULL_DIGITS)}, {literal(_HALF_DIGITS)}), "
        "'[^0-9]', '', 'g') END, '')"
    )


def sex_norm(x: str) -> str:
    """男/女 from 男, 女, M/F, male/female, 1/2 (NULL otherwise)."""
    s = f"lower(trim({text(x)}))"
    return (
        f"CASE WHEN {text(x)} IN ('男', '女') THEN {text(x)} "
        f"WHEN {s} IN ('男', 'm', 'male', '1', '男性') THEN '男' "
        f"WHEN {s} IN ('女', 'f', 'female', '2', '女性') THEN '女' END"
    )


def date_norm(x: str) -> str:
    """A DATE from a DATE or from text ``YYYY-MM-DD``, ``YYYYMMDD``, ``YYYY/M/D``, ``YYYY.MM.DD``,
    ``YYYY年M月D日`` (a time part is ignored); NULL when not a date."""
    t = f"trim({text(x)})"
    compact = (
        f"CASE WHEN regexp_matches({t}, '^[0-9]{{8}}$') THEN TRY_CAST(substr({t}, 1, 4) || '-' || "
        f"substr({t}, 5, 2) || '-' || substr({t}, 7, 2) AS DATE) END"
    )
    separated = (
        f"TRY_CAST(regexp_replace(regexp_replace({t}, '[/.年月]', '-', 'g'), '(日|[ T]).*$', '') AS DATE)"
    )
    return f"coalesce(TRY_CAST({x} AS DATE), {compact}, {separated})"


def yyyymmdd(d: str) -> str:
    """A DATE as ``YYYYMMDD`` text."""
    return f"strftime({d}, '%Y%m%d')"


def mask(x: str) -> str:
    """Mask the middle of an ID number or phone: ``1101**********002X``, ``13******78``."""
    return (
        f"CASE WHEN length({x}) > 8 THEN left({x}, 4) || repeat('*', length({x}) - 8) || right({x}, 4) "
        f"WHEN length({x}) > 4 THEN left({x}, 2) || repeat('*', length({x}) - 4) || right({x}, 2) "
        f"ELSE repeat('*', length({x})) END"
    )
