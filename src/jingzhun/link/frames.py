"""Prepared frames: both sides of a linkage projected onto the same normalised columns, as engine-neutral
SQL run through an :class:`~jingzhun.engines.base.Engine` (see :mod:`jingzhun.link.sql`).

Stored columns (:data:`FEED_COLUMNS`, :data:`REGISTRY_COLUMNS`): ``uid``; ``id_number`` (18 characters,
15-digit numbers upgraded, full-width and lower-case x fixed; or an HMAC digest in hashed mode);
``id_text`` (the normalised raw text, for fuzzy comparison of mistyped numbers; NULL in hashed mode);
``name_norm``; ``sex``; ``birth_date`` (taken from the ID number when missing); ``region_code``;
``phone`` (digits, last 11). The registry frame also keeps ``household_id`` and the pinyin columns
``name_py``, ``surname_py``, ``given_py``; the feed frame keeps ``fingerprint`` (sha256 of the record's
identifying fields, for reusing review decisions) and ``pkey`` (md5 of every field probabilistic linkage
reads: records with the same ``pkey`` get the same candidates). Columns derived from these
(``birth_str``, ``birth_year``, ``county``, ``township``, ``village``) are computed where used
(:func:`derived`), not stored.
"""

from __future__ import annotations

from typing import Any

from jingzhun.link import sql as q
from jingzhun.link.config import Side
from jingzhun.link.sql import columns_of, quote, tree

__all__ = [
    "FEED_COLUMNS",
    "REGISTRY_COLUMNS",
    "add_pinyin",
    "columns_of",
    "derived",
    "feed_keys_sql",
    "prepare_feed",
    "prepare_keys",
    "prepare_registry",
    "quote",
    "valid_sql",
]

FEED_COLUMNS = ("uid", "id_number", "id_text", "id_valid", "name_norm", "sex", "birth_date", "region_code",
                "phone", "fingerprint", "pkey")
REGISTRY_COLUMNS = ("uid", "household_id", "id_number", "id_text", "name_norm", "sex", "birth_date",
                    "region_code", "phone")
#: Characters of a name converted to pinyin one by one (by position); the rest is kept, lower-cased.
PINYIN_POSITIONS = 12


def _col(side: Side, role: str, available: set[str]) -> str | None:
    name = side.columns.get(role)
    return quote(name) if name and name in available else None


def missing_roles(engine: Any, relation: str, side: Side) -> list[str]:
    """Roles configured for ``side`` whose column is absent from ``relation``."""
    available = set(columns_of(engine, relation))
    return [role for role, col in side.columns.items() if col not in available]


def _check(available: set[str], relation: str, side: Side, *, name: bool = True) -> None:
    from jingzhun.errors import ConfigError, Location

    if side.id not in available:
        raise ConfigError(
            f"id column {side.id!r} not found in {relation}; columns: {', '.join(sorted(available))}",
            Location(field=side.id),
        )
    if name and _col(side, "name", available) is None:
        raise ConfigError(
            f"name column {side.columns.get('name')!r} not found in {relation}",
            Location(field=side.columns.get("name")),
        )


def check_relation(engine: Any, relation: str, side: Side) -> None:
    """Raise a :class:`~jingzhun.errors.ConfigError` naming ``relation`` when its id or name column is
    missing."""
    _check(set(columns_of(engine, relation)), relation, side)


def _id_any(side: Side, available: set[str]) -> str:
    id_col, raw_col = _col(side, "id_number", available), _col(side, "id_number_raw", available)
    return f"coalesce({id_col}, {raw_col})" if id_col and raw_col else (id_col or raw_col or "NULL")


def _only(side: Side, only: str | None) -> str:
    """WHERE clause keeping the rows whose id is a ``record_id`` of relation ``only``."""
    if not only:
        return ""
    return (f"WHERE EXISTS (SELECT 1 FROM {only} x "
            f"WHERE x.record_id = CAST(src.{quote(side.id)} AS VARCHAR))")


