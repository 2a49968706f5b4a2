"""Text → canonical value, as DuckDB SQL: one macro per field type, and per field the expressions of its
value and of the rule it breaks (NULL when none). Whole columns are converted at once; no Python per row.

Two paths give the same answers (tested on random awkward input):

- the *reference* path (:func:`norm_sql` → :func:`parse_sql` → :func:`value_sql`) accepts every spelling
  below; its string functions and regular expressions are slow;
- the *fast* path (:func:`fast_sql`) answers the common clean spellings (an ISO date, ``2024/1/5``,
  ``20240105``, an Excel serial, ``2024年1月5日``, ``1,234.50``, a canonical enum label, a 12-digit
  code ...) with one cast or one regular expression, and says NULL for everything else, which then takes
  the reference path. A fast answer is only ever a *valid* value, so a NULL never hides an error.

Accepted spellings
- numbers: thousands separators ("1,234.50"), full-width digits, a currency sign or 元;
- dates: 2024-01-05, 2024/1/5, 2024.1.5, 20240105, 2024年1月5日, a time after the date, Excel serial
  numbers (45296 = 2024-01-05); years 1850–2100;
- months: 2024-01, 2024/1, 2024年1月, 202401, or a full date;
- bool: 是/否, Y/N, yes/no, 1/0, true/false, √/×, 有/无;
- region codes: 12 digits; 2, 4, 6 (county) or 9 digit codes are padded with zeros;
- enumerations: the canonical label or an alias of ``catalog.ENUM_ALIASES``, trimmed, case-insensitive.

>>> import duckdb
>>> con = duckdb.connect()
>>> install(con)
>>> con.sql("select jz_date('2024年1月5日'), jz_date('45296'), jz_month('202401'), jz_bool('√'),"
...         " jz_dec('１,234.50'), jz_region('441481')").fetchall()
[(datetime.date(2024, 1, 5), datetime.date(2024, 1, 5), '2024-01', True, Decimal('1234.50'), '441481000000')]
"""

from __future__ import annotations

from typing import Any

from jingzhun.catalog import ENUM_ALIASES, ENUMS, Dataset, Field
from jingzhun.ids.sql import install_macros as install_id_macros
from jingzhun.ids.sql import valid_date_sql
from jingzhun.ingest.rules import RULES
from jingzhun.sqltext import literal

_FW = "'０１２３４５６７８９．－＋'"
_ASCII = "'0123456789.-+'"
_TRUE = ("是", "y", "yes", "1", "1.0", "true", "t", "√", "✓", "✔", "有", "对")
_FALSE = ("否", "n", "no", "0", "0.0", "false", "f", "×", "✗", "✘", "无", "不是")




def _list(values: tuple[str, ...]) -> str:
    return ", ".join(literal(v) for v in values)


def _bool_sql(s: str) -> str:
    # a simple CASE, not IN (...): DuckDB turns a long IN list into a join, which loses the file order
    whens = [f"WHEN {literal(v)} THEN true" for v in _TRUE] + [f"WHEN {literal(v)} THEN false" for v in _FALSE]
    return f"CASE {s} {' '.join(whens)} END"


def enum_map(enum: str) -> dict[str, str]:
    """Lower-cased spelling → canonical label for one enumeration.

    >>> enum_map("sex")["female"], enum_map("sex")["女"]
    ('女', '女')
    """
    out = {v.lower(): v for v in ENUMS[enum]}
    for alias, label in ENUM_ALIASES.get(enum, {}).items():
        out.setdefault(alias.lower(), label)
    return out


