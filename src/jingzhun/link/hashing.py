"""Keyed hashes of ID numbers (数据可用不可见): HMAC-SHA256, hex digests.

A department replaces the normalised ID numbers of its extract with ``HMAC(key, id_number)`` before the
file leaves the building; the county hashes its own registry with the same key and links on digests.
Digests are computed once per distinct value with :func:`hmac.digest` (OpenSSL), then mapped back onto the
column with Arrow (no per-row Python work beyond the distinct values).

>>> key = bytes(range(32))
>>> hmac_hex(key, ["11010519491231002X", None]).to_pylist()[0][:16]
'a66755453b106dce'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.errors import ConfigError, Location

KEY_BYTES = 32


def new_key_file(path: str | Path) -> Path:
    """Write a new random 256-bit key (hex) to ``path`` with permissions 0600; refuse to overwrite."""
    path = Path(path)
    if path.exists():
        raise ConfigError(
            "key file already exists; refusing to overwrite it",
            Location(file=str(path)),
            hint="choose another name, or delete the old key deliberately after rotation",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES) + "\n")
    os.chmod(path, 0o600)
    return path


def read_key_file(path: str | Path) -> bytes:
    """Read a key written by :func:`new_key_file` (64 hex characters)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigError("key file not found", Location(file=str(path))) from None
    except UnicodeDecodeError:
        raise ConfigError("key file is not hex text", Location(file=str(path))) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ConfigError("key file must hold 64 hexadecimal characters", Location(file=str(path))) from None
    if len(key) < 16:
        raise ConfigError("key is too short (at least 128 bits)", Location(file=str(path)))
    return key


def hmac_sql(expr: str, key: bytes) -> tuple[str, dict[str, bytes]]:
    """A DuckDB expression computing HMAC-SHA256 (RFC 2104) of the VARCHAR ``expr`` as hex, from two
    SHA-256 passes, and its parameters (the padded key blocks; the key never appears in the SQL text).

    >>> import duckdb
    >>> sql, params = hmac_sql("v", bytes(range(32)))
    >>> query = f"SELECT {sql} FROM (VALUES ('11010519491231002X')) t(v)"
    >>> duckdb.execute(query, params).fetchall()[0][0][:16]
    'a66755453b106dce'
    """
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in block)
    opad = bytes(b ^ 0x5C for b in block)
    inner = f"unhex(sha256($jz_ipad || encode({expr})))"
    sql = f"CASE WHEN ({expr}) IS NOT NULL THEN sha256($jz_opad || {inner}) END"
    return sql, {"jz_ipad": ipad, "jz_opad": opad}


def key_pads(key: bytes) -> pa.Table:
    """One row (ipad, opad): the key's padded blocks, registered as a relation so that
    :func:`hmac_expr` computes digests on any engine without the key appearing in SQL text."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return pa.table({"ipad": pa.array([bytes(b ^ 0x36 for b in block)], pa.binary()),
                     "opad": pa.array([bytes(b ^ 0x5C for b in block)], pa.binary())})


def hmac_expr(expr: str, pads: str) -> str:
    """Engine-neutral SQL for the hex HMAC-SHA256 of the VARCHAR ``expr``, reading the key's blocks from
    the columns of relation alias ``pads`` (:func:`key_pads`).

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.register("k", key_pads(bytes(range(32))))
    >>> con.sql(f"SELECT {hmac_expr('v', 'k')} FROM (VALUES ('11010519491231002X')) t(v), k").fetchall()[0][0][:16]
    'a66755453b106dce'
    """
    inner = f"unhex(sha256({pads}.ipad || encode({expr})))"
    return f"CASE WHEN ({expr}) IS NOT NULL THEN sha256({pads}.opad || {inner}) END"


def hmac_hex(key: bytes, values: pa.Array | pa.ChunkedArray | list[str | None]) -> pa.Array:
    """HMAC-SHA256 hex digest of every non-null value (NULL stays NULL), computed over distinct values."""
    arr = pa.chunked_array([pa.array(values, pa.string())]) if isinstance(values, list) else values
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.string())
    encoded = pc.dictionary_encode(arr)
    uniques = encoded.dictionary.to_pylist()
    digests = pa.array([hmac.digest(key, u.encode("utf-8"), "sha256").hex() for u in uniques], pa.string())
    return pc.take(digests, encoded.indices)


def id_columns(names: list[str]) -> list[str]:
    """Columns holding ID numbers, recognised by the catalogue's headers (and ``id_number_raw``).

    >>> id_columns(["记录编号", "身份证号", "姓名", "id_number_raw"])
    ['身份证号', 'id_number_raw']
    """
    from jingzhun.catalog import DATASETS

    headers = set(DATASETS["member"].field("id_number").headers())
    headers |= set(DATASETS["medical_claim"].field("id_number").headers())
    headers |= {"id_number_raw", "证件号码原文"}
    return [n for n in names if n.strip() in headers]


def hash_table(
    table: pa.Table, key: bytes, columns: list[str] | None = None
) -> tuple[pa.Table, dict[str, int]]:
    """Replace each ID column by the HMAC digest of its normalised value (15-digit numbers upgraded,
    full-width and lower-case x fixed, so every spelling of one number gets one digest); NULL and empty
    stay NULL. Returns the new table and counts (rows, distinct values hashed)."""
    import duckdb

    from jingzhun.ids.sql import install_macros

    cols = columns if columns is not None else id_columns(table.column_names)
    if not cols:
        raise ConfigError(
            "no ID number column found (headers such as 证件号码, 身份证号, id_number)",
            hint="name the columns with --column",
        )
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise ConfigError(f"column(s) {missing} not in the file; columns: {', '.join(table.column_names)}")
    con = duckdb.connect()
    install_macros(con)
    distinct = 0
    for name in cols:
        con.register("src", pa.table({"v": table.column(name).cast(pa.string())}))
        normalised = con.sql(
            "SELECT coalesce(jz_id_upgrade(v), nullif(jz_id_normalise(v), '')) AS v FROM src"
        ).to_arrow_table()
        con.unregister("src")
        column = normalised.column(0).combine_chunks()
        uniques = pa.table({"n": pc.unique(column.drop_null())})
        con.register("uniq", uniques)
        digest, params = hmac_sql("n", key)
        mapped = con.sql(f"SELECT n, {digest} AS h FROM uniq", params=params).to_arrow_table()
        con.unregister("uniq")
        distinct += uniques.num_rows
        hashed = pc.take(mapped.column("h"), pc.index_in(column, value_set=mapped.column("n")))
        table = table.set_column(table.column_names.index(name), name, hashed)
    con.close()
    return table, {"rows": table.num_rows, "distinct_hashed": distinct}