def _raw_sql(relation: str, side: Side, available: set[str], *, household: bool, where: str) -> str:
    """Innermost layer: uid, the ID text (number or raw) and whether it is already a well-formed
    18-character number (one pattern test per row), and the other roles normalised."""
    def role(name: str) -> str:
        return _col(side, name, available) or "NULL"

    hh = ""
    if household:
        hh_col = side.household_id if side.household_id in available else None
        hh = f"CAST({quote(hh_col) if hh_col else 'NULL'} AS VARCHAR) AS household_id, "
    return f"""
        SELECT CAST({quote(side.id)} AS VARCHAR) AS uid, {hh}CAST({_id_any(side, available)} AS VARCHAR) AS id_any,
               {q.name_norm(role("name"))} AS name_norm, {q.sex_norm(role("sex"))} AS sex_raw,
               {q.date_norm(role("birth_date"))} AS birth_raw, {q.digits(role("region_code"))} AS region_code,
               right({q.digits(role("phone"))}, 11) AS phone
        FROM {relation} src {where}
    """


def _ids_sql(inner: str, *, hashed: bool, columns: str) -> str:
    """Layers over ``inner`` (which has ``id_any``) adding ``n`` (normalised ID text) and ``u`` (its
    18-character form, or the digest in hashed mode); ``columns`` are the other columns kept.

    A value that is already a well-formed 18-character number (nearly every stored one) takes one pattern
    test; normalisation and the 15 → 18 upgrade run only for the others.
    """
    if hashed:
        return (f"SELECT {columns}, CAST(NULL AS VARCHAR) AS n, nullif(lower(trim(id_any)), '') AS u "
                f"FROM ({inner})")
    return f"""
        SELECT {columns}, n, CASE WHEN wf THEN n ELSE {q.id_upgrade_normalised("n")} END AS u
        FROM (SELECT {columns}, wf, CASE WHEN wf THEN id_any ELSE {q.id_normalise("id_any")} END AS n
              FROM (SELECT *, regexp_matches(id_any, '{q.WELL_FORMED}') AS wf FROM ({inner})))
    """


def version_sql(engine: Any, relation: str, side: Side, version: str | bool | None) -> str:
    """SQL (over ``relation``) identifying what a record says, for reusing stored outcomes: a column name
    (the monthly run passes ``_import_id``: an imported file never changes), True for an md5 of the
    record's linkage fields, or None (NULL: no reuse)."""
    available = set(columns_of(engine, relation))
    if isinstance(version, str):
        if version not in available:
            from jingzhun.errors import ConfigError, Location

            raise ConfigError(f"version column {version!r} not found in {relation}", Location(field=version))
        return f"CAST({quote(version)} AS VARCHAR)"
    if version:
        cols = [_col(side, role, available) for role in sorted(side.columns)]
        fields = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '\u2205')" for c in cols if c)
        return f"md5(concat_ws('|', {fields}))"
    return "CAST(NULL AS VARCHAR)"


def feed_versions_sql(engine: Any, relation: str, side: Side, version: str | bool | None) -> str:
    """SELECT of (uid, version) for every record (no ID work)."""
    available = set(columns_of(engine, relation))
    _check(available, relation, side)
    return (f"SELECT CAST({quote(side.id)} AS VARCHAR) AS uid, "
            f"{version_sql(engine, relation, side, version)} AS version FROM {relation}")


def feed_keys_sql(engine: Any, relation: str, side: Side, *, hashed: bool = False,
                  version: str | bool | None = None, skip: str | None = None) -> str:
    """SELECT of (uid, id_number, version) for every record, or every record whose id is not a
    ``record_id`` of relation ``skip`` (outcomes stored earlier): the feed side of exact linkage, nothing
    else computed (the other columns are prepared only for records that need them); ``version`` as in
    :func:`version_sql`.
    """
    available = set(columns_of(engine, relation))
    _check(available, relation, side)
    where = (f"WHERE NOT EXISTS (SELECT 1 FROM {skip} x WHERE x.record_id = CAST(src.{quote(side.id)} AS VARCHAR))"
             if skip else "")
    inner = (f"SELECT CAST({quote(side.id)} AS VARCHAR) AS uid, "
             f"{version_sql(engine, relation, side, version)} AS version, "
             f"CAST({_id_any(side, available)} AS VARCHAR) AS id_any FROM {relation} src {where}")
    return f"SELECT uid, u AS id_number, version FROM ({_ids_sql(inner, hashed=hashed, columns='uid, version')})"