def macro_sql() -> list[str]:
    """CREATE MACRO statements for the type conversions (DuckDB dialect)."""
    stmts = [
        # trim() alone removes spaces, full-width spaces and NBSP and is fast; tabs and line breaks are rare
        "CREATE OR REPLACE MACRO jz_t_s(s) AS CASE WHEN contains(s, chr(9)) OR contains(s, chr(10)) "
        "OR contains(s, chr(13)) THEN trim(s, ' \t\r\n\u3000\u00a0') ELSE trim(s) END",
        "CREATE OR REPLACE MACRO jz_t(s) AS nullif(jz_t_s(CAST(s AS VARCHAR)), '')",
        # translate() is slow in DuckDB: only where a full-width digit or sign is present
        "CREATE OR REPLACE MACRO jz_fw(s) AS CASE WHEN regexp_matches(s, '[０-９．－＋]') "
        f"THEN translate(s, {_FW}, {_ASCII}) ELSE s END",
        "CREATE OR REPLACE MACRO jz_digits(s) AS jz_fw(jz_t(s))",
        "CREATE OR REPLACE MACRO jz_num(s) AS regexp_replace(jz_digits(s), '[,，\\s¥￥元]', '', 'g')",
        "CREATE OR REPLACE MACRO jz_dec(s) AS coalesce(TRY_CAST(jz_num(s) AS DECIMAL(18,2)), "
        "TRY_CAST(TRY_CAST(jz_num(s) AS DOUBLE) AS DECIMAL(18,2)))",
        "CREATE OR REPLACE MACRO jz_int_n(n) AS CASE WHEN regexp_matches(n, '^(?:[+-]?\\d{1,18}(\\.0*)?)$') "
        "THEN TRY_CAST(regexp_replace(n, '\\.0*$', '') AS BIGINT) END",
        "CREATE OR REPLACE MACRO jz_int(s) AS jz_int_n(jz_num(s))",
        # dates: unify separators, drop 日 and a time of day, then one of three shapes
        "CREATE OR REPLACE MACRO jz_date_n(s) AS regexp_replace("
        "replace(replace(replace(replace(jz_digits(s), '年', '-'), '月', '-'), '.', '-'), '/', '-'), "
        "'(日|-)?([ T]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?$', '')",
        "CREATE OR REPLACE MACRO jz_date_x(n) AS CASE "
        "WHEN regexp_matches(n, '^(?:\\d{4}-\\d{1,2}-\\d{1,2})$') "
        "THEN CAST(try_strptime(n, '%Y-%m-%d') AS DATE) "
        "WHEN regexp_matches(n, '^(?:\\d{8})$') THEN CAST(try_strptime(n, '%Y%m%d') AS DATE) "
        "WHEN regexp_matches(n, '^(?:\\d{5}(\\.\\d+)?)$') "
        "THEN DATE '1899-12-30' + TRY_CAST(floor(TRY_CAST(n AS DOUBLE)) AS INTEGER) END",
        "CREATE OR REPLACE MACRO jz_date_r(d) AS CASE WHEN d BETWEEN DATE '1850-01-01' AND DATE '2100-12-31' "
        "THEN d END",
        "CREATE OR REPLACE MACRO jz_date(s) AS jz_date_r(jz_date_x(jz_date_n(s)))",
        # months
        "CREATE OR REPLACE MACRO jz_ym(y, m) AS CASE WHEN m BETWEEN 1 AND 12 AND y BETWEEN 1900 AND 2100 "
        "THEN printf('%04d-%02d', y, m) END",
        "CREATE OR REPLACE MACRO jz_month_x(n) AS CASE "
        "WHEN regexp_matches(n, '^(?:\\d{4}-\\d{1,2}(-\\d{1,2})?)$') THEN "
        "jz_ym(TRY_CAST(substr(n, 1, 4) AS INTEGER), "
        "TRY_CAST(regexp_extract(n, '^\\d{4}-(\\d{1,2})', 1) AS INTEGER)) "
        "WHEN regexp_matches(n, '^(?:\\d{6}(\\d{2})?)$') THEN "
        "jz_ym(TRY_CAST(substr(n, 1, 4) AS INTEGER), TRY_CAST(substr(n, 5, 2) AS INTEGER)) "
        "WHEN regexp_matches(n, '^(?:\\d{5}(\\.\\d+)?)$') THEN strftime(jz_date_x(n), '%Y-%m') END",
        "CREATE OR REPLACE MACRO jz_month(s) AS jz_month_x(regexp_replace(jz_date_n(s), '-$', ''))",
        # booleans
        f"CREATE OR REPLACE MACRO jz_bool(s) AS {_bool_sql('lower(jz_t(s))')}",
        # region codes
        "CREATE OR REPLACE MACRO jz_region_n(n) AS CASE "
        "WHEN regexp_matches(n, '^(?:\\d{2}|\\d{4}|\\d{6}|\\d{9}|\\d{12})$') AND NOT starts_with(n, '00') "
        "THEN rpad(n, 12, '0') END",
        "CREATE OR REPLACE MACRO jz_region(s) AS jz_region_n(regexp_replace(jz_digits(s), '\\.0+$', ''))",
        # ID numbers as sent: spreadsheet tricks ="..." and a leading apostrophe removed
        "CREATE OR REPLACE MACRO jz_id_text(s) AS regexp_replace(jz_t(s), '^=|^''', '')",
        "CREATE OR REPLACE MACRO jz_mask(s) AS CASE WHEN length(s) > 8 "
        "THEN left(s, 4) || repeat('*', length(s) - 8) || right(s, 4) ELSE repeat('*', length(s)) END",
    ]
    for enum in ENUMS:
        pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in enum_map(enum).items())
        stmts.append(f"CREATE OR REPLACE MACRO jz_enum_{enum}(s) AS (MAP {{{pairs}}})[lower(jz_t(s))]")
    return stmts


