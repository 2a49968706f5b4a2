"""Vectorised ID-number checks as DuckDB SQL macros: whole columns validated without Python per row.

After :func:`install_macros`, a connection has

- ``jz_id_normalise(s)``: spaces and quotes removed, full-width digits to ASCII, ``x`` to ``X``;
- ``jz_id_upgrade(s)``: the 18-character form (15-digit numbers upgraded), ``NULL`` if not well formed;
- ``jz_id_reason(s)``: ``NULL`` for a valid number, else a reason code of :data:`jingzhun.ids.REASONS`;
- ``jz_id_valid(s)``: true for valid numbers.

They give the same answers as :func:`jingzhun.ids.check` (a test compares both on random input).

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

_PROVINCES = ", ".join(f"'{p}'" for p in sorted(PROVINCE_PREFIXES))


def _check_char_sql(first17: str) -> str:
    terms = " + ".join(
        f"CAST(substr({first17}, {i + 1}, 1) AS INTEGER) * {w}" for i, w in enumerate(WEIGHTS)
    )
    return f"substr('10X98765432', (({terms}) % 11) + 1, 1)"


def macro_sql() -> list[str]:
    """The CREATE MACRO statements (DuckDB dialect)."""
    norm = (
        "CREATE OR REPLACE MACRO jz_id_normalise(s) AS "
        "upper(regexp_replace(translate(CAST(s AS VARCHAR), '０１２３４５６７８９ｘＸ', '0123456789XX'), "
        "'[\\s\\x{3000}\\x{200b}\\x{feff}''\"‘’“”]+', '', 'g'))"
    )
    up17 = "(substr(n, 1, 6) || '19' || substr(n, 7, 9))"
    upgrade = (
        "CREATE OR REPLACE MACRO jz_id_upgrade_n(n) AS CASE "
        f"WHEN regexp_full_match(n, '\\d{{15}}') THEN {up17} || {_check_char_sql(up17)} "
        "WHEN regexp_full_match(n, '\\d{17}[\\dX]') THEN n END"
    )
    upgrade_pub = "CREATE OR REPLACE MACRO jz_id_upgrade(s) AS jz_id_upgrade_n(jz_id_normalise(s))"
    # reason, given the normalised text n and its 18-character form u
    reason_nu = (
        "CREATE OR REPLACE MACRO jz_id_reason_nu(raw, n, u) AS CASE "
        "WHEN raw IS NULL OR n = '' THEN 'empty' "
        "WHEN regexp_full_match(n, '\\d+(\\.\\d+)?[eE][+-]?\\d+|\\d+\\.\\d+') THEN 'scientific_notation' "
        "WHEN length(n) = 15 AND NOT regexp_full_match(n, '\\d{15}') THEN 'characters' "
        "WHEN length(n) NOT IN (15, 18) AND regexp_full_match(n, '[\\dX]+') THEN 'length' "
        "WHEN u IS NULL THEN 'characters' "
        f"WHEN substr(u, 1, 2) NOT IN ({_PROVINCES}) OR substr(u, 3, 4) = '0000' THEN 'area_code' "
        "WHEN try_strptime(substr(u, 7, 8), '%Y%m%d') IS NULL "
        "OR CAST(substr(u, 7, 4) AS INTEGER) < 1850 "
        "OR try_strptime(substr(u, 7, 8), '%Y%m%d') > current_date THEN 'birth_date' "
        f"WHEN length(n) = 18 AND {_check_char_sql('u')} <> substr(u, 18, 1) THEN 'check_digit' "
        "END"
    )
    reason = (
        "CREATE OR REPLACE MACRO jz_id_reason(s) AS "
        "jz_id_reason_nu(s, jz_id_normalise(s), jz_id_upgrade(s))"
    )
    valid = "CREATE OR REPLACE MACRO jz_id_valid(s) AS jz_id_reason(s) IS NULL"
    return [norm, upgrade, upgrade_pub, reason_nu, reason, valid]


def install_macros(con: Any) -> None:
    """Create the ``jz_id_*`` macros on a DuckDB connection (idempotent)."""
    for statement in macro_sql():
        con.execute(statement)