def prepare_feed(
    engine: Any, relation: str, side: Side, target: str, *, hashed: bool = False, only: str | None = None
) -> None:
    """Materialize ``target`` (:data:`FEED_COLUMNS`): the feed side, every record, or only those whose id
    is a ``record_id`` of relation ``only`` (records linked exactly to one person need nothing more).

    A valid number is compared exactly; only invalid (mistyped) text is kept in ``id_text`` for fuzzy
    comparison. ``hashed`` means the relation's ID column already holds HMAC digests.
    """
    available = set(columns_of(engine, relation))
    _check(available, relation, side)
    kept = "uid, name_norm, sex_raw, birth_raw, region_code, phone"
    ids = _ids_sql(_raw_sql(relation, side, available, household=False, where=_only(side, only)),
                   hashed=hashed, columns=kept)
    valid = "u IS NOT NULL" if hashed else valid_sql("u")
    fields = (
        "coalesce(name_norm, ''), coalesce(id_text, id_number, ''), coalesce("
        + q.yyyymmdd("birth_date") + ", ''), coalesce(sex, ''), coalesce(region_code, '')"
    )
    profile = (
        "coalesce(name_norm, ''), coalesce(id_text, ''), coalesce(" + q.yyyymmdd("birth_date")
        + ", ''), coalesce(sex, ''), coalesce(region_code, ''), coalesce(phone, '')"
    )
    engine.materialize(target, tree(f"""
        SELECT uid, id_number, id_text, id_valid, name_norm, sex, birth_date, region_code, phone,
               sha256(concat_ws('|', {fields})) AS fingerprint,
               md5(concat_ws('|', {profile})) AS pkey
        FROM (
            SELECT uid, u AS id_number, CASE WHEN NOT id_valid THEN nullif(n, '') END AS id_text, id_valid,
                   name_norm, coalesce(sex_raw, {q.sex_from_id("u")}) AS sex,
                   coalesce(birth_raw, {q.birth_from_id("u")}) AS birth_date, region_code, phone
            FROM (SELECT *, {valid} AS id_valid FROM ({ids}))
        )
    """))


def prepare_keys(engine: Any, relation: str, side: Side, target: str) -> None:
    """Materialize ``target(uid, household_id, id_number)``: the registry side of exact linkage, without
    the name and pinyin work the probabilistic step needs."""
    available = set(columns_of(engine, relation))
    _check(available, relation, side, name=False)
    id_col = _col(side, "id_number", available) or "NULL"
    hh = quote(side.household_id) if side.household_id and side.household_id in available else "NULL"
    inner = (f"SELECT CAST({quote(side.id)} AS VARCHAR) AS uid, CAST({hh} AS VARCHAR) AS household_id, "
             f"CAST({id_col} AS VARCHAR) AS id_any FROM {relation}")
    engine.materialize(target, tree(
        f"SELECT uid, household_id, u AS id_number "
        f"FROM ({_ids_sql(inner, hashed=False, columns='uid, household_id')})"
    ))


def prepare_registry(
    engine: Any, relation: str, side: Side, target: str, pinyin: str | None, *, hashed: bool = False,
    where: str | None = None,
) -> None:
    """Materialize ``target`` (:data:`REGISTRY_COLUMNS` + pinyin): the registry side of probabilistic
    linkage and of the review queue. ``pinyin`` is a registered (ch, py) table (:func:`add_pinyin`), or
    None for a frame without pinyin (the review queue needs none); ``where`` restricts the rows (a
    condition on the relation's own columns). In hashed mode ``id_text`` is NULL (digests are compared
    exactly or not at all)."""
    available = set(columns_of(engine, relation))
    _check(available, relation, side)
    raw = _raw_sql(relation, side, available, household=True, where=f"WHERE {where}" if where else "")
    ids = _ids_sql(raw, hashed=False,
                   columns="uid, household_id, name_norm, sex_raw, birth_raw, region_code, phone")
    id_text = "CAST(NULL AS VARCHAR)" if hashed else "nullif(n, '')"
    base_sql = f"""
        SELECT uid, household_id, u AS id_number, {id_text} AS id_text, name_norm,
               coalesce(sex_raw, {q.sex_from_id("u")}) AS sex,
               coalesce(birth_raw, {q.birth_from_id("u")}) AS birth_date, region_code, phone
        FROM ({ids})
    """
    if pinyin is None:
        engine.materialize(target, tree(base_sql))
        return
    name = _col(side, "name", available)
    raw_longest = int(q.scalar(engine, f"SELECT max(length(CAST({name} AS VARCHAR))) FROM {relation}") or 1)
    if raw_longest <= 4:
        # no name is longer than four characters: one pass, no intermediate copy
        engine.materialize(target, tree(_pinyin_select(f"({base_sql})", pinyin, raw_longest, "TRUE",
                                                       tail=False)))
        return
    base = f"{target}__base"
    engine.materialize(base, tree(base_sql))
    add_pinyin(engine, base, target, pinyin)
    engine.drop(base)