def install(con: Any) -> None:
    """Create the conversion macros (and the ``jz_id_*`` macros) on a DuckDB connection."""
    install_id_macros(con)
    for statement in macro_sql():
        con.execute(statement)


SQL_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "date": "DATE",
    "month": "VARCHAR",
    "bool": "BOOLEAN",
    "id_number": "VARCHAR",
    "region_code": "VARCHAR",
}


def sql_type(f: Field) -> str:
    return SQL_TYPES[f.type]


# Conversion happens in stages, each a projection over the previous one's columns, so that no large
# expression is repeated (macros expand textually): t (trimmed text) → f (fast value) → n (normalised
# text) → x (parsed) → v (value) → e (rule broken). ID numbers go through jingzhun.ids.sql.stages.


def trim_sql(c: str) -> str:
    """Trimmed text of a raw cell; NULL when empty."""
    return f"jz_t({c})"


def id_text_sql(t: str) -> str:
    """An ID number as sent, without the spreadsheet tricks ``="..."`` and a leading apostrophe (the same
    as the ``jz_id_text`` macro, on trimmed text)."""
    return f"CASE WHEN starts_with({t}, '=') OR starts_with({t}, '''') THEN substr({t}, 2) ELSE {t} END"


_DATE_LO, _DATE_HI = "DATE '1850-01-01'", "DATE '2100-12-31'"


def _in_range(d: str) -> str:
    return f"CASE WHEN {d} BETWEEN {_DATE_LO} AND {_DATE_HI} THEN {d} END"


_GROUPED = "'[+-]?[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]+)?'"
_GROUPED_ANY = "'[+-]?[0-9]{1,3}([,，][0-9]{3})+(\\.[0-9]*)?'"


def fast_helpers(f: Field, c: str, h: str) -> list[str]:
    """Columns (``expr AS name``, names starting with ``h``) that the fast path of ``f`` needs; computed
    one stage before it."""
    if f.type == "date":
        separated = f"contains({c}, '-') OR contains({c}, '/')"
        digits8 = f"strlen({c}) = 8 AND NOT ({separated})"
        return [
            f"CASE WHEN {separated} THEN TRY_CAST({c} AS DATE) END AS {h}d",
            f"CASE WHEN {digits8} THEN TRY_CAST({c} AS INTEGER) END AS {h}q",
        ]
    return []


