"""Validation of one sheet, vectorised in DuckDB: every data row is either accepted (converted to the
canonical types) or quarantined with its reasons.

One pass over the sheet's cells (for CSV straight from DuckDB's parallel reader) makes the check table,
then one aggregate pass counts, one GROUP BY finds duplicate keys, and the writes read the check table.

Tables and views made on the connection (temporary):

- ``<raw>_chk``: per data row ``_row``, and for each mapped field ``i`` its value ``v_i`` and the number
  of the rule it broke ``e_i`` (:data:`jingzhun.ingest.coerce.CODES`; ``w_i``, a warning, for feed ID
  numbers kept as NULL; ``d_i``, the ID number as sent where it differs from ``v_i``), ``_ok`` (no rule
  broken), ``_extra`` (JSON of the extra columns) and, for CSV, ``_raw`` (the cells of a rejected row);
- ``<raw>_dup``: rows whose key repeats an earlier valid row (``_row``, ``first``);
- ``<raw>_dupraw`` (CSV only): the cells of those rows, read again from the file;
- ``<raw>_chk_rej``: the rejected rows of the check table (duplicates included), for the quarantine.

Each field's value goes through stages (projections), cheapest first: trimmed text, the fast value of the
common clean spellings (:func:`jingzhun.ingest.coerce.fast_sql`), and only for the cells without one the
reference conversion (normalise, parse, value). ``check(..., fast=False)`` sends every cell through the
reference conversion; the tests compare both.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from jingzhun.catalog import Dataset, Field
from jingzhun.ids.sql import excel_rounded_sql
from jingzhun.ids.sql import stages as id_stages
from jingzhun.ingest.coerce import (
    CODES,
    code,
    code_name_sql,
    error_sql,
    fast_helpers,
    fast_sql,
    id_text_sql,
    norm_sql,
    parse_sql,
    range_error_sql,
    rule_params,
    sql_type,
    trim_sql,
    value_sql,
)
from jingzhun.ingest.headers import HeaderMatch
from jingzhun.ingest.readers import RawSheet
from jingzhun.ingest.rules import RULES
from jingzhun.sqltext import literal


@dataclass
class Checked:
    """Outcome of validating one sheet (the tables stay on the connection until it is closed)."""

    sheet: RawSheet
    match: HeaderMatch
    chk: str
    dup: str | None
    rows_in: int
    rows_quarantined: int
    warnings: dict[str, int] = field(default_factory=dict)
    rule_counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows_accepted(self) -> int:
        return self.rows_in - self.rows_quarantined


def _id_is_soft(ds: Dataset) -> bool:
    """Feeds keep a record whose ID number is invalid (but not destroyed): linkage still ties it."""
    return ds.kind == "feed"


_HARD_ID = ("required", "id_scientific_notation", "id_excel_rounded")


class _Stages:
    """Projection stages: ``add(level, "expr AS name")``; each level may use the columns of lower ones."""

    def __init__(self) -> None:
        self.levels: dict[int, list[str]] = defaultdict(list)

    def add(self, level: int, *exprs: str) -> None:
        self.levels[level].extend(exprs)

    def sql(self, source: str, keep: list[str]) -> str:
        query = source
        for level in sorted(self.levels):
            query = f"(SELECT *, {', '.join(self.levels[level])} FROM {query})"
        return f"SELECT {', '.join(keep)} FROM {query}"


def _field_stages(st: _Stages, i: int, f: Field, col: int, soft_id: bool, fast: bool) -> list[str]:
    """Add the stages of field ``i`` (raw cell ``c{col}``); returns the columns the check table keeps.

    Levels: 0 helpers on the raw cell, 1 fast value ``f_i``, 2 trimmed text ``t_i`` (only where there
    is no fast value), 3-5 the reference conversion (``n``, ``x``, ``v``), 3-8 the ID-number stages,
    10-11 rules broken; see :func:`check` for the row-level columns above them."""
    c, t, v, e = f"c{col}", f"t_{i}", f"v_{i}", f"e_{i}"
    if f.type == "id_number":
        # a clean 18-character number needs neither trimming nor normalising
        q = f"q_{i}" if fast else "false"
        if fast:
            st.add(0, f"regexp_full_match({c}, '[0-9]{{17}}[0-9X]') AS {q}")
        st.add(2, f"CASE WHEN {q} THEN {c} ELSE {trim_sql(c)} END AS {t}")
        st.add(3, f"CASE WHEN {q} THEN {c} ELSE {id_text_sql(t)} END AS s_{i}")
        for level, exprs in enumerate(id_stages(f"s_{i}", f"i{i}", q if fast else None), start=4):
            st.add(level, *exprs)
        # Excel's rounding (15 digits, then 000) is refused even where the check digit happens to pass
        rounded = excel_rounded_sql(f"i{i}_g", f"i{i}_k", f"i{i}_c")
        st.add(9, f"CASE WHEN {rounded} THEN 'excel_rounded' ELSE i{i}_r END AS i{i}_rx")
        r = f"i{i}_rx"
        err = error_sql(f, t, "", r)
        st.add(10, f"CASE WHEN {r} IS NULL THEN i{i}_u END AS {v}", f"{err} AS {e}_all")
        keep = [v, e]
        if soft_id:
            hard = " OR ".join(f"{e}_all = {n}" for n in _code_list(_HARD_ID))
            st.add(11, f"CASE WHEN {hard} THEN {e}_all END AS {e}")
            st.add(11, f"CASE WHEN NOT ({hard}) THEN {e}_all END AS w_{i}")
            # the number as sent, kept only where it differs from the stored value (most do not)
            st.add(11, f"CASE WHEN s_{i} IS DISTINCT FROM {v} THEN s_{i} END AS d_{i}")
            keep += [f"w_{i}", f"d_{i}"]
        else:
            st.add(11, f"{e}_all AS {e}")
        return keep
    if f.type == "string":
        st.add(2, f"{trim_sql(c)} AS {t}")
        st.add(10, f"{t} AS {v}", f"{error_sql(f, t, v)} AS {e}")
        return [v, e]
    quick = fast_sql(f, c, f"h_{i}") if fast else None
    if quick is None:
        st.add(2, f"{trim_sql(c)} AS {t}")
        st.add(3, f"{norm_sql(f, t)} AS n_{i}")
        st.add(4, f"{parse_sql(f, f'n_{i}', t)} AS x_{i}")
        st.add(5, f"{value_sql(f, f'x_{i}')} AS {v}")
        st.add(10, f"{error_sql(f, t, v)} AS {e}")
        return [v, e]
    st.add(0, *fast_helpers(f, c, f"h_{i}"))
    st.add(1, f"{quick} AS f_{i}")
    st.add(2, f"CASE WHEN f_{i} IS NULL THEN {trim_sql(c)} END AS {t}")
    slow = f"f_{i} IS NULL AND {t} IS NOT NULL"
    st.add(3, f"CASE WHEN {slow} THEN {norm_sql(f, t)} END AS n_{i}")
    st.add(4, f"CASE WHEN {slow} THEN {parse_sql(f, f'n_{i}', t)} END AS x_{i}")
    st.add(5, f"CASE WHEN f_{i} IS NOT NULL THEN f_{i} ELSE {value_sql(f, f'x_{i}')} END AS {v}")
    st.add(
        10, f"CASE WHEN f_{i} IS NOT NULL THEN {range_error_sql(f, v)} ELSE {error_sql(f, t, v)} END AS {e}"
    )
    return [v, e]


def _code_list(rules: tuple[str, ...]) -> list[str]:
    return [str(CODES.index(r)) for r in rules]


def check_sql(sheet: RawSheet, match: HeaderMatch, *, fast: bool = True) -> str:
    """The SELECT that makes the check table: one pass over the sheet's cells.

    For a streamed sheet (CSV) a row's number is its position, so this query must keep the file order:
    projections only, no join (DuckDB turns long ``IN (...)`` lists into joins, so none is used)."""
    ds = match.dataset
    fields = [(ds.field(name), col) for name, col in match.columns.items()]
    soft = _id_is_soft(ds)
    st = _Stages()
    keep: list[str] = []
    for i, (f, col) in enumerate(fields):
        keep += _field_stages(st, i, f, col, soft, fast)
    ok = " AND ".join(f"e_{i} IS NULL" for i in range(len(fields))) or "true"
    st.add(12, f"{ok} AS _ok")
    extra_sql = "NULL::VARCHAR"
    if match.extras:
        pairs = ", ".join(f"{literal(match.labels[c])}, {trim_sql(f'c{c}')}" for c in match.extras)
        extra_sql = f"CASE WHEN _ok THEN CAST(json_object({pairs}) AS VARCHAR) END"
    st.add(13, f"{extra_sql} AS _extra")
    keep += ["_ok", "_extra"]
    if sheet.streamed:
        cells = ", ".join(f"c{j}" for j in range(sheet.width))
        st.add(13, f"CASE WHEN NOT _ok THEN [{cells}] END AS _raw")
        keep += ["_raw", f"{sheet.blank_sql()} AS _blank", f"{sheet.spare_sql()} AS _spare"]
        return st.sql(sheet.source, keep)
    return st.sql(f"(SELECT * FROM {sheet.table} WHERE _row > {match.last_header_row})", ["_row", *keep])


def check(
    con: duckdb.DuckDBPyConnection, sheet: RawSheet, match: HeaderMatch, *, fast: bool = True
) -> Checked:
    """Convert and validate every data row of ``sheet``; count accepted, quarantined and warnings."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    ds = match.dataset
    fields = [(ds.field(name), col) for name, col in match.columns.items()]
    soft = _id_is_soft(ds)
    chk = f"{sheet.table}_chk"
    con.execute(f"CREATE TEMP TABLE {chk}_t AS {check_sql(sheet, match, fast=fast)}")
    if sheet.streamed:
        # rows are numbered by their position in the file: the table keeps every row (blank and header
        # rows too) and the view numbers and filters them
        con.execute(
            f"CREATE TEMP VIEW {chk} AS SELECT rowid + 1 AS _row, * EXCLUDE (_blank, _spare) FROM {chk}_t "
            f"WHERE NOT _blank AND rowid + 1 > {match.last_header_row}"
        )
    else:
        con.execute(f"CREATE TEMP VIEW {chk} AS SELECT * FROM {chk}_t")
    errors = [f"e_{i}" for i in range(len(fields))]
    _mark_numeric_ids(con, sheet, chk, fields, soft)
    seconds["check"] = time.perf_counter() - started
    started = time.perf_counter()
    # one pass: rows, rejected rows and warnings
    warn_cols = [f"w_{i}" for i, (f, _c) in enumerate(fields) if f.type == "id_number" and soft]
    aggregates = ["count(*)", "count(*) FILTER (NOT _ok)"] + [
        f"histogram({w}) FILTER (_ok AND {w} IS NOT NULL)" for w in warn_cols
    ]
    first = con.sql(f"SELECT {', '.join(aggregates)} FROM {chk}").fetchall()[0]
    rows_in, bad = int(first[0]), int(first[1])
    warnings: dict[str, int] = {}
    for hist in first[2:]:
        for number, n in (hist or {}).items():
            name = CODES[int(number)]
            warnings[name] = warnings.get(name, 0) + int(n)
    rule_counts: dict[str, int] = {}
    if fields and bad:
        on = ", ".join(errors)
        for number, n in con.sql(
            f"SELECT code, count(*) FROM (UNPIVOT (SELECT {on} FROM {chk} WHERE NOT _ok) "
            f"ON {on} INTO NAME f VALUE code) GROUP BY code"
        ).fetchall():
            name = CODES[int(number)]
            rule_counts[name] = rule_counts.get(name, 0) + int(n)
    seconds["count"] = time.perf_counter() - started
    started = time.perf_counter()
    dup = _duplicates(con, chk, ds, fields)
    dups = 0
    if dup:
        dups = _one(con, f"SELECT count(*) FROM {dup}")
        rule_counts["duplicate"] = dups
        # a duplicate is rejected: marked in place, so that writing the accepted rows needs no join
        row = "rowid + 1" if sheet.streamed else "_row"
        con.execute(f"UPDATE {chk}_t SET _ok = false WHERE {row} IN (SELECT _row FROM {dup})")
        if sheet.streamed:
            cells = ", ".join(f"c{j}" for j in range(sheet.width))
            con.execute(
                f"CREATE TEMP TABLE {chk}_dupraw AS SELECT _row, [{cells}] AS _raw "
                f"FROM ({sheet.rows_sql(f'SELECT _row FROM {dup}')})"
            )
    # the rejected rows gathered into a table of their own: a filtered scan of the check table hands
    # them on a few at a time (a handful per vector of 2,048 rows), and the quarantine's many message
    # expressions, evaluated once per vector, then cost far more than on compact vectors
    con.execute(f"CREATE TEMP TABLE {chk}_rej AS SELECT * FROM {chk} WHERE NOT _ok")
    seconds["duplicates"] = time.perf_counter() - started
    return Checked(sheet, match, chk, dup, rows_in, bad + dups, warnings, rule_counts, seconds)