def _pinyin_select(frame: str, pinyin: str, positions: int, where: str, *, tail: bool) -> str:
    def char(i: int) -> str:
        return f"coalesce(p{i}.py, lower(substr(f.name_norm, {i}, 1)))"

    given = [char(i) for i in range(2, positions + 1)]
    if tail:
        given.append(f"lower(substr(f.name_norm, {positions + 1}))")
    given_sql = " || ".join(given) if given else "''"
    joins = " ".join(
        f"LEFT JOIN {pinyin} p{i} ON p{i}.ch = substr(f.name_norm, {i}, 1)" for i in range(1, positions + 1)
    )
    return f"""
        SELECT *, surname_py || given_py AS name_py
        FROM (SELECT f.*, CASE WHEN f.name_norm IS NOT NULL THEN {char(1)} END AS surname_py,
                     CASE WHEN f.name_norm IS NOT NULL THEN {given_sql} END AS given_py
              FROM {frame} f {joins} WHERE {where})
    """


def add_pinyin(engine: Any, frame: str, target: str, pinyin: str) -> None:
    """Materialize ``target``: ``frame`` with ``name_py``, ``surname_py``, ``given_py`` of ``name_norm``.

    Each character position is joined to the (ch, py) table ``pinyin``
    (:func:`jingzhun.link.normalise.pinyin_table`, ~42,000 rows, cache-resident): four joins for names of
    up to four characters (nearly all Han names), up to :data:`PINYIN_POSITIONS` for the few longer ones.
    Characters without a reading are kept, lower-cased; characters after :data:`PINYIN_POSITIONS` are
    kept as they are.
    """
    longest = int(q.scalar(engine, f"SELECT max(length(name_norm)) FROM {frame}") or 1)
    short = min(longest, 4)
    parts = [_pinyin_select(frame, pinyin, short, "f.name_norm IS NULL OR length(f.name_norm) <= 4",
                            tail=False)]
    if longest > 4:
        positions = min(longest, PINYIN_POSITIONS)
        parts.append(_pinyin_select(frame, pinyin, positions, "length(f.name_norm) > 4",
                                    tail=longest > PINYIN_POSITIONS))
    engine.materialize(target, tree(" UNION ALL ".join(parts)))


def column_sql(column: str, alias: str = "") -> str:
    """SQL for any frame column (:data:`jingzhun.link.config.FRAME_COLUMNS`) from a frame's stored
    ones: the stored column itself, or the expression of a derived one.

    >>> column_sql("township", "l")
    'CASE WHEN length(l.region_code) >= 9 THEN substr(l.region_code, 1, 9) END'
    """
    a = f"{alias}." if alias else ""
    region = {"county": 6, "township": 9, "village": 12}
    if column in region:
        n = region[column]
        return f"CASE WHEN length({a}region_code) >= {n} THEN substr({a}region_code, 1, {n}) END"
    if column == "birth_str":
        return q.yyyymmdd(f"{a}birth_date")
    if column == "birth_year":
        return f"year({a}birth_date)"
    return f"{a}{column}"


DERIVED = ("birth_str", "birth_year", "county", "township", "village")


def derived(alias: str = "") -> str:
    """SQL for the columns derived from a frame's stored ones (``alias.`` prefixed when given)."""
    return ", ".join(f"{column_sql(c, alias)} AS {c}" for c in DERIVED)


def valid_sql(u: str) -> str:
    """SQL: is the upgraded 18-character number ``u`` (a column) a valid GB 11643 number? Same rules as
    :func:`jingzhun.ids.check`; the one implementation is :func:`jingzhun.ids.sql.valid_sql`."""
    from jingzhun.ids.sql import valid_sql as id_valid_sql

    return id_valid_sql(u)