def fast_sql(f: Field, c: str, h: str) -> str | None:
    """The value of the common clean spellings of ``f`` from its *raw* cell ``c`` (and the helper columns
    ``h...`` of :func:`fast_helpers`); NULL for anything else, which then takes the reference path.

    Every non-NULL answer is the reference path's value (for the trimmed text) and is valid (in range, a
    real date ...), so the cell needs no trimming and breaks no rule but a range. A failed TRY_CAST is
    costly in DuckDB, so each spelling is recognised by a cheap test before anything is cast."""
    match f.type:
        case "int":
            return f"CASE WHEN regexp_full_match({c}, '[+-]?[0-9]{{1,18}}') THEN CAST({c} AS BIGINT) END"
        case "decimal":
            return (
                f"CASE WHEN contains({c}, ',') THEN CASE WHEN regexp_full_match({c}, {_GROUPED}) "
                f"THEN TRY_CAST(replace({c}, ',', '') AS DECIMAL(18,2)) END "
                f"ELSE TRY_CAST({c} AS DECIMAL(18,2)) END"
            )
        case "date":
            q = f"{h}q"
            y, m, d = f"({q} // 10000)", f"(({q} // 100) % 100)", f"({q} % 100)"
            ymd = (
                f"CASE WHEN {q} BETWEEN 18500101 AND 21001231 AND {valid_date_sql(y, m, d)} "
                f"THEN make_date({y}, {m}, {d}) END"
            )
            serial = f"DATE '1899-12-30' + CAST({c} AS INTEGER)"
            zh = f"TRY_CAST(replace(replace(replace({c}, '年', '-'), '月', '-'), '日', '') AS DATE)"
            return (
                f"CASE WHEN {h}d IS NOT NULL THEN {_in_range(f'{h}d')} "
                f"WHEN {q} IS NOT NULL THEN {ymd} "
                f"WHEN strlen({c}) = 5 AND regexp_full_match({c}, '[0-9]{{5}}') THEN {_in_range(serial)} "
                f"WHEN contains({c}, '年') AND regexp_full_match({c}, '[0-9]{{4}}年[0-9]{{1,2}}月[0-9]{{1,2}}日') "
                f"THEN {_in_range(zh)} END"
            )
        case "month":
            year = f"CAST(left({c}, 4) AS INTEGER) BETWEEN 1900 AND 2100"
            month = "CAST(substr({c}, {p}, 2) AS INTEGER) BETWEEN 1 AND 12"
            return (
                f"CASE WHEN regexp_full_match({c}, '[0-9]{{4}}-[0-9]{{2}}') THEN "
                f"CASE WHEN {year} AND {month.format(c=c, p=6)} THEN {c} END "
                f"WHEN regexp_full_match({c}, '[0-9]{{6}}') THEN "
                f"CASE WHEN {year} AND {month.format(c=c, p=5)} THEN left({c}, 4) || '-' || substr({c}, 5, 2) END END"
            )
        case "bool":
            return _bool_sql(c)
        case "enum":
            # every spelling the reference maps, written exactly so (lower case, no surrounding spaces)
            mapping = enum_map(f.enum or "")
            pairs = [(k, v) for k, v in mapping.items() if k == k.strip() and k == k.lower()]
            pairs += [
                (v, v) for v in ENUMS[f.enum or ""] if v != v.lower() and mapping[v.lower()] == v == v.strip()
            ]
            whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in pairs)
            return f"CASE {c} {whens} END" if pairs else None
        case "region_code":
            return f"CASE WHEN regexp_full_match({c}, '[1-9][0-9]{{11}}|0[1-9][0-9]{{10}}') THEN {c} END"
    return None


def norm_sql(f: Field, t: str) -> str:
    """Normalised text of the field, from its trimmed text ``t`` (reference path)."""
    match f.type:
        case "int" | "decimal":
            slow = f"regexp_replace(jz_fw({t}), '[,，\\s¥￥元]', '', 'g')"
            plain = f"replace(replace({t}, ',', ''), ' ', '')"
            # a comma must separate thousands (1,234.50): 12,34 is not 1234 (it may be a decimal comma)
            grouped = f"regexp_full_match(regexp_replace(jz_fw({t}), '[\\s¥￥元]', '', 'g'), {_GROUPED_ANY})"
            misplaced = f"(contains({t}, ',') OR contains({t}, '，')) AND NOT {grouped}"
            return f"CASE WHEN {misplaced} THEN {t} WHEN strlen({t}) = length({t}) THEN {plain} ELSE {slow} END"
        case "date":
            return f"CASE WHEN TRY_CAST({t} AS DATE) IS NULL THEN jz_date_n({t}) END"
        case "month":
            slow = f"regexp_replace(jz_date_n({t}), '-$', '')"
            return f"CASE WHEN regexp_matches({t}, '^\\d{{4}}-\\d{{2}}$') THEN {t} ELSE {slow} END"
        case "bool" | "enum":
            return f"lower({t})"
        case "region_code":
            slow = f"regexp_replace(jz_fw({t}), '\\.0+$', '')"
            return f"CASE WHEN regexp_matches({t}, '^\\d{{12}}$') THEN {t} ELSE {slow} END"
    return t


def parse_sql(f: Field, n: str, t: str) -> str:
    """Parsed value from the normalised text ``n`` (and trimmed text ``t``); NULL when it does not parse
    (reference path)."""
    match f.type:
        case "int":
            return f"jz_int_n({n})"
        case "decimal":
            # coalesce is lazy in DuckDB: the DOUBLE route (1.2E+3) runs only where the plain cast failed
            via_double = f"TRY_CAST(TRY_CAST({n} AS DOUBLE) AS DECIMAL(18,2))"
            return f"coalesce(TRY_CAST({n} AS DECIMAL(18,2)), {via_double})"
        case "date":
            return f"CASE WHEN {n} IS NULL THEN TRY_CAST({t} AS DATE) ELSE jz_date_x({n}) END"
        case "month":
            return f"jz_month_x({n})"
        case "bool":
            return _bool_sql(n)
        case "enum":
            return (
                f"(MAP {{{', '.join(f'{literal(k)}: {literal(v)}' for k, v in enum_map(f.enum or '').items())}}})[{n}]"
            )
        case "region_code":
            return (
                f"CASE WHEN regexp_matches({n}, '^[1-9]\\d{{11}}$|^0[1-9]\\d{{10}}$') THEN {n} "
                f"ELSE jz_region_n({n}) END"
            )
    return n


