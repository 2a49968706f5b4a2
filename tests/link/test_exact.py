"""Exact linkage on normalised ID numbers."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from conftest import config
from jingzhun.link import link_feed

MEMBERS = pa.table(
    {
        "person_id": ["P1", "P2", "P3", "P4", "P5"],
        "household_id": ["H1", "H1", "H2", "H3", "H4"],
        "name": ["张伟", "李娜", "王芳", "赵强", "陈静"],
        "id_number": [
            "11010519491231002X",
            "440524188001010014",
            "520322198003150023",
            "520322197512300011",
            "520322197512300011",
        ],  # P4 and P5 share a number (two households)
        "sex": ["女", "男", "女", "男", "女"],
        "birth_date": [None, None, None, None, None],
        "village_code": ["520322100201"] * 5,
        "phone": [None] * 5,
    }
)


def _feed(ids: list[str | None]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "record_id": [f"R{i}" for i in range(n)],
            "id_number": ids,
            "id_number_raw": ids,
            "name": ["某某"] * n,
            "sex": [None] * n,
            "birth_date": pa.nulls(n, pa.date32()),
            "region_code": [None] * n,
            "phone": [None] * n,
        }
    )


def _link(records: pa.Table) -> list[dict]:
    con = duckdb.connect()
    con.register("m", MEMBERS)
    con.register("f", records)
    return link_feed(con, "m", "f", config(probabilistic={"enabled": False})).to_pylist()


def test_variants_of_one_number_link_exactly():
    rows = _link(
        _feed(
            [
                "110105491231002",  # old 15 digits
                "11010519491231002x",  # lower-case x
                "１１０１０５１９４９１２３１００２Ｘ",  # full-width
                " 110105 19491231 002X ",  # spaces
                "440524188001010014",
            ]
        )
    )
    assert [
        (r["record_id"], r["person_id"], r["household_id"], r["method"], r["band"], r["score"]) for r in rows
    ] == [
        ("R0", "P1", "H1", "exact", "accepted", 1.0),
        ("R1", "P1", "H1", "exact", "accepted", 1.0),
        ("R2", "P1", "H1", "exact", "accepted", 1.0),
        ("R3", "P1", "H1", "exact", "accepted", 1.0),
        ("R4", "P2", "H1", "exact", "accepted", 1.0),
    ]


def test_unknown_and_missing_numbers_stay_unlinked():
    rows = _link(_feed(["520322198003150031", None, "not a number"]))
    assert [(r["person_id"], r["band"], r["method"]) for r in rows] == [(None, "unlinked", None)] * 3


def test_number_on_two_people_goes_to_review_not_to_a_guess():
    rows = _link(_feed(["520322197512300011"]))
    assert rows[0]["person_id"] is None
    assert rows[0]["band"] == "review"
    assert rows[0]["method"] == "exact"
    assert rows[0]["candidate_person_id"] in {"P4", "P5"}


def test_output_is_ordered_and_deterministic():
    ids = ["440524188001010014", "110105491231002", None]
    records = _feed(ids).take([2, 0, 1])
    first, second = _link(records), _link(records)
    assert first == second
    assert [r["record_id"] for r in first] == sorted(r["record_id"] for r in first)


def test_vectorised_validity_agrees_with_the_reference_checker():
    from jingzhun import ids
    from jingzhun.link import sql as q
    from jingzhun.link.frames import valid_sql

    samples = [
        "11010519491231002X",
        "110105194912310021",
        "990105194912310021",
        "110105194913310021",
        "110105491231002",
        "520322201509192325",
        "520322201509192326",
        "110000194912310028",
        "11010528491231002X",
        "440524188001010014",
    ]
    con = duckdb.connect()
    con.register("s", pa.table({"v": samples}))
    upgraded = f"SELECT {q.id_upgrade_normalised('n')} AS u FROM (SELECT {q.id_normalised_or_self('v')} AS n FROM s)"
    got = con.sql(f"SELECT {valid_sql('u')} FROM ({upgraded})").fetchall()
    assert [g[0] for g in got] == [ids.is_valid(v) for v in samples]
