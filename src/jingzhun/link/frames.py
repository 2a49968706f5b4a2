"""Prepared frames: both sides of a linkage projected onto the same normalised columns, in DuckDB SQL.

Columns (see :data:`jingzhun.link.config.FRAME_COLUMNS`): ``uid``; ``id_number`` (18 characters,
15-digit numbers upgraded, full-width and lower-case x fixed; or an HMAC digest in hashed mode);
``id_text`` (the normalised raw text, for fuzzy comparison of mistyped numbers; NULL in hashed mode);
``name_norm``, ``name_py``, ``surname_py``, ``given_py``; ``sex``; ``birth_date``/``birth_str``/
``birth_year`` (taken from the ID number when missing); ``region_code`` and its ``county``/``township``/
``village`` prefixes; ``phone`` (digits, last 11). The left frame also keeps ``household_id``; the right
frame keeps ``fingerprint`` (sha256 of the record's identifying fields, for reusing review decisions).
"""

from __future__ import annotations

from typing import Any

from jingzhun.ids.sql import install_macros as install_id_macros
from jingzhun.link.config import Side
from jingzhun.link.normalise import add_pinyin, install_name_macros

DATE_FORMATS = "['%Y%m%d', '%Y/%m/%d', '%Y.%m.%d', '%Y年%m月%d日', '%Y-%m-%d %H:%M:%S', '%Y/%m/%d %H:%M:%S']"


def quote(identifier: str) -> str:
    """Quote an SQL identifier.

    >>> quote('证件号码'), quote('a"b')
    ('"证件号码"', '"a""b"')
    """
    return '"' + identifier.replace('"', '""') + '"'


def columns_of(con: Any, relation: str) -> list[str]:
    """Column names of a relation (table, view or registered Arrow table)."""
    return list(con.sql(f"SELECT * FROM {relation} LIMIT 0").columns)


def install(con: Any) -> None:
    """Install every macro the linkage SQL needs (idempotent)."""
    install_id_macros(con)
    install_name_macros(con)
    con.execute("""
        CREATE OR REPLACE MACRO jz_sex_norm(s) AS CASE
            WHEN lower(trim(CAST(s AS VARCHAR))) IN ('男', 'm', 'male', '1', '男性') THEN '男'
            WHEN lower(trim(CAST(s AS VARCHAR))) IN ('女', 'f', 'female', '2', '女性') THEN '女' END
    """)
    well_formed = "regexp_full_match(CAST(s AS VARCHAR), '[0-9]{17}[0-9X]')"
    con.execute(
        f"CREATE OR REPLACE MACRO jz_link_id(s) AS CASE WHEN {well_formed} THEN CAST(s AS VARCHAR) "
        "ELSE jz_id_upgrade(s) END"
    )
    con.execute(
        f"CREATE OR REPLACE MACRO jz_link_idtext(s) AS CASE WHEN {well_formed} THEN CAST(s AS VARCHAR) "
        "ELSE nullif(jz_id_normalise(s), '') END"
    )
    con.execute(f"""
        CREATE OR REPLACE MACRO jz_date_norm(s) AS coalesce(
            TRY_CAST(s AS DATE), CAST(try_strptime(trim(CAST(s AS VARCHAR)), {DATE_FORMATS}) AS DATE))
    """)


def _col(side: Side, role: str, available: set[str]) -> str | None:
    name = side.columns.get(role)
    return quote(name) if name and name in available else None


def missing_roles(con: Any, relation: str, side: Side) -> list[str]:
    """Roles configured for ``side`` whose column is absent from ``relation``."""
    available = set(columns_of(con, relation))
    return [role for role, col in side.columns.items() if col not in available]


def _base_sql(con: Any, relation: str, side: Side, *, is_left: bool, hashed: bool) -> str:
    available = set(columns_of(con, relation))
    if side.id not in available:
        from jingzhun.errors import ConfigError, Location

        raise ConfigError(
            f"id column {side.id!r} not found in {relation}; columns: {', '.join(sorted(available))}",
            Location(field=side.id),
        )
    if _col(side, "name", available) is None:
        from jingzhun.errors import ConfigError, Location

        raise ConfigError(
            f"name column {side.columns.get('name')!r} not found in {relation}",
            Location(field=side.columns.get("name")),
        )
    id_col, raw_col = _col(side, "id_number", available), _col(side, "id_number_raw", available)
    id_any = f"coalesce({id_col}, {raw_col})" if id_col and raw_col else (id_col or raw_col or "NULL")
    if hashed:
        id_number = f"nullif(lower(trim(CAST({id_col or 'NULL'} AS VARCHAR))), '')"
        id_text = "CAST(NULL AS VARCHAR)"
        id_valid = f"{id_number} IS NOT NULL"
    elif is_left:
        id_number = f"jz_link_id({id_any})"
        id_text = f"jz_link_idtext({id_any})"
        id_valid = f"{id_number} IS NOT NULL"
    else:
        # a valid number is compared exactly; only invalid (mistyped) text is compared fuzzily.
        # Validity is computed from the upgraded number as a column (see valid_sql), once per row.
        id_number = "__id"
        id_valid = valid_sql("__id")
        id_text = f"CASE WHEN NOT ({id_valid}) THEN jz_link_idtext({id_any}) END"

    def role(name: str, default: str = "NULL") -> str:
        return _col(side, name, available) or default

    hh = ""
    if is_left:
        hh_col = side.household_id if side.household_id in available else None
        hh = (
            f", CAST({quote(hh_col)} AS VARCHAR) AS household_id"
            if hh_col
            else ", CAST(NULL AS VARCHAR) AS household_id"
        )
    source = relation
    if id_number == "__id":
        source = f"(SELECT *, jz_link_id({id_any}) AS __id FROM {relation})"
    return f"""
        SELECT CAST({quote(side.id)} AS VARCHAR) AS uid{hh},
               {id_number} AS id_number, {id_text} AS id_text, {id_valid} AS id_valid,
               jz_name_norm({role("name")}) AS name_norm,
               jz_sex_norm({role("sex")}) AS sex_raw,
               jz_date_norm({role("birth_date")}) AS birth_raw,
               jz_digits({role("region_code")}) AS region_code,
               right(jz_digits({role("phone")}), 11) AS phone
        FROM {source}
    """