def spare_used(con: duckdb.DuckDBPyConnection, checked: Checked) -> int | None:
    """For a CSV file: the index of the last column beyond the header's width that holds a cell, or
    None (rows further down may be wider than the first rows)."""
    if not checked.sheet.streamed:
        return None
    found = con.sql(f"SELECT max(_spare) FROM {checked.chk}_t").fetchall()[0][0]
    return None if found is None else int(found)


def _mark_numeric_ids(
    con: duckdb.DuckDBPyConnection, sheet: RawSheet, chk: str, fields: list, soft: bool
) -> None:
    """Reject the rows whose ID-number (or bank account) cell was stored as a number (xlsx): its last
    digits are lost.
    Done in place after the check, so that the check itself has no join (joins lose the file order)."""
    numeric = sheet.numeric_rows([col for f, col in fields if f.type == "id_number" or f.digit_id])
    for i, (f, col) in enumerate(fields):
        rows = numeric.get(col)
        if not (f.type == "id_number" or f.digit_id) or rows is None or not len(rows):
            continue
        name = f"{sheet.table}_num{i}"
        con.register(f"{name}_arrow", pa.table({"_row": pa.array(rows, pa.int64())}))
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")
        warning = f", w_{i} = NULL" if soft and f.type == "id_number" else ""
        rule = code("id_scientific_notation") if f.type == "id_number" else code("digits_lost")
        con.execute(
            f"UPDATE {chk}_t SET e_{i} = {rule}{warning}, _ok = false "
            f"WHERE _row IN (SELECT _row FROM {name})"
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.sql(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _duplicates(con: duckdb.DuckDBPyConnection, chk: str, ds: Dataset, fields: list) -> str | None:
    """Rows (among those that broke no rule) whose key repeats an earlier one: one GROUP BY finds the
    repeated keys, a join with that small table finds their later rows."""
    index = {f.name: i for i, (f, _c) in enumerate(fields)}
    if not all(k in index for k in ds.key):
        return None
    keys = [f"v_{index[k]}" for k in ds.key]
    repeated = f"{chk}_dupkeys"
    con.execute(
        f"CREATE TEMP TABLE {repeated} AS SELECT {', '.join(keys)}, min(_row) AS first FROM {chk} "
        f"WHERE _ok GROUP BY ALL HAVING count(*) > 1"
    )
    if _one(con, f"SELECT count(*) FROM {repeated}") == 0:
        return None
    dup = f"{chk}_dup"
    on = " AND ".join(f"c.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
    con.execute(
        f"CREATE TEMP TABLE {dup} AS SELECT c._row, d.first FROM {chk} c JOIN {repeated} d ON {on} "
        f"WHERE c._ok AND c._row > d.first ORDER BY c._row"
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
        i = index.get("id_number")
        raw = f"coalesce(d_{i}, v_{i})" if i is not None else "NULL"
        cols.append(f"CAST({raw} AS VARCHAR) AS id_number_raw")
    cols += [
        "_extra",
        f"{literal(import_id)} AS _import_id",
        "CAST(_row AS BIGINT) AS _row",
        f"{literal(period)} AS _period",
    ]
    # the check table is in file order (insertion order is preserved, the check has no join) and
    # duplicates are marked in it, so no sort and no join is needed
    return f"SELECT {', '.join(cols)} FROM {checked.chk} WHERE _ok"


_TYPE_RULES = {
    "string": ("too_long", "digits_lost"),
    "enum": ("enum",),
    "int": ("integer", "range"),
    "decimal": ("number", "range"),
    "date": ("date",),
    "month": ("month",),
    "bool": ("bool",),
    "region_code": ("region_code",),
    "id_number": tuple(c for c in CODES if c.startswith("id_")),
}


def _rules_of(f: Field) -> tuple[str, ...]:
    """The rules a field of this type can break (the quarantine's messages need no others)."""
    return ("required", *_TYPE_RULES.get(f.type, ()))


def _message_case(number: str, messages: dict[str, tuple[str, str]], lang: int) -> str:
    whens = " ".join(f"WHEN {CODES.index(c)} THEN {literal(m[lang])}" for c, m in messages.items())
    return f"CASE {number} {whens} ELSE {code_name_sql(number)} END"


def quarantine_sql(checked: Checked, file_name: str) -> str:
    """SELECT of the rejected rows: original cells as text under their original headers, then
    ``错误原因`` (Chinese), ``_reasons_en``, ``_reasons`` (JSON list), ``_row``, ``_file``, ``_sheet``."""
    match = checked.match
    ds = match.dataset
    sheet = checked.sheet
    fields = [(ds.field(name), col) for name, col in match.columns.items()]

    def original(c: int) -> str:
        return f"k._cells[{c + 1}]" if sheet.streamed else f"r.c{c}"

    # the value each reason shows is computed once per rejected row (columns s_i), not once per use
    zh_parts, en_parts, structs, shown_cols = [], [], [], []
    for i, (f, col) in enumerate(fields):
        params = rule_params(f, ds)
        messages = {}
        for rule, (zh, en) in RULES.items():
            if rule not in _rules_of(f):
                continue
            try:
                messages[rule] = (zh.format(**params), en.format(**params))
            except (KeyError, IndexError):
                continue
        label = match.labels[col]
        text = trim_sql(original(col))
        shown_cols.append(
            f"coalesce({f'jz_mask({text})' if f.type == 'id_number' or f.pii else text}, '') AS s_{i}"
        )
        shown = f"k.s_{i}"
        zh_parts.append(
            f"CASE WHEN e_{i} IS NOT NULL THEN {literal(label + '「')} || {shown} || '」：' || "
            f"{_message_case(f'e_{i}', messages, 0)} END"
        )
        en_parts.append(
            f"CASE WHEN e_{i} IS NOT NULL THEN {literal(f.en + ' (' + label + ') ')} || '\"' || {shown} "
            "|| '\": ' || "
            f"{_message_case(f'e_{i}', messages, 1)} END"
        )
        structs.append(
            f"CASE WHEN e_{i} IS NOT NULL THEN {{'field': {literal(f.name)}, 'header': {literal(label)}, "
            f"'value': {shown}, 'rule': {code_name_sql(f'e_{i}')}, 'first_row': NULL::BIGINT}} END"
        )
    if checked.dup:
        key_labels = "、".join(match.labels[match.columns[k]] for k in ds.key)
        key_en = ", ".join(ds.key)
        zh_parts.append(
            f"CASE WHEN k.first IS NOT NULL THEN '与第 ' || k.first || ' 行重复（{key_labels}）' END"
        )
        en_parts.append(
            f"CASE WHEN k.first IS NOT NULL THEN 'duplicate of row ' || k.first || ' ({key_en})' END"
        )
        structs.append(
            f"CASE WHEN k.first IS NOT NULL THEN {{'field': {literal(ds.key[0])}, 'header': {literal(key_labels)}, "
            f"'value': NULL::VARCHAR, 'rule': 'duplicate', 'first_row': k.first}} END"
        )
    originals = []
    seen: dict[str, int] = {}
    for c, label in enumerate(match.labels):
        name = label
        if name in seen or name in ("错误原因", "_row", "_file", "_sheet", "_reasons", "_reasons_en"):
            seen[name] = seen.get(name, 1) + 1
            name = f"{label}_{seen[name]}"
        seen.setdefault(name, 1)
        shown_cols.append(f"{original(c)} AS o_{c}")
        originals.append(f'k.o_{c} AS "{name.replace(chr(34), "")}"')
    dup_join = (
        f"LEFT JOIN {checked.dup} d ON d._row = k._row"
        if checked.dup
        else "LEFT JOIN (SELECT NULL::BIGINT AS _row, NULL::BIGINT AS first) d ON false"
    )
    # the few rejected rows first, then the joins that describe them
    rejected = f"{checked.chk}_rej"
    if sheet.streamed:
        dupraw = f"LEFT JOIN {checked.chk}_dupraw dr ON dr._row = k._row" if checked.dup else ""
        cells = "coalesce(k._raw, dr._raw)" if checked.dup else "k._raw"
        rows = f"(SELECT k.*, {cells} AS _cells FROM {rejected} k {dupraw}) k"
    else:
        rows = f"{rejected} k JOIN {sheet.table} r ON r._row = k._row"
    source = f"FROM (SELECT k.*, d.first, {', '.join(shown_cols)} FROM {rows} {dup_join}) k"
    prefix = "'第 ' || k._row || ' 行：'"
    zh = f"{prefix} || concat_ws('；', {', '.join(zh_parts)})" if zh_parts else prefix
    en = f"'row ' || k._row || ': ' || concat_ws('; ', {', '.join(en_parts)})" if en_parts else "''"
    reasons = f"to_json(list_filter([{', '.join(structs)}], lambda x: x IS NOT NULL))" if structs else "'[]'"
    return (
        f"SELECT {', '.join(originals)}, {zh} AS 错误原因, {en} AS _reasons_en, "
        f"CAST({reasons} AS VARCHAR) AS _reasons, CAST(k._row AS BIGINT) AS _row, {literal(file_name)} AS _file, "
        f"{literal(sheet.sheet or '')} AS _sheet "
        f"{source} ORDER BY k._row"
    )
