"""Typed fields (:mod:`jingzhun.link.fields`) cleaned in SQL and compared by Splink levels.

For each field ``f`` the prepared frame holds ``f__raw`` (the value as typed, several columns joined by a
space: what the clerk sees), ``f`` (the cleaned value) and, per type, helper columns:

- names: Chinese script → the normalised characters (traditional → simplified, spaces removed) and
  ``f__key`` their tone-less pinyin; Latin script → lower case without accents or punctuation, and
  ``f__key`` its words sorted and joined (so "Smith John" equals "John Smith");
- dates: ``f`` a DATE and ``f__s`` its ``YYYYMMDD`` text (an impossible date such as 1987-02-30 keeps
  its digits in ``f__s`` for fuzzy comparison but has no DATE, and is counted);
- region codes: ``f__t`` (first 9 digits, township) and ``f__c`` (first 6, county);
- Chinese ID numbers: ``f`` the valid 18-character number, ``f__txt`` the normalised text of any number
  (a mistyped number still compares within one edit).

A value that is present but cannot be read (a date that does not exist, an ID number that fails its
check, a sex that is neither male nor female) is an *impossible value*: it is never turned into another
valid value, and :func:`impossible_counts` counts it per field.

>>> import duckdb
>>> from jingzhun.link.fields import FieldSpec
>>> spec = FieldSpec("dob", "date", ("dob",), ("dob",))
>>> duckdb.sql("SELECT " + clean_sql(spec, "'19870230'")).fetchall()
[(None, '19870230')]
"""

from __future__ import annotations

import math
from typing import Any

from jingzhun.link import sql as q
from jingzhun.link.fields import NAME_TYPES, FieldSpec, Rule
from jingzhun.sqltext import literal, quote

_CJK = "[\\x{3400}-\\x{9fff}]"
#: Comparison columns a rule joins on, per type: the key that equal values share.
_BLOCK_COLUMN = {"full_name": "__key", "given_name": "__key", "surname": "__key", "date": "__s",
                 "cn_id": "__txt"}


def raw_sql(columns: tuple[str, ...]) -> str:
    """The value as typed: one column as text, several joined by a space; NULL when empty."""
    parts = [f"nullif(trim(CAST({quote(c)} AS VARCHAR)), '')" for c in columns]
    joined = parts[0] if len(parts) == 1 else f"concat_ws(' ', {', '.join(parts)})"
    return f"nullif(trim({joined}), '')"


def latin_sql(x: str) -> str:
    """Lower case, accents and punctuation removed, words separated by one space."""
    return f"nullif(trim(regexp_replace(lower(strip_accents({x})), '[^a-z0-9]+', ' ', 'g')), '')"


def _date_sql(x: str, fmt: str | None) -> str:
    if fmt:
        return f"CAST(TRY_STRPTIME({x}, {literal(fmt)}) AS DATE)"
    day_first = (f"CASE WHEN regexp_matches({x}, '^[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-][0-9]{{4}}$') THEN "
                 f"CAST(TRY_STRPTIME(regexp_replace({x}, '[/.-]', '/', 'g'), '%d/%m/%Y') AS DATE) END")
    return f"coalesce({q.date_norm(x)}, {day_first})"


def clean_sql(spec: FieldSpec, x: str) -> str:
    """SELECT items cleaning raw text ``x`` (a column or expression) into the field's columns, except the
    name keys (pinyin needs a join, :func:`name_key_sql`)."""
    f, t = quote(spec.name), spec.type
    if t in NAME_TYPES:
        cjk = f"regexp_matches({x}, '{_CJK}')"
        return (f"CASE WHEN {cjk} THEN {q.name_norm(x)} ELSE {latin_sql(x)} END AS {f}, "
                f"{cjk} AS {quote(spec.name + '__cjk')}")
    if t == "date":
        d = _date_sql(x, spec.date_format)
        ok = f"CASE WHEN {d} BETWEEN DATE '1850-01-01' AND current_date THEN {d} END"
        digits8 = f"CASE WHEN regexp_matches({q.digits(x)}, '^[0-9]{{8}}$') THEN {q.digits(x)} END"
        return f"{ok} AS {f}, coalesce({q.yyyymmdd(ok)}, {digits8}) AS {quote(spec.name + '__s')}"
    if t in ("address", "text"):
        return f"{latin_sql(x)} AS {f}"
    if t == "categorical":
        return f"nullif(lower(trim({x})), '') AS {f}"
    if t == "postcode":
        return f"nullif(upper(regexp_replace({x}, '[^0-9A-Za-z]', '', 'g')), '') AS {f}"
    if t == "numeric_id":
        return f"{q.digits(x)} AS {f}"
    if t == "region_code":
        d = q.digits(x)
        return (f"{d} AS {f}, CASE WHEN length({d}) >= 9 THEN left({d}, 9) END AS {quote(spec.name + '__t')}, "
                f"CASE WHEN length({d}) >= 6 THEN left({d}, 6) END AS {quote(spec.name + '__c')}")
    if t == "cn_id":
        # the valid number (``f``) is added over this column by :func:`cn_id_sql`, one layer per step
        return f"nullif({q.id_normalise(x)}, '') AS {quote(spec.name + '__txt')}"
    if t == "sex":
        return f"{q.sex_norm(x)} AS {f}"
    raise ValueError(f"unknown field type {t!r}")