def valid_sql(u: str) -> str:
    """SQL: is the upgraded 18-character number ``u`` (a column) a valid GB 11643 number? Same rules as
    :func:`jingzhun.ids.check`; the one implementation is :func:`jingzhun.ids.sql.valid_sql`."""
    from jingzhun.ids.sql import valid_sql as id_valid_sql

    return id_valid_sql(u)


def prepare(con: Any, relation: str, side: Side, target: str, *, is_left: bool, hashed: bool = False) -> None:
    """Create temp table ``target`` holding the prepared frame of ``relation``.

    ``hashed`` means the relation's ID column already holds HMAC digests (a hashed feed).
    """
    base = _base_sql(con, relation, side, is_left=is_left, hashed=hashed)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target}__base AS {base}")
    add_pinyin(con, f"SELECT name_norm FROM {target}__base", f"{target}__py")
    from_id_date = (
        "CASE WHEN length(b.id_number) = 18 AND NOT regexp_matches(b.id_number, '[a-f]') THEN "
        "CAST(try_strptime(substr(b.id_number, 7, 8), '%Y%m%d') AS DATE) END"
    )
    from_id_sex = (
        "CASE WHEN length(b.id_number) = 18 AND regexp_full_match(substr(b.id_number, 17, 1), '[0-9]') "
        "AND NOT regexp_matches(b.id_number, '[a-f]') THEN "
        "CASE WHEN CAST(substr(b.id_number, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END END"
    )
    extra_left = "household_id," if is_left else ""
    fingerprint = (
        ""
        if is_left
        else (
            ", sha256(concat_ws('|', coalesce(b.name_norm, ''), coalesce(b.id_text, b.id_number, ''), "
            "coalesce(strftime(coalesce(b.birth_raw, " + from_id_date + "), '%Y%m%d'), ''), "
            "coalesce(coalesce(b.sex_raw, "
            + from_id_sex
            + "), ''), coalesce(b.region_code, ''))) AS fingerprint"
        )
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT uid, {extra_left} id_number, id_text, id_valid, name_norm, name_py, surname_py, given_py, sex,
               birth_date, strftime(birth_date, '%Y%m%d') AS birth_str, year(birth_date) AS birth_year,
               region_code,
               CASE WHEN length(region_code) >= 6 THEN substr(region_code, 1, 6) END AS county,
               CASE WHEN length(region_code) >= 9 THEN substr(region_code, 1, 9) END AS township,
               CASE WHEN length(region_code) >= 12 THEN substr(region_code, 1, 12) END AS village,
               phone {("" if is_left else ", fingerprint")}
        FROM (
            SELECT b.*, p.name_py, p.surname_py, p.given_py,
                   coalesce(b.sex_raw, {from_id_sex}) AS sex,
                   coalesce(b.birth_raw, {from_id_date}) AS birth_date
                   {fingerprint}
            FROM {target}__base b LEFT JOIN {target}__py p ON p.name_norm = b.name_norm
        )
    """)
    con.execute(f"DROP TABLE IF EXISTS {target}__base")
    con.execute(f"DROP TABLE IF EXISTS {target}__py")


def hash_ids(con: Any, table: str, key: bytes) -> None:
    """Replace ``id_number`` of a key table (:func:`prepare_keys`) with its HMAC-SHA256 digest (the county
    side of a keyed-hash linkage)."""
    from jingzhun.link.hashing import hmac_sql

    expr, params = hmac_sql("t.id_number", key)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT t.* REPLACE ({expr} AS id_number)
        FROM {table} t
    """,
        params,
    )


def prepare_keys(con: Any, relation: str, side: Side, target: str, *, where: str | None = None) -> None:
    """Create temp table ``target(uid, household_id, id_number)``: the registry side of exact linkage,
    without the name and pinyin work the probabilistic step needs."""
    available = set(columns_of(con, relation))
    if side.id not in available:
        from jingzhun.errors import ConfigError, Location

        raise ConfigError(f"id column {side.id!r} not found in {relation}", Location(field=side.id))
    id_col = _col(side, "id_number", available) or "NULL"
    hh = quote(side.household_id) if side.household_id and side.household_id in available else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT CAST({quote(side.id)} AS VARCHAR) AS uid, CAST({hh} AS VARCHAR) AS household_id,
               jz_link_id({id_col}) AS id_number
        FROM {relation} {f"WHERE {where}" if where else ""}
    """)
