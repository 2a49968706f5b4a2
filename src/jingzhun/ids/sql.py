"""Vectorised ID-number checks in DuckDB SQL: the one implementation used by ingest and linkage.

The checks answer exactly like :func:`jingzhun.ids.check` (a test compares both on random input) and are
built as *flat* expressions over columns, in stages, so that no expression is repeated: a macro that
calls a macro expands textually, and the old nested macros spent a minute of CPU on a million numbers.

Stages (each a projection over the previous one's columns; :func:`stages` lists them):

1. ``n``: the normalised text (:func:`normalise_sql`; a clean 18-character number is kept as it is);
2. ``g``: its shape, 18 (``\\d{17}[\\dX]``), 15 (``\\d{15}``) or NULL (:func:`shape_sql`);
3. ``k``: the first 17 digits of the 18-character form as a BIGINT (15-digit numbers upgraded), and
   ``c``: the value of the 18th character (``X`` = 10; NULL for 15 digits) (:func:`key_sql`,
   :func:`last_sql`);
4. ``r``: the reason code (NULL: valid) (:func:`reason_sql`) and ``u``: the 18-character form of a
   well-formed number, valid or not (:func:`upgrade_sql`).

Area, birth date and check character are integer arithmetic on ``k``; the check character is
``(12 - sum(w_i * d_i) % 11) % 11`` compared with ``c``.

For ad hoc use a connection gets macros after :func:`install_macros` (each binds its argument once with a
lambda, so it stays flat too):

- ``jz_id_normalise(s)``: spaces and quotes removed, full-width digits to ASCII, ``x`` to ``X``;
- ``jz_id_upgrade(s)``: the 18-character form (15-digit numbers upgraded), ``NULL`` if not well formed;
- ``jz_id_reason(s)``: ``NULL`` for a valid number, else a reason code of :data:`jingzhun.ids.REASONS`;
- ``jz_id_valid(s)``: true for valid numbers.

>>> import duckdb
>>> con = duckdb.connect()
>>> install_macros(con)
>>> con.sql("select jz_id_reason('11010519491231002X'), jz_id_reason('110105194912310021'),"
...         " jz_id_upgrade('110105491231002')").fetchall()
[(None, 'check_digit', '11010519491231002X')]
"""

from __future__ import annotations

from typing import Any

from jingzhun.ids.core import PROVINCE_PREFIXES, WEIGHTS

# Python's str.isspace() characters (what \s removes in jingzhun.ids.core.normalise), zero-width space,
# BOM and quotes. RE2's \s alone would miss the Unicode spaces.
_SPACE_CLASS = (
    "\\t\\n\\x{0b}\\f\\r\\x{1c}-\\x{1f} \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"
    "\\x{202f}\\x{205f}\\x{3000}\\x{200b}\\x{feff}''\"‘’“”"
)
_CLEAN18 = "'^[0-9]{17}[0-9X]$'"
_SCIENTIFIC = "'^(?:[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+|[0-9]+\\.[0-9]+)$'"
# No IN (...) list or list_contains on constants: DuckDB turns them into a join, and a join does not
# keep the rows in file order, which the streamed CSV check relies on (a row's number is its position).
# The provinces are a few ranges of consecutive prefixes instead. Every expression here is portable
# SQL (anchored regexp_matches, integer arithmetic, no lambdas or DuckDB-only types), so linkage can
# send it through any engine (the Spark engine transpiles it).