def cn_id_sql(spec: FieldSpec, frame: str) -> str:
    """SELECT of ``frame`` with the field's valid 18-character number ``f`` (15-digit numbers upgraded)
    computed from its normalised text in layers (the check is a long expression: it reads columns, not
    nested expressions)."""
    from jingzhun.ids.sql import valid_sql

    f, txt = quote(spec.name), quote(spec.name + "__txt")
    return (f"SELECT * EXCLUDE (jz_u), CASE WHEN {valid_sql('jz_u')} THEN jz_u END AS {f} "
            f"FROM (SELECT *, {q.id_upgrade_normalised(txt)} AS jz_u FROM {frame})")


def impossible_sql(spec: FieldSpec) -> str | None:
    """A condition (over the prepared frame) true for a value present but unreadable; None for types
    where every text is acceptable."""
    raw, f = quote(spec.name + "__raw"), quote(spec.name)
    if spec.type in ("date", "cn_id", "sex", "region_code"):
        if spec.type == "region_code":
            return f"{raw} IS NOT NULL AND (length({f}) NOT IN (6, 9, 12) OR {f} IS NULL)"
        return f"{raw} IS NOT NULL AND {f} IS NULL"
    if spec.type == "numeric_id":
        return f"{raw} IS NOT NULL AND {f} IS NULL"
    return None


def name_key_sql(spec: FieldSpec, frame: str, pinyin: str) -> str:
    """SELECT of (uid, key) for the field's names: tone-less pinyin of Chinese names (one row per
    character joined to the (ch, py) table), Latin words sorted and joined."""
    f = quote(spec.name)
    cjk = quote(spec.name + "__cjk")
    latin_key = (f"array_to_string(list_sort(string_split({f}, ' ')), '')" if spec.type == "full_name"
                 else f"replace({f}, ' ', '')")
    return f"""
        SELECT uid, {latin_key} AS k FROM {frame} WHERE {f} IS NOT NULL AND NOT {cjk}
        UNION ALL
        SELECT c.uid, string_agg(coalesce(p.py, lower(c.ch)), '' ORDER BY c.pos) AS k
        FROM (SELECT uid, unnest(string_split({f}, '')) AS ch,
                     generate_subscripts(string_split({f}, ''), 1) AS pos
              FROM {frame} WHERE {f} IS NOT NULL AND {cjk}) c
        LEFT JOIN {pinyin} p ON p.ch = c.ch
        GROUP BY c.uid
    """


def block_column(spec: FieldSpec) -> str:
    """The prepared column a blocking rule on this field joins on."""
    return spec.name + _BLOCK_COLUMN.get(spec.type, "")


def rule_sql(rule: Rule, specs: dict[str, FieldSpec]) -> str:
    """A blocking rule as Splink's ``l``/``r`` SQL."""
    cols = [quote(block_column(specs[f])) for f in rule.fields]
    if rule.swapped:
        a, b = cols
        return f"l.{a} = r.{b} AND l.{b} = r.{a}"
    return " AND ".join(f"l.{c} = r.{c}" for c in cols)


def count_pairs_sql(rule: Rule, specs: dict[str, FieldSpec], left: str, right: str | None) -> str:
    """How many pairs ``rule`` makes between ``left`` and ``right`` (or within ``left`` when ``right`` is
    None, each pair once), without making them: one GROUP BY per side."""
    cols = [quote(block_column(specs[f])) for f in rule.fields]
    lcols = cols
    rcols = list(reversed(cols)) if rule.swapped else cols

    def grouped(frame: str, keys: list[str]) -> str:
        sel = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
        nn = " AND ".join(f"{k} IS NOT NULL" for k in keys)
        return f"SELECT {sel}, count(*) AS n FROM {frame} WHERE {nn} GROUP BY ALL"

    on = " AND ".join(f"a.k{i} = b.k{i}" for i in range(len(cols)))
    if right is None:
        if rule.swapped:
            return (f"SELECT coalesce(sum(a.n * b.n), 0) // 2 FROM ({grouped(left, lcols)}) a "
                    f"JOIN ({grouped(left, rcols)}) b ON {on}")
        return f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM ({grouped(left, lcols)})"
    return (f"SELECT coalesce(sum(a.n * b.n), 0) FROM ({grouped(left, lcols)}) a "
            f"JOIN ({grouped(right, rcols)}) b ON {on}")


