"""The SQL conversions agree with the pure-Python references on many random inputs."""

from __future__ import annotations

import random

import duckdb
from tests.ingest.helpers import valid_id

from jingzhun.catalog import DATASETS
from jingzhun.ids import check
from jingzhun.ingest.coerce import id_key_sql, id_reason_sql, install, norm_sql, parse_sql


def _random_ids(n: int) -> list[str]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        base = valid_id(
            rng.randrange(1000),
            birth=f"{rng.randrange(1900, 2030)}{rng.randrange(1, 13):02d}{rng.randrange(1, 32):02d}",
            area=rng.choice(["110105", "520102", "990101", "110000"]),
        )
        kind = rng.randrange(8)
        if kind == 0:
            base = base[: rng.randrange(18)] + str(rng.randrange(10)) + base[rng.randrange(18) + 1 :]
        elif kind == 1:
            base = base[:6] + base[8:17]  # 15 digits
        elif kind == 2:
            base = base[:17] + rng.choice("X0123456789")
        elif kind == 3:
            base = base.lower().replace("x", "x") + rng.choice(["", " ", "x"])
        elif kind == 4:
            base = f"{rng.random() * 1e18:.5E}"
        elif kind == 5:
            base = base[:8] + "1399" + base[12:]  # impossible month
        out.append(base)
    return out


def test_fast_id_reason_matches_python_check() -> None:
    ids = _random_ids(4000)
    con = duckdb.connect()
    install(con)
    f = DATASETS["member"].field("id_number")
    con.execute("CREATE TABLE t AS SELECT unnest($1) AS t", [ids])
    # reference: jz_id_reason(t), staged as jz_id_reason_nu over columns (the one-call form plans slowly)
    got = con.sql(
        f"SELECT t, r, jz_id_reason_nu(t, n2, u2) FROM ("
        f"SELECT *, {id_reason_sql('t', 'n', 'x', 'k')} AS r, jz_id_upgrade_n(n2) AS u2 FROM ("
        f"SELECT *, {parse_sql(f, 'n', 't')} AS x, {id_key_sql('n')} AS k FROM ("
        f"SELECT t, {norm_sql(f, 't')} AS n, jz_id_normalise(t) AS n2 FROM t)))"
    ).fetchall()
    assert len(got) == len(ids)
    # the fast path answers exactly like the jz_id_reason macro ...
    assert [(t, r) for t, r, ref in got if r != ref] == []
    # ... and like the Python check for every 18-character number (for 15-digit numbers with a zero area
    # the macro says area_code where Python says birth_date: both reject the number)
    assert [(t, r) for t, r, _ in got if len(t) == 18 and r != check(t).reason] == []
    assert {r for _t, r, _ in got} >= {None, "check_digit", "area_code", "birth_date", "length"}
