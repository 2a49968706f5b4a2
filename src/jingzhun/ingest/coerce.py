"""Text → canonical value, as DuckDB SQL: one macro per field type, and per field the expressions of its
value and of the rule it breaks (NULL when none). Whole columns are converted at once; no Python per row.

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
from jingzhun.ids.core import PROVINCE_PREFIXES, WEIGHTS
from jingzhun.ids.sql import install_macros as install_id_macros

_FW = "'０１２３４５６７８９．－＋'"
_ASCII = "'0123456789.-+'"
_TRUE = ("是", "y", "yes", "1", "1.0", "true", "t", "√", "✓", "✔", "有", "对")
_FALSE = ("否", "n", "no", "0", "0.0", "false", "f", "×", "✗", "✘", "无", "不是")


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(_q(v) for v in values)


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
        "WHEN regexp_matches(n, '^(?:\\d{4,5}(\\.\\d+)?)$') "
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
        f"CREATE OR REPLACE MACRO jz_bool(s) AS CASE WHEN lower(jz_t(s)) IN ({_list(_TRUE)}) THEN true "
        f"WHEN lower(jz_t(s)) IN ({_list(_FALSE)}) THEN false END",
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
    stmts.append(_fast_id_reason_macro())
    for enum in ENUMS:
        pairs = ", ".join(f"{_q(k)}: {_q(v)}" for k, v in enum_map(enum).items())
        stmts.append(f"CREATE OR REPLACE MACRO jz_enum_{enum}(s) AS (MAP {{{pairs}}})[lower(jz_t(s))]")
    return stmts


def _fast_id_reason_macro() -> str:
    """``jz_fid_reason(u, k)``: the reason code of a well-formed 18-character number ``u`` whose first 17
    digits are the integer ``k``, in integer arithmetic (several times faster than string slicing). It
    answers like ``jz_id_reason`` for such numbers (a test compares both)."""
    digit = [f"((k // {10 ** (16 - i)}) % 10)" for i in range(17)]
    total = " + ".join(f"{w} * {d}" for w, d in zip(WEIGHTS, digit, strict=True))
    ymd = "((k // 1000) % 100000000)"
    y, m, d = f"({ymd} // 10000)", f"(({ymd} // 100) % 100)", f"({ymd} % 100)"
    leap = f"(({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0)"
    feb = f"(CASE WHEN {leap} THEN 29 ELSE 28 END)"
    days = f"(CASE WHEN {m} = 2 THEN {feb} ELSE 30 + (({m} + {m} // 8) % 2) END)"
    provinces = ", ".join(sorted(PROVINCE_PREFIXES))
    return (
        "CREATE OR REPLACE MACRO jz_fid_reason(u, k) AS CASE "
        f"WHEN k // {10**15} NOT IN ({provinces}) OR (k // {10**11}) % 10000 = 0 THEN 'area_code' "
        f"WHEN NOT ({m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days} AND {y} >= 1850 "
        f"AND {ymd} <= CAST(strftime(current_date, '%Y%m%d') AS BIGINT)) THEN 'birth_date' "
        f"WHEN substr('10X98765432', (({total}) % 11) + 1, 1) <> right(u, 1) THEN 'check_digit' END"
    )


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
# expression is repeated (macros expand textually): t (trimmed text) → n (normalised text) → x (parsed)
# → v (value) / r (ID reason) → e (rule broken).


_CLEAN_ID = "regexp_matches({t}, '^\\d{{17}}[\\dX]$')"


def norm_sql(f: Field, t: str) -> str:
    """Normalised text of the field, from its trimmed text ``t``. The common clean case (plain ASCII,
    an ISO date, a clean ID number) skips the slower string functions."""
    match f.type:
        case "int" | "decimal":
            slow = f"regexp_replace(jz_fw({t}), '[,，\\s¥￥元]', '', 'g')"
            plain = f"replace(replace({t}, ',', ''), ' ', '')"
            return f"CASE WHEN strlen({t}) = length({t}) THEN {plain} ELSE {slow} END"
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
        case "id_number":
            return f"CASE WHEN {_CLEAN_ID.format(t=t)} THEN {t} ELSE jz_id_normalise(jz_id_text({t})) END"
    return t


def id_key_sql(n: str) -> str:
    """The first 17 digits of a clean 18-character number as an integer (NULL otherwise)."""
    return f"CASE WHEN {_CLEAN_ID.format(t=n)} THEN TRY_CAST(left({n}, 17) AS BIGINT) END"


def parse_sql(f: Field, n: str, t: str) -> str:
    """Parsed value from the normalised text ``n`` (and trimmed text ``t``); NULL when it does not parse."""
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
            return f"CASE WHEN {n} IN ({_list(_TRUE)}) THEN true WHEN {n} IN ({_list(_FALSE)}) THEN false END"
        case "enum":
            return (
                f"(MAP {{{', '.join(f'{_q(k)}: {_q(v)}' for k, v in enum_map(f.enum or '').items())}}})[{n}]"
            )
        case "region_code":
            return (
                f"CASE WHEN regexp_matches({n}, '^[1-9]\\d{{11}}$|^0[1-9]\\d{{10}}$') THEN {n} "
                f"ELSE jz_region_n({n}) END"
            )
        case "id_number":
            return f"CASE WHEN {_CLEAN_ID.format(t=n)} THEN {n} ELSE jz_id_upgrade_n({n}) END"
    return n


def value_sql(f: Field, x: str) -> str:
    """Final value from the parsed one (dates outside 1850–2100 are invalid)."""
    if f.type == "date":
        return f"CASE WHEN {x} BETWEEN DATE '1850-01-01' AND DATE '2100-12-31' THEN {x} END"
    return x


def id_reason_sql(t: str, n: str, x: str, k: str) -> str:
    """Reason code of an ID number (NULL: valid), from its text, normalised text, 18-character form and
    the integer of its first 17 digits (:func:`id_key_sql`)."""
    return f"CASE WHEN {k} IS NOT NULL THEN jz_fid_reason({x}, {k}) ELSE jz_id_reason_nu({t}, {n}, {x}) END"


_TYPE_RULE = {
    "enum": "enum",
    "int": "integer",
    "decimal": "number",
    "date": "date",
    "month": "month",
    "bool": "bool",
    "region_code": "region_code",
}


def error_sql(f: Field, t: str, v: str, r: str | None = None, numeric_flag: str | None = None) -> str:
    """Expression of the rule code broken by the field (NULL when the value is fine).

    ``t`` is the trimmed text, ``v`` the value, ``r`` the ID reason (ID numbers); ``numeric_flag`` (ID
    numbers in xlsx) is a boolean column saying the cell was stored as a number.
    """
    required = "'required'" if f.required else "NULL"
    if f.type == "id_number":
        flag = f"WHEN {numeric_flag} THEN 'id_scientific_notation' " if numeric_flag else ""
        return f"CASE WHEN {t} IS NULL THEN {required} {flag}ELSE 'id_' || {r} END"
    if f.type == "string":
        return f"CASE WHEN {t} IS NULL THEN {required} END"
    checks = f"WHEN {v} IS NULL THEN '{_TYPE_RULE[f.type]}' "
    if f.type in ("int", "decimal") and (f.min is not None or f.max is not None):
        lo = f"{v} < {f.min}" if f.min is not None else "false"
        hi = f"{v} > {f.max}" if f.max is not None else "false"
        checks += f"WHEN {lo} OR {hi} THEN 'range' "
    return f"CASE WHEN {t} IS NULL THEN {required} {checks}END"


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