# -- comparisons ------------------------------------------------------------------------------------------


def levels(spec: FieldSpec, other_name: str | None = None, *, cjk: bool = False) -> list[tuple[str, Any]]:
    """Non-null levels of the field's comparison, strongest first, as (label, Splink level creator).
    ``other_name``: the other name part (given name ↔ surname), for a level that tolerates swaps;
    ``cjk``: names in Chinese characters occur (a level for the same pinyin written differently)."""
    import splink.comparison_level_library as cll

    f, t = spec.name, spec.type

    def lab(level: Any, text: str) -> tuple[str, Any]:
        return text, level.configure(label_for_charts=text)

    def exact(col: str, text: str = "exact") -> tuple[str, Any]:
        return lab(cll.ExactMatchLevel(col, term_frequency_adjustments=spec.tf), text)

    if t in NAME_TYPES:
        jw = list(spec.thresholds) or [0.92, 0.88, 0.7]
        out = [exact(f)]
        if t == "full_name" or cjk:
            out.append(lab(cll.ExactMatchLevel(f + "__key"),
                           "same pinyin or same words in another order" if t == "full_name" else "same pinyin"))
        if other_name is not None:
            out.append(lab(cll.ColumnsReversedLevel(f + "__key", other_name + "__key"),
                           f"swapped with {other_name}"))
        out += [lab(cll.JaroWinklerLevel(f + "__key", x), f"Jaro-Winkler >= {x}") for x in jw]
        return out
    if t == "date":
        return [
            lab(cll.ExactMatchLevel(f + "__s"), "exact"),
            lab(cll.DamerauLevenshteinLevel(f + "__s", 1), "one digit or swap"),
            lab(cll.AbsoluteDateDifferenceLevel(f, input_is_string=False, metric="month", threshold=1),
                "within a month"),
            lab(cll.AbsoluteDateDifferenceLevel(f, input_is_string=False, metric="year", threshold=1),
                "within a year"),
            lab(cll.AbsoluteDateDifferenceLevel(f, input_is_string=False, metric="year", threshold=10),
                "within 10 years"),
        ]
    if t == "address":
        jw = list(spec.thresholds) or [0.9, 0.7]
        return [exact(f), *(lab(cll.JaroWinklerLevel(f, x), f"Jaro-Winkler >= {x}") for x in jw)]
    if t == "text":
        jw = list(spec.thresholds) or [0.9]
        return [exact(f), *(lab(cll.JaroWinklerLevel(f, x), f"Jaro-Winkler >= {x}") for x in jw)]
    if t == "categorical":
        return [exact(f)]
    if t == "sex":
        return [lab(cll.ExactMatchLevel(f), "exact")]
    if t == "postcode":
        return [exact(f), lab(cll.DamerauLevenshteinLevel(f, 1), "one character or swap")]
    if t == "numeric_id":
        edits = [int(x) for x in spec.thresholds] or [1, 2]
        return [lab(cll.ExactMatchLevel(f), "exact"),
                *(lab(cll.DamerauLevenshteinLevel(f, e), f"<= {e} edits") for e in edits)]
    if t == "region_code":
        return [lab(cll.ExactMatchLevel(f), "same village"), lab(cll.ExactMatchLevel(f + "__t"), "same township"),
                lab(cll.ExactMatchLevel(f + "__c"), "same county")]
    if t == "cn_id":
        return [lab(cll.ExactMatchLevel(f), "exact"),
                lab(cll.DamerauLevenshteinLevel(f + "__txt", 1), "one character or swap")]
    raise ValueError(f"unknown field type {t!r}")


def null_column(spec: FieldSpec) -> str:
    """The column whose NULL on either side makes the comparison's null level."""
    return spec.name + {"date": "__s", "cn_id": "__txt"}.get(spec.type, "")


def comparison(spec: FieldSpec, other_name: str | None = None, *, cjk: bool = False) -> Any:
    """The Splink comparison of one field (levels as :func:`levels`, a null level first, else last)."""
    import splink.comparison_level_library as cll
    from splink import comparison_library as cl

    found = levels(spec, other_name, cjk=cjk)
    null = cll.NullLevel(null_column(spec)).configure(label_for_charts="null")
    creators = [null, *(c for _l, c in found), cll.ElseLevel().configure(label_for_charts="else")]
    return cl.CustomComparison(comparison_levels=creators, output_column_name=spec.name)


def weight(bf: float | None, tf_adj: float | None = None) -> float | None:
    """A Bayes factor (times its term-frequency adjustment) as a match weight in bits.

    >>> weight(8.0), weight(8.0, 0.5), weight(None)
    (3.0, 2.0, None)
    """
    if bf is None or bf <= 0:
        return None
    return math.log2(bf * (tf_adj if tf_adj else 1.0))
