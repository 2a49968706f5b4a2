"""Each kind of conflict (数据打架) is found on a planted case, and clean data gives none."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from jingzhun.link.conflicts import CONFLICT_SCHEMA, find_conflicts

D = dt.date


def _members() -> pa.Table:
    rows = [
        # person, household, name, id, relation, school, disability, labour
        ("P1", "H1", "张伟", "11010519491231002X", "户主", "非在校生", None, "普通劳动力"),
        ("P2", "H1", "张小明", "520322201003150017", "之子", "小学", None, "无劳动力"),
        ("P3", "H2", "李娜", "440524188001010014", "户主", "非在校生", "二级", "丧失劳动力"),
        ("P4", "H3", "王芳", "520322198003150023", "户主", "非在校生", None, "普通劳动力"),
        ("P5", "H3", "王强", "520322197512300011", "配偶", "非在校生", None, "技能劳动力"),
        ("P6", "H3", "王丽", "520322200805060028", "之女", "初中", None, "无劳动力"),
        ("P7", "H4", "赵军", "520322197512300011", "户主", "非在校生", None, "普通劳动力"),  # P5's number
        ("P8", "H5", "陈静", "520322196001010026", "户主", "非在校生", None, "弱劳动力或半劳动力"),
        ("P9", "H5", "陈红", "520322201501010047", "之女", "非在校生", None, "无劳动力"),
    ]
    cols = [
        "person_id",
        "household_id",
        "name",
        "id_number",
        "relation",
        "school_status",
        "disability_grade",
        "labour_capacity",
    ]
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})


HOUSEHOLDS = pa.table(
    {
        "household_id": ["H1", "H2", "H3", "H4", "H5"],
        "risk_type": [None, "因残", "缺劳动力", None, "缺劳动力"],
    }
)


@pytest.fixture()
def con():
    c = duckdb.connect()
    c.register("member", _members())
    c.register("household", HOUSEHOLDS)
    c.register(
        "civil_registry",
        pa.table(
            {
                "record_id": ["C1", "C2"],
                "person_id": ["P1", "P8"],
                "id_number": [None, None],
                "event": ["死亡", "迁入"],
                "event_date": [D(2026, 3, 2), D(2026, 3, 5)],
            }
        ),
    )
    c.register(
        "medical_claim",
        pa.table(
            {
                "record_id": ["M1", "M2", "M3", "M4"],
                "person_id": ["P4", "P4", "P3", "P3"],
                "insurance_type": ["城乡居民医保", "职工医保", "城乡居民医保", "城乡居民医保"],
                "claim_date": [D(2026, 1, 5), D(2026, 2, 7), D(2026, 1, 1), D(2026, 2, 1)],
            }
        ),
    )
    c.register(
        "disability_cert",
        pa.table(
            {
                "record_id": ["D1", "D2"],
                "person_id": ["P3", "P3"],
                "disability_grade": ["三级", "一级"],
                "cert_status": ["新办", "等级变更"],
                "issue_date": [D(2020, 1, 1), D(2026, 2, 1)],
            }
        ),
    )
    # enrolment feed without person_id: joined on the ID number (full-width/15-digit tolerated)
    c.register(
        "enrolment",
        pa.table(
            {
                "record_id": ["E1", "E2", "E3"],
                "id_number": ["520322201003150017", "520322200805060028", "520322201501010047"],
                "stage": ["小学", "初中", "小学"],
                "status": ["辍学", "在读", "在读"],
                "status_date": [D(2026, 3, 1), D(2026, 3, 1), D(2026, 3, 1)],
            }
        ),
    )
    yield c
    c.close()


def test_every_kind_is_found_with_both_sides(con):
    table = find_conflicts(
        con,
        "member",
        "household",
        civil_registry="civil_registry",
        medical_claim="medical_claim",
        disability_cert="disability_cert",
        enrolment="enrolment",
    )
    assert table.schema == CONFLICT_SCHEMA
    rows = table.to_pylist()
    got = {(r["conflict_type"], r["person_id"]) for r in rows}
    assert got == {
        ("dead_still_listed", "P1"),
        ("id_on_two_households", "P5"),
        ("id_on_two_households", "P7"),
        ("dual_medical_insurance", "P4"),
        ("disability_grade_mismatch", "P3"),
        ("lack_labour_but_able", "P4"),  # H3: 2 of 3 can work; H5 (1 of 2 weak) is fine
        ("school_status_mismatch", "P2"),  # registry 小学, enrolment 辍学
        ("school_status_mismatch", "P9"),  # registry 非在校生, enrolment 在读
    }
    by = {(r["conflict_type"], r["person_id"]): r for r in rows}
    dead = by[("dead_still_listed", "P1")]
    assert (dead["source_a"], dead["value_a"], dead["source_b"], dead["value_b"]) == (
        "公安",
        "死亡 2026-03-02",
        "建档立卡",
        "在册",
    )
    grade = by[("disability_grade_mismatch", "P3")]
    assert (grade["value_a"], grade["value_b"]) == ("二级", "一级")  # the latest certificate counts
    dup = by[("id_on_two_households", "P5")]
    assert dup["value_b"] == "H3, H4" and "520322197512300011" not in dup["detail_zh"]
    assert "职工医保" in by[("dual_medical_insurance", "P4")]["detail_zh"]
    assert all(r["detail_zh"] for r in rows)


def test_no_feeds_gives_only_registry_checks(con):
    types = set(find_conflicts(con, "member", "household").column("conflict_type").to_pylist())
    assert types == {"id_on_two_households", "lack_labour_but_able"}


def test_clean_data_has_no_conflicts():
    c = duckdb.connect()
    c.register("member", _members().filter(pa.compute.field("person_id").isin(["P3", "P8", "P9"])))
    c.register("household", HOUSEHOLDS)
    assert find_conflicts(c, "member", "household").num_rows == 0
