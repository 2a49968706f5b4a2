"""Validation of one sheet, vectorised in DuckDB: every data row is either accepted (converted to the
canonical types) or quarantined with its reasons.

Tables made on the connection (temporary):
- ``<raw>_chk``: per data row ``_row``, trimmed texts ``t_i``, values ``v_i`` and broken rules ``e_i``
  for each mapped field ``i`` (and ``w_i``, a warning, for feed ID numbers kept as NULL);
- ``<raw>_dup``: rows whose key repeats an earlier valid row (``_row``, ``first``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from jingzhun.catalog import Dataset
from jingzhun.ingest.coerce import (
    error_sql,
    id_key_sql,
    id_reason_sql,
    norm_sql,
    parse_sql,
    rule_params,
    sql_type,
    value_sql,
)
from jingzhun.ingest.headers import HeaderMatch
from jingzhun.ingest.readers import RawSheet
from jingzhun.ingest.rules import RULES


def _q(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@dataclass
class Checked:
    """Outcome of validating one sheet (the tables stay on the connection until it is closed)."""

    sheet: RawSheet
    match: HeaderMatch
    chk: str
    dup: str | None
    ok: str  # SQL condition: the row broke no rule
    rows_in: int
    rows_quarantined: int
    warnings: dict[str, int] = field(default_factory=dict)
    rule_counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows_accepted(self) -> int:
        return self.rows_in - self.rows_quarantined


def _id_is_soft(ds: Dataset) -> bool:
    """Feeds keep a record whose ID number is invalid (but not destroyed): linkage still ties it."""
    return ds.kind == "feed"


def check(con: duckdb.DuckDBPyConnection, sheet: RawSheet, match: HeaderMatch) -> Checked:
    """Convert and validate every data row of ``sheet``; count accepted, quarantined and warnings."""
    ds = match.dataset
    fields = [(ds.field(name), col) for name, col in match.columns.items()]
    id_cols = [col for f, col in fields if f.type == "id_number"]
    source = sheet.table
    numeric = sheet.numeric_rows(id_cols)
    flags: dict[int, str] = {}
    if any(len(rows) for rows in numeric.values()):
        parts = []
        for col, rows in numeric.items():
            if len(rows):
                parts.append(
                    pa.table({"col": pa.array([col] * len(rows), pa.int64()), "_row": pa.array(rows)})
                )
        con.register(f"{source}_numarrow", pa.concat_tables(parts))
        con.execute(f"CREATE TEMP TABLE {source}_num AS SELECT * FROM {source}_numarrow")
        con.unregister(f"{source}_numarrow")
        for col in numeric:
            flags[col] = f"(_row IN (SELECT _row FROM {source}_num WHERE col = {col}))"
    texts, norms, parsed, values, errors = [], [], [], [], []
    for i, (f, col) in enumerate(fields):
        texts.append(f"jz_t(c{col}) AS t_{i}")
        norms.append(f"{norm_sql(f, f't_{i}')} AS n_{i}")
        parsed.append(f"{parse_sql(f, f'n_{i}', f't_{i}')} AS x_{i}")
        if f.type == "id_number":
            parsed.append(f"{id_key_sql(f'n_{i}')} AS k_{i}")
            values.append(f"{id_reason_sql(f't_{i}', f'n_{i}', f'x_{i}', f'k_{i}')} AS r_{i}")
            err = error_sql(f, f"t_{i}", "", f"r_{i}", flags.get(col))
            value = f"CASE WHEN r_{i} IS NULL THEN x_{i} END AS v_{i}"
            if _id_is_soft(ds):
                hard = f"CASE WHEN ({err}) IN ('required', 'id_scientific_notation') THEN ({err}) END"
                soft = f"CASE WHEN ({err}) NOT IN ('required', 'id_scientific_notation') THEN ({err}) END"
                errors.append(f"{value}, {hard} AS e_{i}, {soft} AS w_{i}")
            else:
                errors.append(f"{value}, {err} AS e_{i}")
        else:
            values.append(f"{value_sql(f, f'x_{i}')} AS v_{i}")
            errors.append(f"{error_sql(f, f't_{i}', f'v_{i}')} AS e_{i}")
    chk = f"{source}_chk"
    extras = match.extras
    extra_sql = "NULL::VARCHAR"
    if extras:
        pairs = ", ".join(f"{_q(match.labels[c])}, jz_t(c{c})" for c in extras)
        extra_sql = f"CAST(json_object({pairs}) AS VARCHAR)"
    stage = [", ".join(x) or "NULL AS none" for x in (texts, norms, parsed, values, errors)]
    # keep only what storage and the quarantine need: values, rules broken, and the text of ID numbers
    keep = ["_row", "_extra"]
    for i, (f, _col) in enumerate(fields):
        keep += [f"v_{i}", f"e_{i}"]
        if f.type == "id_number":
            keep.append(f"t_{i}")
            if _id_is_soft(ds):
                keep.append(f"w_{i}")
    con.execute(
        f"CREATE TEMP TABLE {chk} AS "
        f"WITH a AS (SELECT _row, {stage[0]}, {extra_sql} AS _extra FROM {source} "
        f"WHERE _row > {match.last_header_row}), "
        f"b AS (SELECT *, {stage[1]} FROM a), c AS (SELECT *, {stage[2]} FROM b), "
        f"d AS (SELECT *, {stage[3]} FROM c), "
        f"e AS (SELECT *, {stage[4]} FROM d) "
        f"SELECT {', '.join(keep) if fields else '*'} FROM e"
    )
    error_cols = [f"e_{i}" for i in range(len(fields))] or ["e_none"]
    ok = f"coalesce({', '.join(error_cols)}) IS NULL" if len(error_cols) > 1 else f"{error_cols[0]} IS NULL"
    rows_in = _one(con, f"SELECT count(*) FROM {chk}")
    dup = _duplicates(con, chk, ds, fields, ok)
    bad = f"NOT ({ok})" + (f" OR _row IN (SELECT _row FROM {dup})" if dup else "")
    rows_q = _one(con, f"SELECT count(*) FROM {chk} WHERE {bad}")
    rule_counts: dict[str, int] = {}
    if fields and rows_q:
        on = ", ".join(f"e_{i}" for i in range(len(fields)))
        for code, n in con.sql(
            f"SELECT code, count(*) FROM (UNPIVOT (SELECT {on} FROM {chk} WHERE NOT ({ok})) "
            f"ON {on} INTO NAME f VALUE code) GROUP BY code"
        ).fetchall():
            rule_counts[code] = rule_counts.get(code, 0) + n
    if dup:
        rule_counts["duplicate"] = _one(con, f"SELECT count(*) FROM {dup}")
    warnings: dict[str, int] = {}
    for i, (f, _col) in enumerate(fields):
        if f.type == "id_number" and _id_is_soft(ds):
            for code, n in con.sql(
                f"SELECT w_{i}, count(*) FROM {chk} WHERE w_{i} IS NOT NULL AND {ok} GROUP BY 1"
            ).fetchall():
                warnings[code] = warnings.get(code, 0) + n
    return Checked(sheet, match, chk, dup, ok, rows_in, rows_q, warnings, rule_counts)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.sql(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _duplicates(con: duckdb.DuckDBPyConnection, chk: str, ds: Dataset, fields: list, ok: str) -> str | None:
    index = {f.name: i for i, (f, _c) in enumerate(fields)}
    if not all(k in index for k in ds.key):
        return None
    keys = ", ".join(f"v_{index[k]}" for k in ds.key)
    repeats = _one(con, f"SELECT count(*) - count(DISTINCT ({keys})) FROM {chk} WHERE {ok}")
    if repeats == 0:
        return None
    dup = f"{chk}_dup"
    con.execute(
        f"CREATE TEMP TABLE {dup} AS SELECT _row, first FROM (SELECT _row, "
        f"min(_row) OVER (PARTITION BY {keys}) AS first FROM {chk} WHERE {ok}) WHERE _row > first"
    )
    return dup


def accepted_sql(checked: Checked, import_id: str, period: str) -> str:
    """SELECT of the accepted rows with the canonical columns and types of the dataset."""
    match = checked.match
    ds = match.dataset
    index = {name: i for i, name in enumerate(match.columns)}
    cols = []
    for f in ds.fields:
        if f.name in index:
            cols.append(f"CAST(v_{index[f.name]} AS {sql_type(f)}) AS {f.name}")
        else:
            cols.append(f"CAST(NULL AS {sql_type(f)}) AS {f.name}")
    if ds.has("id_number") and _id_is_soft(ds):
        raw = f"jz_id_text(t_{index['id_number']})" if "id_number" in index else "NULL"
        cols.append(f"CAST({raw} AS VARCHAR) AS id_number_raw")
    cols += [
        "_extra",
        f"{_q(import_id)} AS _import_id",
        "CAST(_row AS BIGINT) AS _row",
        f"{_q(period)} AS _period",
    ]
    where = checked.ok + (f" AND _row NOT IN (SELECT _row FROM {checked.dup})" if checked.dup else "")
    # the check table is in file order (insertion order is preserved), so no sort is needed
    return f"SELECT {', '.join(cols)} FROM {checked.chk} WHERE {where}"


def _message_case(code: str, messages: dict[str, tuple[str, str]], lang: int) -> str:
    whens = " ".join(f"WHEN {_q(c)} THEN {_q(m[lang])}" for c, m in messages.items())
    return f"CASE {code} {whens} ELSE {code} END"


def quarantine_sql(checked: Checked, file_name: str) -> str:
    """SELECT of the rejected rows: original cells as text under their original headers, then
    ``错误原因`` (Chinese), ``_reasons_en``, ``_reasons`` (JSON list), ``_row``, ``_file``, ``_sheet``."""
    match = checked.match
    ds = match.dataset
    fields = [(ds.field(name), col) for name, col in match.columns.items()]
    zh_parts, en_parts, structs = [], [], []
    for i, (f, col) in enumerate(fields):
        params = rule_params(f, ds)
        messages = {}
        for code, (zh, en) in RULES.items():
            if code == "duplicate":
                continue
            try:
                messages[code] = (zh.format(**params), en.format(**params))
            except (KeyError, IndexError):
                continue
        label = match.labels[col]
        shown = f"jz_mask(jz_t(r.c{col}))" if f.type == "id_number" or f.pii else f"jz_t(r.c{col})"
        shown = f"coalesce({shown}, '')"
        zh_parts.append(
            f"CASE WHEN e_{i} IS NOT NULL THEN {_q(label + '「')} || {shown} || '」：' || "
            f"{_message_case(f'e_{i}', messages, 0)} END"
        )
        en_parts.append(
            f"CASE WHEN e_{i} IS NOT NULL THEN {_q(f.en + ' (' + label + ') ')} || '\"' || {shown} "
            "|| '\": ' || "
            f"{_message_case(f'e_{i}', messages, 1)} END"
        )
        structs.append(
            f"CASE WHEN e_{i} IS NOT NULL THEN {{'field': {_q(f.name)}, 'header': {_q(label)}, "
            f"'value': {shown}, 'rule': e_{i}, 'first_row': NULL::BIGINT}} END"
        )
    if checked.dup:
        key_labels = "、".join(match.labels[match.columns[k]] for k in ds.key)
        key_en = ", ".join(ds.key)
        zh_parts.append(
            f"CASE WHEN d.first IS NOT NULL THEN '与第 ' || d.first || ' 行重复（{key_labels}）' END"
        )
        en_parts.append(
            f"CASE WHEN d.first IS NOT NULL THEN 'duplicate of row ' || d.first || ' ({key_en})' END"
        )
        structs.append(
            f"CASE WHEN d.first IS NOT NULL THEN {{'field': {_q(ds.key[0])}, 'header': {_q(key_labels)}, "
            f"'value': NULL::VARCHAR, 'rule': 'duplicate', 'first_row': d.first}} END"
        )
    originals = []
    seen: dict[str, int] = {}
    for c, label in enumerate(match.labels):
        name = label
        if name in seen or name in ("错误原因", "_row", "_file", "_sheet", "_reasons", "_reasons_en"):
            seen[name] = seen.get(name, 1) + 1
            name = f"{label}_{seen[name]}"
        seen.setdefault(name, 1)
        originals.append(f'r.c{c} AS "{name.replace(chr(34), "")}"')
    dup_join = (
        f"LEFT JOIN {checked.dup} d ON d._row = k._row"
        if checked.dup
        else "LEFT JOIN (SELECT NULL::BIGINT AS _row, NULL::BIGINT AS first) d ON false"
    )
    prefix = "'第 ' || k._row || ' 行：'"
    zh = f"{prefix} || concat_ws('；', {', '.join(zh_parts)})" if zh_parts else prefix
    en = f"'row ' || k._row || ': ' || concat_ws('; ', {', '.join(en_parts)})" if en_parts else "''"
    reasons = f"to_json(list_filter([{', '.join(structs)}], lambda x: x IS NOT NULL))" if structs else "'[]'"
    return (
        f"SELECT {', '.join(originals)}, {zh} AS 错误原因, {en} AS _reasons_en, "
        f"CAST({reasons} AS VARCHAR) AS _reasons, CAST(k._row AS BIGINT) AS _row, {_q(file_name)} AS _file, "
        f"{_q(checked.sheet.sheet or '')} AS _sheet "
        f"FROM {checked.chk} k JOIN {checked.sheet.table} r ON r._row = k._row {dup_join} "
        f"WHERE NOT ({checked.ok}) OR d.first IS NOT NULL ORDER BY k._row"
    )