def value_sql(f: Field, x: str) -> str:
    """Final value from the parsed one (dates outside 1850–2100 are invalid)."""
    if f.type == "date":
        return _in_range(x)
    return x


_TYPE_RULE = {
    "enum": "enum",
    "int": "integer",
    "decimal": "number",
    "date": "date",
    "month": "month",
    "bool": "bool",
    "region_code": "region_code",
}

MAX_CELL = 32_767  # the most characters an Excel cell holds
CODES: list[str] = list(RULES)
"""Rule codes by number: the check table stores the number (one byte) of the rule a cell broke."""


def code(rule: str) -> str:
    """SQL literal of a rule's number.

    >>> CODES[int(code("required").split("::")[0])]
    'required'
    """
    return f"{CODES.index(rule)}::UTINYINT"


def code_name_sql(e: str) -> str:
    """SQL: the rule code (text) of the rule number ``e``."""
    return "[" + ", ".join(literal(c) for c in CODES) + f"][{e} + 1]"


def id_rule_sql(r: str) -> str:
    """Number of the rule ``id_<reason>`` for the reason code ``r``."""
    whens = " ".join(f"WHEN {literal(c[3:])} THEN {code(c)}" for c in CODES if c.startswith("id_"))
    return f"CASE {r} {whens} END"


def error_sql(f: Field, t: str, v: str, r: str | None = None, numeric_flag: str | None = None) -> str:
    """Expression of the number of the rule broken by the field (NULL when the value is fine).

    ``t`` is the trimmed text, ``v`` the value, ``r`` the ID reason (ID numbers); ``numeric_flag`` (ID
    numbers in xlsx) is a boolean column saying the cell was stored as a number.
    """
    required = code("required") if f.required else "NULL"
    if f.type == "id_number" and r is not None:
        flag = f"WHEN {numeric_flag} THEN {code('id_scientific_notation')} " if numeric_flag else ""
        return f"CASE WHEN {t} IS NULL THEN {required} {flag}WHEN {r} IS NOT NULL THEN {id_rule_sql(r)} END"
    if f.type == "string":
        lost = ""
        if f.digit_id:
            # Excel's forms of a long number: 6.22848E+18, 6228480402564890000 (15 digits, then zeros)
            shapes = "'^[0-9]+(\\.[0-9]+)?[eE][+-]?[0-9]+$|^[0-9]+\\.[0-9]+$|^[0-9]{15}0{2,}$'"
            lost = f"WHEN regexp_matches({t}, {shapes}) THEN {code('digits_lost')} "
        too_long = f"WHEN strlen({t}) > {MAX_CELL} AND length({t}) > {MAX_CELL} THEN {code('too_long')} "
        return f"CASE WHEN {t} IS NULL THEN {required} {too_long}{lost}END"
    checks = f"WHEN {v} IS NULL THEN {code(_TYPE_RULE[f.type])} "
    if f.type in ("int", "decimal") and (f.min is not None or f.max is not None):
        lo = f"{v} < {f.min}" if f.min is not None else "false"
        hi = f"{v} > {f.max}" if f.max is not None else "false"
        checks += f"WHEN {lo} OR {hi} THEN {code('range')} "
    return f"CASE WHEN {t} IS NULL THEN {required} {checks}END"


def range_error_sql(f: Field, v: str) -> str:
    """The rule number a valid value ``v`` breaks: only ``range`` (NULL when none)."""
    if f.type in ("int", "decimal") and (f.min is not None or f.max is not None):
        lo = f"{v} < {f.min}" if f.min is not None else "false"
        hi = f"{v} > {f.max}" if f.max is not None else "false"
        return f"CASE WHEN {lo} OR {hi} THEN {code('range')} END"
    return "NULL::UTINYINT"


def rule_params(f: Field, ds: Dataset) -> dict[str, object]:
    """Parameters of the messages of ``f``'s rules (allowed values, range)."""
    params: dict[str, object] = {}
    if f.enum:
        values = ENUMS[f.enum]
        params["allowed"] = "、".join(values[:12]) + ("…" if len(values) > 12 else "")
    if f.type in ("int", "decimal"):
        params["min"] = "" if f.min is None else f"{f.min:g}"
        params["max"] = "" if f.max is None else f"{f.max:g}"
    return params