def _ranges(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in sorted(values):
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


_PROVINCE_RANGES = _ranges([int(p) for p in PROVINCE_PREFIXES])


def province_ok_sql(p: str) -> str:
    """SQL: the 2-digit integer ``p`` is a province prefix of GB/T 2260 (a few BETWEEN ranges)."""
    return "(" + " OR ".join(
        f"({p}) = {lo}" if lo == hi else f"({p}) BETWEEN {lo} AND {hi}" for lo, hi in _PROVINCE_RANGES
    ) + ")"


CHECK_CHARS = "10X98765432"


def normalise_sql(s: str) -> str:
    """Normalised text of ``s`` (like :func:`jingzhun.ids.normalise`); a clean number is kept as is."""
    full = (
        f"upper(regexp_replace(translate(CAST({s} AS VARCHAR), '０１２３４５６７８９ｘＸ', '0123456789XX'), "
        f"'[{_SPACE_CLASS}]+', '', 'g'))"
    )
    return f"CASE WHEN regexp_matches({s}, {_CLEAN18}) THEN {s} ELSE {full} END"


def shape_sql(n: str) -> str:
    """18 for ``\\d{17}[\\dX]``, 15 for ``\\d{15}``, else NULL (``n`` normalised)."""
    return (
        f"CASE WHEN regexp_matches({n}, {_CLEAN18}) THEN 18 "
        f"WHEN length({n}) = 15 AND regexp_matches({n}, '^[0-9]{{15}}$') THEN 15 END"
    )


def key_sql(n: str, g: str) -> str:
    """The first 17 digits of the (upgraded) number as a BIGINT: area, birth date (with the century 19
    inserted for 15 digits) and sequence."""
    n15 = f"CAST({n} AS BIGINT)"
    return (
        f"CASE {g} WHEN 18 THEN CAST(left({n}, 17) AS BIGINT) "
        f"WHEN 15 THEN ({n15} // 1000000000) * 100000000000 + 19000000000 + {n15} % 1000000000 END"
    )


def last_sql(n: str, g: str) -> str:
    """Value of the 18th character (``X`` = 10) of an 18-character number; NULL otherwise."""
    return f"CASE WHEN {g} = 18 THEN CASE WHEN ends_with({n}, 'X') THEN 10 ELSE CAST(right({n}, 1) AS INTEGER) END END"


def check_value_sql(k: str) -> str:
    """The check value (0-10, 10 meaning ``X``) for the 17-digit integer ``k`` (ISO 7064 MOD 11-2)."""
    terms = " + ".join(f"{w} * (({k} // {10 ** (16 - i)}) % 10)" for i, w in enumerate(WEIGHTS))
    return f"((12 - ({terms}) % 11) % 11)"


def check_char_sql(k: str) -> str:
    """The check character for the 17-digit integer ``k``."""
    return _check_char_from_value(check_value_sql(k))


def _check_char_from_value(value: str) -> str:
    # CHECK_CHARS is indexed by the weighted sum mod 11, which is (12 - value) % 11
    return f"substr('{CHECK_CHARS}', ((12 - {value}) % 11) + 1, 1)"


def valid_date_sql(y: str, m: str, d: str) -> str:
    """SQL: y-m-d (integers) is a real date of the proleptic Gregorian calendar."""
    leap = f"(({y}) % 4 = 0 AND (({y}) % 100 <> 0 OR ({y}) % 400 = 0))"
    days = (
        f"CASE WHEN ({m}) = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN ({m}) = 4 OR ({m}) = 6 OR ({m}) = 9 OR ({m}) = 11 THEN 30 ELSE 31 END"
    )
    return f"(({m}) BETWEEN 1 AND 12 AND ({d}) BETWEEN 1 AND {days})"


_TODAY = "CAST(strftime(current_date, '%Y%m%d') AS BIGINT)"


def reason_sql(n: str, g: str, k: str, c: str) -> str:
    """Reason code (NULL: valid) from the normalised text ``n``, shape ``g``, key ``k`` and last value
    ``c``; the same order of checks as :func:`jingzhun.ids.check`."""
    ymd = f"(({k} // 1000) % 100000000)"
    y, m, d = f"({ymd} // 10000)", f"(({ymd} // 100) % 100)", f"({ymd} % 100)"
    real = valid_date_sql(y, m, d)
    return (
        f"CASE WHEN {k} IS NOT NULL THEN CASE "
        f"WHEN NOT {province_ok_sql(f'{k} // 1000000000000000')} "
        "THEN 'area_code' "
        f"WHEN {g} = 15 AND NOT {real} THEN 'birth_date' "
        f"WHEN ({k} // 100000000000) % 10000 = 0 THEN 'area_code' "
        f"WHEN NOT ({real} AND {y} >= 1850 AND {ymd} <= {_TODAY}) THEN 'birth_date' "
        f"WHEN {g} = 18 AND {check_value_sql(k)} <> {c} THEN 'check_digit' END "
        f"WHEN {n} IS NULL OR {n} = '' THEN 'empty' "
        f"WHEN regexp_matches({n}, {_SCIENTIFIC}) THEN 'scientific_notation' "
        f"WHEN length({n}) = 15 THEN 'characters' "
        f"WHEN regexp_matches({n}, '^[0-9X]+$') THEN 'length' "
        "ELSE 'characters' END"
    )


def excel_rounded_sql(g: str, k: str, c: str) -> str:
    """SQL: an 18-digit number ending in ``000`` (shape ``g``, key ``k``, last value ``c``), as Excel
    writes back a number it kept to 15 significant digits (:func:`jingzhun.ids.looks_excel_rounded`)."""
    return f"coalesce({g} = 18 AND {c} = 0 AND {k} % 100 = 0, false)"


def upgrade_sql(n: str, g: str, k: str) -> str:
    """The 18-character form of a well-formed number (valid or not); NULL otherwise."""
    return (
        f"CASE {g} WHEN 18 THEN {n} WHEN 15 THEN substr({n}, 1, 6) || '19' || substr({n}, 7, 9) || "
        f"{_check_char_from_value(check_value_sql(k))} END"
    )


def valid_sql(u: str) -> str:
    """SQL: is ``u`` (a column holding an 18-character form or NULL) a valid number?"""
    k = f"CAST(left({u}, 17) AS BIGINT)"
    body = f"({reason_sql(u, '18', k, last_sql(u, '18'))}) IS NULL"
    return f"coalesce(regexp_matches({u}, {_CLEAN18}) AND {body}, false)"


def stages(s: str, out: str, clean: str | None = None) -> list[list[str]]:
    """Projection stages (lists of ``expr AS name``) computing, from the expression ``s``, the columns
    ``{out}_n`` (normalised), ``{out}_g`` (shape), ``{out}_k`` (key), ``{out}_c`` (last character),
    ``{out}_r`` (reason code, NULL when valid) and ``{out}_u`` (18-character form).

    A clean 18-character number (the common case) costs one regular expression and one cast: its
    digits give both ``k`` and ``c``. ``clean`` names a boolean column already saying that ``s`` is
    clean (17 digits and a digit or X), if the caller has one."""
    f, n, g, k, c = (f"{out}_{x}" for x in "fngkc")
    q = clean or f"{out}_q"
    first = [] if clean else [[f"regexp_matches({s}, {_CLEAN18}) AS {q}"]]
    return [
        *first,
        [
            f"CASE WHEN {q} THEN {s} ELSE {normalise_sql(s)} END AS {n}",
            f"CASE WHEN {q} THEN TRY_CAST({s} AS BIGINT) END AS {f}",
        ],
        [f"CASE WHEN {q} THEN 18 ELSE {shape_sql(n)} END AS {g}"],
        [
            f"CASE WHEN {f} IS NOT NULL THEN {f} // 10 ELSE {key_sql(n, g)} END AS {k}",
            f"CASE WHEN {f} IS NOT NULL THEN {f} % 10 ELSE {last_sql(n, g)} END AS {c}",
        ],
        [f"{reason_sql(n, g, k, c)} AS {out}_r", f"{upgrade_sql(n, g, k)} AS {out}_u"],
    ]


def _bind(value: str, name: str, body: str) -> str:
    """``body`` with ``name`` bound to ``value`` once per row (a one-element list and a lambda)."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


def _chain(s: str, result: str) -> str:
    """``result`` (an expression of n, g, k and ``{c}``) with the stages bound one after another."""
    body = _bind(key_sql("n", "g"), "k", result.replace("{c}", f"({last_sql('n', 'g')})"))
    return _bind(normalise_sql(s), "n", _bind(shape_sql("n"), "g", body))


def macro_sql() -> list[str]:
    """The CREATE MACRO statements (DuckDB dialect)."""
    reason = _chain("s", reason_sql("n", "g", "k", "{c}"))
    upgrade = _chain("s", upgrade_sql("n", "g", "k"))
    return [
        f"CREATE OR REPLACE MACRO jz_id_normalise(s) AS {normalise_sql('s')}",
        f"CREATE OR REPLACE MACRO jz_id_upgrade(s) AS {upgrade}",
        f"CREATE OR REPLACE MACRO jz_id_reason(s) AS {reason}",
        "CREATE OR REPLACE MACRO jz_id_valid(s) AS jz_id_reason(s) IS NULL",
    ]


def install_macros(con: Any) -> None:
    """Create the ``jz_id_*`` macros on a DuckDB connection (idempotent)."""
    for statement in macro_sql():
        con.execute(statement)
